#!/bin/bash
# The load generator (bench/tunneld-load) against tunneld, briefly, in each
# of its modes that make bench uses: connect rate, held sessions with the
# server's memory, and echo load with UDP and with TCP-like packets.
#
#   ld: tunneld-load (no tun device); lan: the UDP echo on :9000 and the tun
#   reflector rfl0 for 198.18.2.0/24 (TCP-like segments come back from it,
#   no TCP stack sees them).
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init lgen
LOAD=$TD_TOP/bench/tunneld-load
[ -x "$LOAD" ] || td_fail "$LOAD not built"
lab_make_cert
lab_add_client ld
td_users alice:alice-pass
TD_WORKERS=2 td_start

lab_bg lan "$LAB_DIR/echo.log" "$LOAD" --echo 9000 -t 120 >/dev/null
lab_wait_listen lan 9000 10 udp || td_fail "echo server did not start"
lab_reflector "$LOAD" 120 || td_fail "reflector did not start"

# Runs tunneld-load in ld; the RESULT line on stdout, everything in load.log.
load() {
	lab_cli ld "$LOAD" --servercert "$LAB_PIN" --server-pid "$TD_PID" \
		--server "$LAB_SRV_IP:$LAB_PORT" "$@" 2>&1 | tee -a "$LAB_DIR/load.log" | grep '^RESULT' || true
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a + 0 >= b + 0)}'; }

r=$(load --connect-rate -t 2 -c 4 --label cr)
n=$(field connects "$r")
ge "${n:-0}" 5 || td_fail "connect-rate: '$r'"
ge "$(field server_cpu_s "$r")" 0.001 || td_fail "connect-rate: no server CPU read: '$r'"
td_pass "connect-rate: $n connects, $(field rate "$r")/s"

r=$(load --hold 50 -t 1 -c 16 --label hold)
[ "$(field held "$r")" = 50 ] || td_fail "hold: '$r'"
# The server's memory was read (per-session figures need thousands of
# sessions on a fresh server: make bench).
ge "$(field rss_after_kb "$r")" 1000 || td_fail "hold: server RSS not read: '$r'"
[ "$(field nproc "$r")" = 4 ] || td_fail "hold: expected master, key process and 2 workers: '$r'"
td_pass "hold: 50 sessions held, server RSS $(field rss_after_kb "$r") KiB in 4 processes"

for proto in udp tcp; do
	echo_addr=198.18.1.2:9000
	[ $proto = tcp ] && echo_addr=198.18.2.1:5001
	r=$(load --echo-load 8 --window 4 --size 1000 -t 2 --proto $proto --echo-addr $echo_addr --label $proto)
	[ "$(field proto "$r")" = $proto ] || td_fail "$proto echo: '$r'"
	rx=$(field rx "$r")
	ge "${rx:-0}" 1000 || td_fail "$proto echo: only '$rx' echoes: '$r'"
	[ "$(field bad "$r")" = 0 ] || td_fail "$proto echo: bad packets: '$r'"
	ge "$(field gbps "$r")" 0.001 || td_fail "$proto echo: '$r'"
	td_pass "$proto echo: $rx echoes, $(field pps "$r")/s, p50 $(field rtt_p50_us "$r") us"
done
# The TCP-like packets went through the reflector as TCP.
td_stop || td_fail "unclean stop"
kill -INT "$LAB_REFLECT_PID" 2>/dev/null || true
for _ in $(seq 50); do
	grep -q 'packets reflected' "$LAB_DIR/reflect.log" && break
	sleep 0.1
done
refl=$(sed -n 's/reflect: \([0-9]*\) packets reflected.*/\1/p' "$LAB_DIR/reflect.log")
ge "${refl:-0}" 1000 || td_fail "reflector reflected only '$refl' packets"
td_pass "reflector: $refl TCP-like packets back to the tunnel"
