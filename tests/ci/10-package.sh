#!/bin/sh
# CI stage: the packages as an operator meets them.  Run from the top of the
# configured, built tree, as root, on Debian 12 without systemd as PID 1.
#
#  1. make deb; lintian (errors fail the stage); dpkg -i: a system user, the
#     annotated config as a conffile, unit and SysV script registered, and
#     no server started (no user yet).
#  2. In the lab: a user added with the packaged tunneld-passwd; the packaged
#     SysV script starts the packaged daemon in the server namespace on the
#     shipped config (a copy, changed only in control.socket and
#     log.destination, named by CONFIG= in /etc/default/tunneld).  With no
#     certificate configured it makes a self-signed one and logs its pin;
#     openconnect with that pin (parsed from the log) connects and pings the
#     LAN, with a wrong pin it is refused; reload keeps the tunnel; stop.
#
#       client c1 ----br0---- [server ns: /etc/init.d/tunneld start,
#       client c2 (wrong pin)   0.0.0.0:443, tunneld0]  ---- lan 198.18.1.2
#
#  3. dpkg --purge: no file of the package, no /etc/tunneld, no
#     /var/lib/tunneld, no user or group, no process left.
#  4. make rpm; rpm -qlp lists the program, the unit and the %config file.
#  5. make distcheck (the tarball builds out of tree, installs, uninstalls
#     cleanly; the inner check runs DISTCHECK_TESTS, see below).
# On any failure the lab trap stops the server and purges the package.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail

TOP=$(pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export top_builddir=$TOP top_srcdir=$SRC
T0=$(date +%s)
step() { echo "== 10-package: $* ($(($(date +%s) - T0)) s)"; }
passes=0
fail() {
	echo "FAIL: $*" >&2
	echo "$passes passed, 1 failed"
	if [ -n "${LOG:-}" ] && [ -f "$LOG" ]; then
		echo "---- tunneld log (tail) ----" >&2
		tail -n 40 "$LOG" >&2
	fi
	exit 1
}
pass() {
	echo "PASS: $*"
	passes=$((passes + 1))
}
# installed, config-files, not-installed, ...
pkg_state() { dpkg-query -W -f='${db:Status-Status}' tunneld 2>/dev/null || echo not-installed; }
# Processes of the packaged binary, sorted.  The stage judges only the ones
# that were not there before it installed the package: any other tunneld
# on the machine (another tree's tests, an operator's) is none of its
# business.
pkg_pids() {
	local p
	for p in /proc/[0-9]*; do
		case $(readlink "$p/exe" 2>/dev/null) in /usr/sbin/tunneld*) echo "${p#/proc/}" ;; esac
	done | sort
}
# The packaged processes started since PKG_BEFORE was taken.
pkg_new_pids() { pkg_pids | comm -13 <(printf '%s\n' "$PKG_BEFORE" | sort) - | tr '\n' ' '; }

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the package stage installs packages: run it as root"
	exit 0
fi
for t in dpkg-buildpackage dh lintian rpmbuild start-stop-daemon openconnect certtool; do
	command -v "$t" >/dev/null 2>&1 || fail "$t not found (sh tools/install-deps.sh)"
done
# The stage installs and purges "tunneld": never over an operator's copy.
if [ "$(pkg_state)" != not-installed ]; then
	fail "a tunneld package is installed already; purge it first (dpkg --purge tunneld)"
fi
for p in /etc/tunneld /var/lib/tunneld /etc/default/tunneld; do
	[ ! -e "$p" ] || fail "$p exists before the package is installed"
done
! getent passwd tunneld >/dev/null || fail "a user tunneld exists before the package is installed"

VERSION=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
ARCH=$(dpkg --print-architecture)
DEB=$TOP/tunneld_${VERSION}_${ARCH}.deb

# 1. Build, lint, install ----------------------------------------------------
step "make deb"
timeout 1200 make deb >"$TOP/pkg-deb.log" 2>&1 || {
	tail -n 60 "$TOP/pkg-deb.log"
	fail "make deb"
}
[ -f "$DEB" ] || fail "make deb made no $DEB"
pass "make deb: $(basename "$DEB"), $(stat -c %s "$DEB") bytes"

step "lintian"
lintian --fail-on error -I "$DEB" >"$TOP/pkg-lintian.log" 2>&1 || {
	cat "$TOP/pkg-lintian.log"
	fail "lintian reports errors"
}
cat "$TOP/pkg-lintian.log"
pass "lintian: no errors ($(grep -c '^W:' "$TOP/pkg-lintian.log" || true) warnings, $(grep -c '^I:' "$TOP/pkg-lintian.log" || true) infos)"

