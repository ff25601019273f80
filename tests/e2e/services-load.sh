#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TLS stream services under load and abuse: 10,000 idle streams held at
# once with bounded memory (the workers' RSS per stream is printed and
# must stay under SVC_KIB_MAX, 64 KiB); slow-loris handshakes on a
# service closed at limits.handshake-timeout while curl gets through; a
# client that never reads: the destination is held back (its bytes stop
# growing) and the workers' memory does not grow with it.
#
#   client c1 ---TLS:8443,8449,8450---> tunneld (198.18.0.1, 2 workers) ---> lan 198.18.1.2
#                                                                 8080 http, 9002 hold, 9003 flood
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need curl python3
lab_init svcl
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
HOSTILE=${HOSTILE:-$TD_TOP/tests/hostile/hostile}
[ -x "$HOSTILE" ] || td_fail "$HOSTILE not built"
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
PEER=$LAB_LIB_DIR/svcpeer.py
CLI=$LAB_LIB_DIR/svctls.py
N=${SVC_IDLE:-10000}
KIB_MAX=${SVC_KIB_MAX:-64}
S=198.18.0.1
field() { "$CTL" -s "$LAB_DIR/control.sock" --json services | jq -r ".services[] | select(.name == \"$1\") | .$2"; }
# The workers' RSS in KiB (the master's children named tunneld: not the
# hashing or key processes).
worker_rss() {
	local p total=0
	for p in $(ps --ppid "$TD_PID" -o pid=,comm= | awk '$2 == "tunneld" { print $1 }'); do
		total=$((total + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")))
	done
	echo $total
}

mkdir -p "$LAB_DIR/www"
echo "hello through a service" >"$LAB_DIR/www/hello"
lab_bg lan "$LAB_DIR/http.log" python3 -m http.server -d "$LAB_DIR/www" -b 198.18.1.2 8080 >/dev/null
lab_bg lan "$LAB_DIR/hold.log" bash -c "ulimit -n 20000 && exec python3 $PEER hold 198.18.1.2 9002 $LAB_DIR/hold.count" >/dev/null
lab_bg lan "$LAB_DIR/flood.log" python3 "$PEER" flood 198.18.1.2 9003 "$LAB_DIR/flood.sent" >/dev/null
for p in 8080 9002 9003; do lab_wait_listen lan $p 10 || td_fail "lan port $p"; done

svc() { # svc NAME PORT DEST [more fields]
	printf '{ name = "%s"; listen = "%s:%s"; connect = "%s"; certificate = "%s"; key = "%s";%s }' \
		"$1" "$S" "$2" "$3" "$LAB_CERT" "$LAB_KEY" "${4:-}"
}
# One client address opens all the streams: the per-address handshake
# limit is raised; max-clients is lowered so that the fd need fits.
TD_EXTRA="services = ( $(svc web 8443 198.18.1.2:8080), $(svc idle 8449 198.18.1.2:9002 ' max-connections = 12000;'), $(svc flood 8450 198.18.1.2:9003) );
limits = { max-clients = 100; handshake-timeout = 3; max-handshakes-per-address = 2000; };" \
	TD_WORKERS=2 TD_LOG_LEVEL=info td_config
td_start

# 10,000 idle streams.
lab_cli c1 bash -c "ulimit -n 20000 && exec python3 $CLI idle $S 8449 100 2" >/dev/null ||
	td_fail "100 warm-up streams"
sleep 2
rss0=$(worker_rss)
lab_bg c1 "$LAB_DIR/idle.log" bash -c "ulimit -n 20000 && exec python3 $CLI idle $S 8449 $N 30" >/dev/null
idle_pid=$LAB_BG_PID
for _ in $(seq 600); do grep -q '^held' "$LAB_DIR/idle.log" && break; sleep 0.2; done
grep -q "^held $N\$" "$LAB_DIR/idle.log" || td_fail "idle streams: $(cat "$LAB_DIR/idle.log")"
for _ in $(seq 50); do [ "$(cat "$LAB_DIR/hold.count" 2>/dev/null || echo 0)" -ge "$N" ] && break; sleep 0.2; done
[ "$(cat "$LAB_DIR/hold.count")" -ge "$N" ] || td_fail "destination holds $(cat "$LAB_DIR/hold.count") streams"
sleep 1.5
rss1=$(worker_rss)
open=$(field idle open)
[ "$open" -ge "$N" ] || td_fail "tunnelctl: $open streams open"
kib=$(awk -v a="$rss0" -v b="$rss1" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')
awk -v k="$kib" -v m="$KIB_MAX" 'BEGIN { exit !(k <= m) }' ||
	td_fail "$kib KiB per idle stream (at most $KIB_MAX)"
td_pass "$N idle streams held: workers' RSS $rss0 -> $rss1 KiB, $kib KiB per stream"
lab_cli c1 curl -sSk -m 10 https://$S:8443/hello | grep -q "hello through" ||
	td_fail "curl during the idle streams"
kill "$idle_pid" 2>/dev/null || true
for _ in $(seq 100); do [ "$(field idle open)" = 0 ] && break; sleep 0.2; done
[ "$(field idle open)" = 0 ] || td_fail "$(field idle open) idle streams left after the client went"
td_pass "every idle stream closed after the client went"

# Slow-loris on the service (TCP only, half a ClientHello): closed at
# limits.handshake-timeout (3 s); curl gets in meanwhile.  (Trickling
# bytes after the handshake is the destination's business: they are
# relayed, and only silence counts towards idle-timeout.)
lab_bg c1 "$LAB_DIR/loris-tcp.log" "$HOSTILE" -s $S:8443 -t 9 loris tcp 150 --lifetime 2:6 >/dev/null
loris1=$LAB_BG_PID
lab_bg c1 "$LAB_DIR/loris-hello.log" "$HOSTILE" -s $S:8443 -t 9 loris hello 150 --lifetime 2:6 >/dev/null
loris2=$LAB_BG_PID
sleep 3
lab_cli c1 curl -sSk -m 5 https://$S:8443/hello | grep -q "hello through" ||
	td_fail "curl during the slow-loris"
wait "$loris1" || td_fail "slow-loris (tcp): $(tail -5 "$LAB_DIR/loris-tcp.log")"
wait "$loris2" || td_fail "slow-loris (hello): $(tail -5 "$LAB_DIR/loris-hello.log")"
td_pass "slow-loris: $(grep -h 'lifetime_ms' "$LAB_DIR"/loris-*.log | tr '\n' ' '); curl got through"

# A client that never reads: the destination is held back.
rss0=$(worker_rss)
lab_bg c1 "$LAB_DIR/noread.log" python3 "$CLI" noread $S 8450 30 >/dev/null
for _ in $(seq 50); do grep -q connected "$LAB_DIR/noread.log" && break; sleep 0.1; done
sleep 4
a=$(cat "$LAB_DIR/flood.sent")
sleep 3
b=$(cat "$LAB_DIR/flood.sent")
rss1=$(worker_rss)
[ $((b - a)) -le $((1 << 20)) ] || td_fail "the destination kept sending: $a -> $b bytes"
[ "$b" -le $((32 << 20)) ] || td_fail "$b bytes taken from the destination for a client that reads nothing"
[ $((rss1 - rss0)) -le 8192 ] || td_fail "workers' RSS grew $((rss1 - rss0)) KiB"
lab_cli c1 curl -sSk -m 10 https://$S:8443/hello | grep -q "hello through" ||
	td_fail "curl during the never-reader"
td_pass "never-reader: the destination stopped at $b bytes (3 s: +$((b - a))), workers' RSS +$((rss1 - rss0)) KiB"
grep -q "seccomp" "$TD_LOG" && td_fail "seccomp: $(grep seccomp "$TD_LOG")"
td_stop || td_fail "unclean stop"
