#!/bin/bash
# The init system files against the real daemon.
#  (a) systemd-analyze verify on the unit (a copy pointing at the build tree);
#  (b) init/tunneld.init in the lab: start, status, a client, reload (same
#      PID, the client stays), a bad config refused, stop, status codes;
#  (c) tunneld --daemon --pid-file: a second instance is refused, a stale
#      PID file is taken over, a failed start says why.
#
#   client c1 --br0-- [server ns: tunneld --daemon, started by the init script]
#                                       --- lan 198.18.1.2
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root"
	exit 77
fi
. "$(dirname "$0")/../e2e/lib/lib.sh"
. "$(dirname "$0")/../e2e/lib/td.sh"
SRC=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
B=$TD_TOP
INIT=$B/init/tunneld.init
lab_init init
lab_need start-stop-daemon jq
[ -x "$TD_BIN" ] || td_fail "$TD_BIN not built"
[ -f "$INIT" ] || td_fail "$INIT not generated (make all)"

# (a) The unit ------------------------------------------------------------
for f in init/tunneld.service init/tunneld.init init/tunneld.tmpfiles; do
	! grep -n '@[a-z]*@' "$B/$f" || td_fail "$f: unsubstituted @...@"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$LAB_DIR/unit"
	sed -e "s|@sbindir@|$B|g" -e "s|@sysconfdir@|$LAB_DIR/etc|g" -e "s|@runstatedir@|/run|g" \
		"$SRC/init/tunneld.service.in" >"$LAB_DIR/unit/tunneld.service"
	systemd-analyze verify --man=no "$LAB_DIR/unit/tunneld.service" >"$LAB_DIR/verify.out" 2>&1 ||
		td_fail "systemd-analyze verify: $(cat "$LAB_DIR/verify.out")"
	! grep -q 'tunneld.service' "$LAB_DIR/verify.out" ||
		td_fail "systemd-analyze verify warns: $(cat "$LAB_DIR/verify.out")"
	td_pass "systemd-analyze verify tunneld.service"
	# The exposure score with every feature on (the unit as shipped).
	e=$(systemd-analyze security --offline=yes --no-pager "$LAB_DIR/unit/tunneld.service" 2>&1 |
		sed -n 's/.*Overall exposure level for tunneld.service: \([0-9.]*\).*/\1/p')
	[ -n "$e" ] && awk -v e="$e" 'BEGIN { exit !(e <= 3.0) }' ||
		td_fail "systemd-analyze security: exposure '$e', want 3.0 or lower"
	td_pass "systemd-analyze security tunneld.service: $e"
else
	echo "SKIP (part a): systemd-analyze not found"
fi
if command -v systemd-sysusers >/dev/null 2>&1 && command -v systemd-tmpfiles >/dev/null 2>&1; then
	R=$LAB_DIR/root
	mkdir -p "$R/etc"
	systemd-sysusers --root="$R" - <"$SRC/init/tunneld.sysusers" >/dev/null 2>&1 ||
		td_fail "systemd-sysusers rejects tunneld.sysusers"
	grep -q '^tunneld:x:[0-9]*:[0-9]*:[^:]*:/nonexistent:/usr/sbin/nologin$' "$R/etc/passwd" ||
		td_fail "sysusers: no tunneld user without home and login: $(cat "$R/etc/passwd")"
	grep -q '^tunneld:x:' "$R/etc/group" || td_fail "sysusers: no tunneld group"
	sed 's|@runstatedir@|/run|g' "$SRC/init/tunneld.tmpfiles.in" >"$LAB_DIR/tmpfiles.conf"
	systemd-tmpfiles --root="$R" --create "$LAB_DIR/tmpfiles.conf" ||
		td_fail "systemd-tmpfiles rejects tunneld.tmpfiles"
	[ "$(stat -c '%a %U %G' "$R/run/tunneld")" = "755 root root" ] ||
		td_fail "tmpfiles: $(stat -c '%a %U %G' "$R/run/tunneld")"
	td_pass "sysusers: user and group tunneld; tmpfiles: /run/tunneld 0755 root"
else
	echo "SKIP (part a): systemd-sysusers or systemd-tmpfiles not found"
fi

# (b) The SysV script ----------------------------------------------------
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
# Two workers: the TUN steering program must load under the script's
# capabilities.
TD_WORKERS=2 td_config
# With --daemon the log goes to syslog by default: keep it in the lab.
TD_LOG=$LAB_DIR/tunneld.log
sed -i "s|^log = { level = \"\([a-z]*\)\"; };|log = { level = \"\1\"; destination = \"$TD_LOG\"; };|" \
	"$LAB_DIR/tunneld.conf"
