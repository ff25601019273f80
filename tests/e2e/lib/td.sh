# shellcheck shell=bash
# tests/e2e/lib/td.sh - start and watch tunneld inside the lab of lib.sh.
# Source after lib.sh.  Functions prefixed td_.
#
#   td_users USER:PASS...   write LAB_DIR/passwd with the packaged tool.
#   td_config               write LAB_DIR/tunneld.conf (TD_WORKERS, TD_POOL4,
#                           TD_RECONNECT_TIMEOUT, TD_LOG_LEVEL, TD_LOG_FILE,
#                           TD_EXTRA).  TD_LOG_FILE: log.destination, which
#                           td_start then reads as TD_LOG.
#                           TD_AUTH: the auth group's body, set (even empty,
#                           for RADIUS logins) in place of the password file.
#   TD_CTL                  the control socket (LAB_DIR/control.sock).
#   td_start                start tunneld -f in the server ns, wait for "ready".
#   td_stop [SIG]           SIGTERM (or SIG, e.g. INT: clients are told to quit),
#                           wait for a clean exit (status 0); fails
#                           on a "seccomp: forbidden syscall" line (trap builds)
#                           other than TD_SECCOMP_EXPECTED (an ERE: "a|b").
#   td_log_wait REGEX [T]   wait until the server log matches REGEX.
#   td_log_count REGEX      number of matching log lines.
#   td_end_field USER KEY   KEY's value in USER's last session-end line (the
#                           text log.format: session-end id=N user=USER ...),
#                           quotes taken off; "" when there is none.
#   td_session              the first session as tunnelctl lists it (JSON).
#   td_wait_dtls [T]        wait until the first session's data goes over DTLS.
#   td_check_sha NAME FILE WANT   pass if FILE's SHA-256 is WANT, else fail.

TD_TOP=${top_builddir:-$(cd "$LAB_LIB_DIR/../../.." && pwd)}
TD_BIN=${TD_BIN:-$TD_TOP/tunneld}
TD_PASSWD=${TD_PASSWD:-$TD_TOP/tunneld-passwd}
TD_LOG=""
TD_PID=""

td_users() {
	local up
	rm -f "$LAB_DIR/passwd"
	for up in "$@"; do
		printf '%s\n' "${up#*:}" | "$TD_PASSWD" -f "$LAB_DIR/passwd" "${up%%:*}" >/dev/null
	done
}

td_config() {
	cat >"$LAB_DIR/tunneld.conf" <<CONF
# written by tests/e2e/lib/td.sh
listen = ["$LAB_SRV_IP:$LAB_PORT"];
workers = ${TD_WORKERS:-1};
user = "nobody";
group = "nogroup";
tls = {
  certificate = "$LAB_CERT";
  key = "$LAB_KEY";
};
auth = { ${TD_AUTH-password-file = \"$LAB_DIR/passwd\";} };
network = {
  tun = "vpns0";
  mtu = 1400;
  ipv4-pool = "${TD_POOL4:-198.18.100.0/24}";
  ipv6-pool = "fd00:100::/64";
  dns = ["198.18.100.1"];
  routes = ["198.18.1.0/24", "fd00:1::/64"];
};
session = { reconnect-timeout = ${TD_RECONNECT_TIMEOUT:-60}; dpd = 30; keepalive = 20; };
log = { level = "${TD_LOG_LEVEL:-debug}";${TD_LOG_FILE:+ destination = \"$TD_LOG_FILE\";} };
${TD_EXTRA:-}
CONF
	# Each lab has its own control socket, so labs can run side by side.
	case ${TD_EXTRA:-} in
	*control*) ;;
	*) echo "control = { socket = \"$LAB_DIR/control.sock\"; };" >>"$LAB_DIR/tunneld.conf" ;;
	esac
	# ...and its own fleet directory (revoked sessions), not the state
	# directory of the machine.
	case ${TD_EXTRA:-} in
	*fleet*) ;;
	*) echo "fleet = { state-dir = \"$LAB_DIR/fleet\"; };" >>"$LAB_DIR/tunneld.conf" ;;
	esac
}