# Everything below is undone by the lab's trap, also on failure.
. "$SRC/tests/e2e/lib/lib.sh"
LAB_PORT=443 # the shipped listen address, 0.0.0.0:443, in the server namespace
lab_init package
pkg_cleanup() {
	if [ -x /etc/init.d/tunneld ]; then /etc/init.d/tunneld stop; fi
	if [ "$(pkg_state)" != not-installed ]; then dpkg --purge tunneld; fi
}
lab_on_cleanup pkg_cleanup

step "install"
PKG_BEFORE=$(pkg_pids)
export DEBIAN_FRONTEND=noninteractive
dpkg -i "$DEB" >"$LAB_DIR/install.out" 2>&1 || apt-get -f install -y -q >>"$LAB_DIR/install.out" 2>&1 ||
	fail "dpkg -i: $(cat "$LAB_DIR/install.out")"
[ "$(dpkg-query -W -f='${Status}' tunneld)" = "install ok installed" ] ||
	fail "not installed: $(cat "$LAB_DIR/install.out")"
dpkg -L tunneld | sort >"$LAB_DIR/files"
getent passwd tunneld | grep -q '^tunneld:x:[0-9]*:[0-9]*:[^:]*:/nonexistent:/usr/sbin/nologin$' ||
	fail "user tunneld: $(getent passwd tunneld)"
getent group tunneld >/dev/null || fail "no group tunneld"
[ "$(id -gn tunneld)" = tunneld ] || fail "tunneld's group is $(id -gn tunneld)"
dpkg-query -W -f='${Conffiles}\n' tunneld | grep -q '^ /etc/tunneld/tunneld.conf ' ||
	fail "tunneld.conf is no conffile"
for f in /usr/sbin/tunneld /usr/sbin/tunnelctl /usr/sbin/tunneld-passwd /etc/init.d/tunneld \
	/lib/systemd/system/tunneld.service /usr/lib/sysusers.d/tunneld.conf /etc/default/tunneld \
	/usr/share/man/man5/tunneld.conf.5.gz /usr/share/man/man8/tunneld.8.gz; do
	grep -qx "$f" "$LAB_DIR/files" || fail "$f is not in the package"
done
ls /etc/rc2.d/S*tunneld >/dev/null 2>&1 || fail "the SysV script is not registered (rc2.d)"
grep -q 'not started' "$LAB_DIR/install.out" || fail "install: no word that the server is not started"
new=$(pkg_new_pids)
[ -z "$new" ] || fail "installation started a server: $new"
out=$(/usr/sbin/tunneld -t 2>&1) || fail "tunneld -t on the shipped config: $out"
case $out in *"first start makes a self-signed one"*) ;; *) fail "tunneld -t: $out" ;; esac
[ ! -e /var/lib/tunneld ] || fail "tunneld -t wrote /var/lib/tunneld"
sed 's/^/  | /' "$LAB_DIR/install.out"
pass "installed: user and group tunneld, conffile, unit, SysV script registered, no server started"

# 2. The packaged daemon in the lab -----------------------------------------
step "lab"
printf 'alice-pass\n' | /usr/sbin/tunneld-passwd -f /etc/tunneld/passwd alice >/dev/null ||
	fail "tunneld-passwd"
[ "$(stat -c '%a %U' /etc/tunneld/passwd)" = "600 root" ] || fail "passwd: $(stat -c '%a %U' /etc/tunneld/passwd)"
CONF=$LAB_DIR/tunneld.conf
LOG=$LAB_DIR/tunneld.log
# The lab already uses the shipped addresses (0.0.0.0:443, 198.18.100.0/24,
# fd00:100::/64); the test gets its own control socket, and a log file
# since nothing here reads syslog.
sed -e "s|^\t#socket = \"/run/tunneld/control.sock\";|\tsocket = \"$LAB_DIR/control.sock\";|" \
	-e "s|^\tdestination = \"auto\";|\tdestination = \"$LOG\";|" /etc/tunneld/tunneld.conf >"$CONF"
[ "$(diff /etc/tunneld/tunneld.conf "$CONF" | grep -c '^>')" = 2 ] ||
	fail "the config copy should differ in two lines: $(diff /etc/tunneld/tunneld.conf "$CONF")"