grep -q "destination = \"$TD_LOG\"" "$LAB_DIR/tunneld.conf" || td_fail "could not set log.destination"
PF=$LAB_DIR/tunneld.pid
# The defaults file names the config, as /etc/default/tunneld would.
printf 'CONFIG=%s\nDAEMON_ARGS=\nMAX_OPEN_FILES=15000\n' "$LAB_DIR/tunneld.conf" >"$LAB_DIR/default"
initd() { # initd ACTION: run the init script in the server namespace, from a
	# shell's 1024 open files
	lab_srv env TUNNELD_DEFAULTS="$LAB_DIR/default" DAEMON="$TD_BIN" PIDFILE="$PF" \
		sh -c 'ulimit -S -n 1024 && exec sh "$@"' sh "$INIT" "$1" >"$LAB_DIR/initd.out" 2>&1
}
initd_rc() { # initd_rc ACTION: echo the exit status
	local rc=0
	initd "$1" || rc=$?
	echo $rc
}
pid_of() { local p; read -r p <"$1" && echo "$p"; }
wait_gone() { # wait_gone PID [TIMEOUT=10]
	local deadline=$(($(lab__now_ms) + ${2:-10} * 1000))
	while lab_alive "$1"; do
		[ "$(lab__now_ms)" -lt $deadline ] || return 1
		sleep 0.05
	done
}

rc=$(initd_rc status)
[ "$rc" = 3 ] || td_fail "status before start: exit $rc, want 3"
initd start || td_fail "start: $(cat "$LAB_DIR/initd.out")"
[ -s "$PF" ] || td_fail "start: no PID file"
TD_PID=$(pid_of "$PF")
lab_alive "$TD_PID" || td_fail "start: pid $TD_PID not running"
[ "$(readlink "/proc/$TD_PID/exe")" = "$(readlink -f "$TD_BIN")" ] || td_fail "pid $TD_PID is not tunneld"
grep -q 'master: info: ready:' "$TD_LOG" || td_fail "start returned before the server was ready"
rc=$(initd_rc status)
[ "$rc" = 0 ] || td_fail "status while running: exit $rc, want 0"
initd start || td_fail "second start: $(cat "$LAB_DIR/initd.out")"
[ "$(pid_of "$PF")" = "$TD_PID" ] || td_fail "second start replaced the server"
grep -q "^Max open files *15000 " "/proc/$TD_PID/limits" ||
	td_fail "not started with MAX_OPEN_FILES: $(grep 'open files' "/proc/$TD_PID/limits")"
td_pass "init start: ready, pid $TD_PID, status 0, 15000 open files; a second start is a no-op"