td_start() {
	[ -x "$TD_BIN" ] || { echo "td_start: $TD_BIN not built" >&2; return 1; }
	[ -f "$LAB_DIR/tunneld.conf" ] || td_config
	TD_LOG=${TD_LOG_FILE:-$LAB_DIR/tunneld.log}
	TD_PID=$(lab_bg srv "$LAB_DIR/tunneld.log" "$TD_BIN" -f -c "$LAB_DIR/tunneld.conf")
	td_log_wait 'master: info: ready:' 10 || {
		echo "td_start: tunneld not ready" >&2
		tail -n 30 "$TD_LOG" >&2
		return 1
	}
}

td_log_count() {
	grep -cE "$1" "$TD_LOG" 2>/dev/null || true
}

td_end_field() {
	grep -E "session-end id=[0-9]+ user=$1 " "$TD_LOG" 2>/dev/null | tail -n 1 |
		grep -oE " $2=(\"[^\"]*\"|[^ ]*)" | head -n 1 | sed -E "s/^ $2=//; s/^\"(.*)\"\$/\1/"
}

td_log_wait() {
	local re=$1 timeout=${2:-10} deadline
	deadline=$(($(lab__now_ms) + timeout * 1000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		grep -qE "$re" "$TD_LOG" 2>/dev/null && return 0
		if [ -n "$TD_PID" ] && ! lab_alive "$TD_PID"; then
			grep -qE "$re" "$TD_LOG" 2>/dev/null && return 0
			echo "td_log_wait: tunneld exited" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "td_log_wait: no log line matching '$re' after ${timeout}s" >&2
	return 1
}

td_stop() { # [SIGNAL]: TERM (clients reconnect after a restart), INT (they quit)
	local deadline
	[ -n "$TD_PID" ] || return 0
	kill -"${1:-TERM}" "$TD_PID" 2>/dev/null || true
	deadline=$(($(lab__now_ms) + 10000))
	while lab_alive "$TD_PID"; do
		if [ "$(lab__now_ms)" -ge $deadline ]; then
			echo "td_stop: tunneld did not stop within 10 s" >&2
			return 1
		fi
		sleep 0.05
	done
	grep -q 'master: info: stopped' "$TD_LOG" || {
		echo "td_stop: no clean stop in the log" >&2
		return 1
	}
	# A build with --enable-seccomp-trap logs a syscall missing from the
	# allow-list instead of dying silently: any such line fails the test
	# (TD_SECCOMP_EXPECTED names the one a test provokes on purpose).
	if grep -vE "forbidden syscall (${TD_SECCOMP_EXPECTED:-none}) " "$TD_LOG" |
		grep "seccomp: forbidden syscall" >&2; then
		echo "td_stop: a worker made a syscall outside the seccomp allow-list" >&2
		return 1
	fi
	TD_PID=""
}

# Fail with a message; lib.sh's trap cleans up.
td_fail() {
	echo "FAIL: $*" >&2
	if [ -n "$TD_LOG" ] && [ -f "$TD_LOG" ]; then
		echo "---- tunneld log (tail) ----" >&2
		tail -n 40 "$TD_LOG" >&2
	fi
	exit 1
}

td_pass() {
	echo "PASS: $*"
}

td_session() {
	"${TD_CTL:-$TD_TOP/tunnelctl}" -s "$LAB_DIR/control.sock" --json list | jq -c '.sessions[0]'
}

td_wait_dtls() {
	local deadline=$(($(lab__now_ms) + ${1:-5} * 1000))
	until [ "$(td_session | jq -r .channel)" = dtls ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || return 1
		sleep 0.1
	done
}

td_check_sha() {
	local got
	got=$(sha256sum <"$2" | cut -d' ' -f1)
	[ "$got" = "$3" ] || td_fail "$1: SHA-256 mismatch"
	td_pass "$1: $(($(stat -c %s "$2") >> 20)) MB intact"
}
