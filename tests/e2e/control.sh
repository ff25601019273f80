#!/bin/bash
# tunnelctl against a live server: status, list, show, counters, an
# administrator's disconnect (the client exits, the session is gone), stop.
#
#   tunnelctl --unix socket LAB_DIR/ctl.sock--> [server: tunneld, 1 worker]
#   client c1 --br0-- [server] --- lan 198.18.1.2
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init ctl
lab_need jq
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
[ -x "$CTL" ] || td_fail "$CTL not built"
SOCK=$LAB_DIR/ctl.sock
ctl() { "$CTL" -s "$SOCK" "$@"; }

rc=0
"$CTL" -s "$LAB_DIR/nothing.sock" status 2>"$LAB_DIR/err" || rc=$?
[ $rc = 3 ] || td_fail "missing socket: exit $rc, want 3"
grep -q "cannot connect to $LAB_DIR/nothing.sock" "$LAB_DIR/err" || td_fail "missing socket: no message"
rc=0
ctl bogus-command 2>/dev/null || rc=$?
[ $rc = 2 ] || td_fail "unknown command: exit $rc, want 2"
td_pass "no server: exit 3; usage error: exit 2"

lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_EXTRA="control = { socket = \"$SOCK\"; };" td_config
td_start
[ "$(stat -c %a "$SOCK")" = 600 ] || td_fail "socket mode $(stat -c %a "$SOCK"), want 600"

st=$(ctl --json status) || td_fail "status failed"
[ "$(jq -r .ok <<<"$st")" = true ] || td_fail "status not ok: $st"
[ "$(jq '.workers | length' <<<"$st")" = 1 ] || td_fail "status: want 1 worker: $st"
[ "$(jq '.workers[0].pid > 0' <<<"$st")" = true ] || td_fail "status: worker pid: $st"
[ "$(jq .sessions <<<"$st")" = 0 ] || td_fail "status: sessions before login: $st"
ctl status >/dev/null || td_fail "human status failed"
td_pass "status: 1 worker, no sessions"

lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
ip4=$(lab_client_state c1 ip4)
ls=$(ctl --json list) || td_fail "list failed"
[ "$(jq '.sessions | length' <<<"$ls")" = 1 ] || td_fail "list: want 1 session: $ls"
[ "$(jq -r '.sessions[0].user' <<<"$ls")" = alice ] || td_fail "list: user: $ls"
[ "$(jq -r '.sessions[0].ipv4' <<<"$ls")" = "$ip4" ] || td_fail "list: ipv4 is not $ip4: $ls"
[ "$(jq -r '.sessions[0].state' <<<"$ls")" = connected ] || td_fail "list: state: $ls"
id=$(jq -r '.sessions[0].id' <<<"$ls")
ctl list | grep -q "alice.*$ip4" || td_fail "human list lacks alice and $ip4"
sh=$(ctl --json show "$id") || td_fail "show $id failed"
[ "$(jq -r '.session.user' <<<"$sh")" = alice ] || td_fail "show: $sh"
ctl show "$id" | grep -q '^user: alice$' || td_fail "human show lacks 'user: alice'"
rc=0
ctl show 4000000000 2>/dev/null || rc=$?
[ $rc = 1 ] || td_fail "show of a bogus id: exit $rc, want 1"
td_pass "list and show: alice $ip4 (session $id)"

lab_ping_ok c1 198.18.1.2 5 || td_fail "ping lan host"
deadline=$(($(lab__now_ms) + 15000))
until [ "$(ctl --json show "$id" | jq '.session.rx_pkts > 0')" = true ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "rx_pkts still 0 after 15 s"
	sleep 0.5
done
td_pass "counters arrive: rx_pkts > 0"

dc=$(ctl --json disconnect alice) || td_fail "disconnect failed"
[ "$(jq .disconnected <<<"$dc")" = 1 ] || td_fail "disconnect: $dc"
lab_client_exited c1 15 >/dev/null || td_fail "client still running after disconnect"
deadline=$(($(lab__now_ms) + 5000))
until [ "$(ctl --json list | jq '.sessions | length')" = 0 ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "session still listed after disconnect"
	sleep 0.2
done
rc=0
ctl disconnect alice 2>/dev/null || rc=$?
[ $rc = 1 ] || td_fail "second disconnect: exit $rc, want 1"
td_pass "disconnect: client exited, session gone"

ctl stop >/dev/null || td_fail "stop failed"
deadline=$(($(lab__now_ms) + 10000))
while lab_alive "$TD_PID"; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "tunneld still running 10 s after stop"
	sleep 0.1
done
grep -q 'master: info: stopped' "$TD_LOG" || td_fail "no clean stop in the log"
[ ! -e "$SOCK" ] || td_fail "control socket left behind"
TD_PID=""
td_pass "stop: tunneld exited cleanly"