# The script starts the master through setpriv: it holds the unit's
# capabilities (NET_ADMIN, NET_BIND_SERVICE, SETUID, SETGID, SYS_CHROOT,
# KILL, and BPF where the kernel knows it) and no other, with no_new_privs.
want=$(((1 << 12) | (1 << 10) | (1 << 7) | (1 << 6) | (1 << 18) | (1 << 5)))
[ "$(cat /proc/sys/kernel/cap_last_cap)" -lt 39 ] || want=$((want | (1 << 39)))
for f in CapBnd CapEff CapPrm; do
	got=$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$TD_PID/status")
	[ $((16#$got)) = $want ] || td_fail "init start: master $f $got, want $(printf %016x $want)"
done
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$TD_PID/status" || td_fail "init start: no no_new_privs"
if [ "$(cat /proc/sys/kernel/cap_last_cap)" -ge 39 ]; then
	st=$("$B/tunnelctl" -s "$LAB_DIR/control.sock" --json status) || td_fail "tunnelctl status"
	[ "$(jq -r .packet_path.tun_steering <<<"$st")" = true ] ||
		td_fail "init start: no TUN steering: $(jq -c .packet_path <<<"$st")"
fi
td_pass "init start: the master holds $(printf %016x $want) (the unit's capabilities), no_new_privs, TUN steering on"

lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
lab_ping_ok c1 "$LAB_LAN_IP" 3 || td_fail "ping lan before reload"
initd reload || td_fail "reload: $(cat "$LAB_DIR/initd.out")"
td_log_wait 'reloaded ' 10 || td_fail "no reload in the log"
lab_alive "$TD_PID" || td_fail "server gone after reload"
[ "$(pid_of "$PF")" = "$TD_PID" ] || td_fail "PID changed on reload"
lab_ping_ok c1 "$LAB_LAN_IP" 3 || td_fail "ping lan after reload"
[ "$(lab_event_count c1 reconnect)" = 0 ] || td_fail "client reconnected on reload"
[ "$(lab_event_count c1 connect)" = 1 ] || td_fail "client connected more than once"
td_pass "init reload: same pid, client stays connected"

cp "$LAB_DIR/tunneld.conf" "$LAB_DIR/tunneld.conf.good"
echo 'workers = "many";' >>"$LAB_DIR/tunneld.conf"
rc=$(initd_rc reload)
[ "$rc" != 0 ] || td_fail "reload of a bad config succeeded"
grep -q 'tunneld.conf:[0-9]' "$LAB_DIR/initd.out" || td_fail "bad config: no FILE:LINE: $(cat "$LAB_DIR/initd.out")"
rc=$(initd_rc restart)
[ "$rc" != 0 ] || td_fail "restart with a bad config succeeded"
lab_alive "$TD_PID" || td_fail "a bad config took the server down"
mv "$LAB_DIR/tunneld.conf.good" "$LAB_DIR/tunneld.conf"
td_pass "init reload/restart refuse a bad config (exit $rc), the server runs on"

initd stop || td_fail "stop: $(cat "$LAB_DIR/initd.out")"
lab_alive "$TD_PID" && td_fail "stop returned, pid $TD_PID still running"
[ ! -e "$PF" ] || td_fail "stop: PID file left behind"
grep -q 'master: info: stopped' "$TD_LOG" || td_fail "stop: no clean stop in the log"
# A stop (SIGTERM) is a restart to the clients: the tunnel ends without a
# DISCONNECT and the client tries again (the next start takes its cookie).
lab_wait_event c1 attempt-reconnect 1 15 || td_fail "the client did not try to reconnect after stop"
! grep -q "Server shutting down" "$LAB_DIR/c1.oc.log" || td_fail "stop told the client to quit"
lab_client_signal c1 INT
lab_client_exited c1 15 >/dev/null || td_fail "client still running after SIGINT"
rc=$(initd_rc status)
[ "$rc" = 3 ] || td_fail "status after stop: exit $rc, want 3"
initd stop || td_fail "stop when stopped: $(cat "$LAB_DIR/initd.out")"
td_pass "init stop: server gone, PID file removed, the client retries (no DISCONNECT), status 3"

true &
dead=$!
wait "$dead"
echo "$dead" >"$PF"
rc=$(initd_rc status)
[ "$rc" = 1 ] || td_fail "status with a stale PID file: exit $rc, want 1"
initd start || td_fail "start over a stale PID file: $(cat "$LAB_DIR/initd.out")"
TD_PID=$(pid_of "$PF")
if [ "$TD_PID" = "$dead" ] || ! lab_alive "$TD_PID"; then td_fail "stale PID file not replaced"; fi
initd restart || td_fail "restart: $(cat "$LAB_DIR/initd.out")"
old=$TD_PID
TD_PID=$(pid_of "$PF")
if [ "$TD_PID" = "$old" ] || ! lab_alive "$TD_PID" || lab_alive "$old"; then
	td_fail "restart did not replace the server"
fi
initd stop || td_fail "stop: $(cat "$LAB_DIR/initd.out")"
wait_gone "$TD_PID" 1 || td_fail "stop returned, pid $TD_PID still running"
td_pass "init: stale PID file gives status 1 and is taken over; restart"

# (c) tunneld --daemon directly --------------------------------------------
# log.destination "auto": until it is ready the daemon reports to the
# starter's stderr, then to syslog.
PF2=$LAB_DIR/direct.pid
sed "s|; destination = \"$TD_LOG\"||" "$LAB_DIR/tunneld.conf" >"$LAB_DIR/direct.conf"
dstart() { lab_srv "$TD_BIN" --daemon --pid-file "$PF2" -c "${1:-$LAB_DIR/direct.conf}" 2>"$LAB_DIR/err"; }
dstart || td_fail "--daemon: $(cat "$LAB_DIR/err")"
TD_PID=$(pid_of "$PF2")
lab_alive "$TD_PID" || td_fail "--daemon: pid $TD_PID not running"
rc=0
dstart || rc=$?
[ $rc = 1 ] || td_fail "second --daemon with the same PID file: exit $rc, want 1"
grep -q 'already running' "$LAB_DIR/err" || td_fail "second --daemon: no clear message: $(cat "$LAB_DIR/err")"
if [ "$(pid_of "$PF2")" != "$TD_PID" ] || ! lab_alive "$TD_PID"; then
	td_fail "second --daemon disturbed the first"
fi
td_pass "--daemon: a second instance is refused: $(head -1 "$LAB_DIR/err")"
kill -TERM "$TD_PID"
wait_gone "$TD_PID" || td_fail "--daemon: no exit on SIGTERM"
[ ! -e "$PF2" ] || td_fail "--daemon: PID file left after a clean stop"

true &
dead=$!
wait "$dead"
echo "$dead" >"$PF2"
dstart || td_fail "--daemon over a stale PID file: $(cat "$LAB_DIR/err")"
TD_PID=$(pid_of "$PF2")
if [ "$TD_PID" = "$dead" ] || ! lab_alive "$TD_PID"; then td_fail "stale PID file not taken over"; fi
kill -TERM "$TD_PID"
wait_gone "$TD_PID" || td_fail "--daemon: no exit on SIGTERM"
td_pass "--daemon: a stale PID file (pid $dead) is taken over"

sed "s|$LAB_CERT|$LAB_DIR/missing.pem|" "$LAB_DIR/direct.conf" >"$LAB_DIR/bad.conf"
rc=0
dstart "$LAB_DIR/bad.conf" || rc=$?
[ $rc = 1 ] || td_fail "--daemon with a missing certificate: exit $rc, want 1"
[ -s "$LAB_DIR/err" ] || td_fail "--daemon failed without a message"
[ ! -e "$PF2" ] || td_fail "--daemon failed and left a PID file"
td_pass "--daemon: a failed start exits 1: $(head -1 "$LAB_DIR/err")"
TD_PID=""