echo "CONFIG=$CONF" >>/etc/default/tunneld
initd() { # initd ACTION: the packaged SysV script in the server namespace
	lab_srv /etc/init.d/tunneld "$1" >"$LAB_DIR/initd.out" 2>&1
}
log_count() { grep -cF -- "$1" "$LOG" 2>/dev/null || true; }
log_wait() { # log_wait TEXT COUNT [TIMEOUT=15]
	local deadline=$(($(lab__now_ms) + ${3:-15} * 1000))
	while [ "$(log_count "$1")" -lt "$2" ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || return 1
		sleep 0.1
	done
}

initd start || fail "init start: $(cat "$LAB_DIR/initd.out")"
PID=$(cat /run/tunneld.pid)
lab_alive "$PID" || fail "no server after start"
[ "$(readlink "/proc/$PID/exe")" = /usr/sbin/tunneld ] || fail "pid $PID is not /usr/sbin/tunneld"
log_wait 'master: info: ready:' 1 || fail "no ready line"
log_count 'made a self-signed certificate /var/lib/tunneld/server-cert.pem' | grep -qx 1 ||
	fail "no word of the self-signed certificate"
PIN=$(grep -o 'TLS certificate /var/lib/tunneld/server-cert.pem: pin-sha256:[A-Za-z0-9+/=]*' "$LOG" |
	head -n 1 | sed 's/.*: //')
[ ${#PIN} = 55 ] || fail "no pin in the log: '$PIN'"
grep -qF "$PIN" "$LAB_DIR/initd.out" || fail "the init script did not show the pin: $(cat "$LAB_DIR/initd.out")"
tool=$(certtool --pubkey-info --load-cert /var/lib/tunneld/server-cert.pem | grep -o 'pin-sha256:[A-Za-z0-9+/=]*' | head -n 1)
[ "$tool" = "$PIN" ] || fail "certtool says $tool, the log $PIN"
[ "$(stat -c '%a %U %G' /var/lib/tunneld)" = "700 root root" ] || fail "/var/lib/tunneld: $(stat -c '%a %U %G' /var/lib/tunneld)"
[ "$(stat -c '%a %U' /var/lib/tunneld/server-key.pem)" = "600 root" ] || fail "server-key.pem: $(stat -c '%a %U' /var/lib/tunneld/server-key.pem)"
WORKERS=$(ps -o pid= --ppid "$PID")
for w in $WORKERS; do
	[ "$(ps -o user= -p "$w")" = tunneld ] || fail "worker $w runs as $(ps -o user= -p "$w")"
done
pass "init start: pid $PID, self-signed certificate $PIN (certtool agrees), workers run as tunneld"

lab_add_client c1
lab_add_client c2
LAB_PIN=pin-sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
lab_start_client c2 alice alice-pass
rc=$(lab_client_exited c2 20) || fail "openconnect with a wrong pin is still running"
[ "$rc" != 0 ] || fail "openconnect with a wrong pin exited 0"
LAB_PIN=$PIN
lab_start_client c1 alice alice-pass
lab_wait_client c1 30 || fail "openconnect --servercert $PIN did not connect"
lab_ping_ok c1 "$LAB_LAN_IP" 3 || fail "ping the LAN (IPv4) through the tunnel"
lab_ping_ok c1 "$LAB_LAN_IP6" 3 || fail "ping the LAN (IPv6) through the tunnel"
/usr/sbin/tunnelctl -s "$LAB_DIR/control.sock" status >"$LAB_DIR/status" || fail "tunnelctl status"
grep -qx 'tunnels: 1' "$LAB_DIR/status" || fail "tunnelctl status: $(cat "$LAB_DIR/status")"
pass "openconnect with the logged pin: connected, LAN pinged (v4, v6); a wrong pin is refused (exit $rc)"

initd reload || fail "init reload: $(cat "$LAB_DIR/initd.out")"
log_wait 'master: info: reloaded ' 1 || fail "no 'reloaded' in the log"
log_wait "TLS certificate /var/lib/tunneld/server-cert.pem: $PIN" 2 || fail "reload did not log the same pin"
[ "$(log_count 'made a self-signed certificate')" = 1 ] || fail "reload made a new certificate"
[ "$(cat /run/tunneld.pid)" = "$PID" ] && lab_alive "$PID" || fail "reload changed the server"
lab_ping_ok c1 "$LAB_LAN_IP" 3 || fail "ping the LAN after the reload"
[ "$(lab_event_count c1 reconnect)" = 0 ] || fail "the client reconnected on reload"
pass "init reload: reloaded, same pin, the tunnel carries traffic"

initd stop || fail "init stop: $(cat "$LAB_DIR/initd.out")"
! lab_alive "$PID" || fail "server $PID still running after stop"
log_wait 'master: info: stopped' 1 1 || fail "no clean stop in the log"
# A stop (SIGTERM) is a restart to the clients: no DISCONNECT, they retry.
lab_wait_event c1 attempt-reconnect 1 15 || fail "the client does not try to reconnect after the stop"
! grep -q "Server shutting down" "$LAB_DIR/c1.oc.log" || fail "the stop told the client to quit"
lab_client_signal c1 INT
lab_client_exited c1 15 >/dev/null || fail "the client is still running after SIGINT"
rc=0
initd status || rc=$?
[ $rc = 3 ] || fail "init status after stop: $rc, want 3"
pass "init stop: server gone, the client retries (no DISCONNECT), status 3"

# 3. Purge -------------------------------------------------------------------
step "purge"
dpkg --purge tunneld >"$LAB_DIR/purge.out" 2>&1 || fail "dpkg --purge: $(cat "$LAB_DIR/purge.out")"
[ "$(pkg_state)" = not-installed ] || fail "after purge, dpkg says tunneld is $(pkg_state)"
left=""
while read -r f; do
	if [ -d "$f" ]; then
		# Shared directories (/usr, /etc, ...) stay; the package's own go.
		case $f in /etc/tunneld | /usr/share/doc/tunneld) left="$left $f" ;; esac
	elif [ -e "$f" ] || [ -L "$f" ]; then
		left="$left $f"
	fi
done <"$LAB_DIR/files"
[ -z "$left" ] || fail "left after purge:$left"
for p in /etc/tunneld /var/lib/tunneld /var/log/tunneld /run/tunneld /run/tunneld.pid /etc/default/tunneld; do
	[ ! -e "$p" ] || fail "$p left after purge"
done
! ls /etc/rc?.d/*tunneld >/dev/null 2>&1 || fail "rc.d links left after purge"
! getent passwd tunneld >/dev/null || fail "user tunneld left after purge"
! getent group tunneld >/dev/null || fail "group tunneld left after purge"
for p in $PID $WORKERS; do
	! lab_alive "$p" || fail "tunneld process $p is left"
done
new=$(pkg_new_pids)
[ -z "$new" ] || fail "tunneld processes left: $new"
pass "purge: $(wc -l <"$LAB_DIR/files") paths checked, nothing left, no user, group or process"
lab_cleanup

# 4. RPM -----------------------------------------------------------------------
step "make rpm"
timeout 1200 make rpm >"$TOP/pkg-rpm.log" 2>&1 || {
	tail -n 60 "$TOP/pkg-rpm.log"
	fail "make rpm"
}
RPM=$(ls "$TOP"/tunneld-"$VERSION"-*.rpm | head -n 1)
rpm -qlp "$RPM" >"$TOP/pkg-rpm-files.log" 2>/dev/null || fail "rpm -qlp $RPM"
cat "$TOP/pkg-rpm-files.log"
# (Man pages are compressed where rpm's distribution config says so.)
for f in /usr/sbin/tunneld /usr/sbin/tunnelctl /usr/sbin/tunneld-passwd \
	/usr/lib/systemd/system/tunneld.service /etc/tunneld/tunneld.conf /etc/default/tunneld \
	/usr/share/man/man8/tunneld.8 /usr/share/man/man5/tunneld.conf.5; do
	grep -qE "^$f(\.gz|\.xz|\.bz2)?\$" "$TOP/pkg-rpm-files.log" || fail "$f is not in $RPM"
done
rpm -qcp "$RPM" 2>/dev/null | grep -qx /etc/tunneld/tunneld.conf || fail "tunneld.conf is not %config"
rpm -qp --scripts "$RPM" 2>/dev/null | grep -q 'systemctl.*preset.*tunneld.service' ||
	fail "no systemd scriptlet: $(rpm -qp --scripts "$RPM" 2>&1)"
pass "make rpm: $(basename "$RPM"), $(wc -l <"$TOP/pkg-rpm-files.log") files, tunneld.conf %config, systemd scriptlets"

# 5. distcheck -------------------------------------------------------------
# The inner "make check" runs what a build from the tarball must pass
# without the lab: the unit tests, the command line, the man pages and the
# init script test.  The end-to-end suite ran in the main "make check" on
# the same sources; DISTCHECK_TESTS=all runs it again here (several
# minutes).
step "make distcheck"
target=distcheck-quick
flags=()
if [ "${DISTCHECK_TESTS:-}" = all ]; then
	target=distcheck
	flags=(DISTCHECK_CONFIGURE_FLAGS=--enable-test-hooks) # as the main make check
fi
timeout 2400 make "$target" "${flags[@]}" >"$TOP/pkg-distcheck.log" 2>&1 || {
	tail -n 80 "$TOP/pkg-distcheck.log"
	# The failing tests' own logs, from the tree distcheck leaves behind.
	for l in $(grep -l '^FAIL:' "$TOP"/tunneld-*/_build/sub/*/*.log \
		"$TOP"/tunneld-*/_build/sub/*.log 2>/dev/null | grep -v test-suite.log); do
		echo "---- $l"
		tail -n 40 "$l"
	done
	fail "make $target"
}
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$TOP/pkg-distcheck.log" | tr '\n' ' '
echo
pass "make $target: $(grep -o 'tunneld-[0-9.]* archives ready for distribution' "$TOP/pkg-distcheck.log")"
step "done"
echo "$passes passed, 0 failed"
