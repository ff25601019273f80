#!/bin/bash
# bench/bench.sh - make bench: tunneld against Debian's ocserv, same lab,
# same certificate (ECDSA P-256), same password hashes, MTU 1400, DTLS on
# both servers; each figure over TLS (openconnect --no-dtls), and the DTLS
# rows over DTLS.  Prints one table with the figures, the tunneld/ocserv
# ratios and the performance targets.  Not part of make check or CI.
# Needs root.
#
#   c1 (openconnect, iperf3 -c) --+
#   ld (tunneld-load)  -----------+-- br0 [server ns: tunneld | ocserv] lan0 --- lan 198.18.1.2
#      198.18.0.11, .100-.199     |        198.18.0.1:4443   198.18.1.1          (iperf3 -s,
#                                                                                 udp echo :9000)
#   pool 198.19.0.0/16 + fd00:100::/64; ld also reaches the lan without a
#   tunnel (plain routing through the server ns) for the raw RTT.
#
# Environment: BENCH_RUNS (default 3) runs of everything except the held
# sessions (once); BENCH_QUICK=1 for a short run; BENCH_SECS (iperf3 and
# echo seconds, default 10); BENCH_HOLD (tunneld sessions, default 10000);
# BENCH_OC_HOLD (ocserv sessions, default 500: one process and one tun
# device each); BENCH_OUT (where the table is also written); BENCH_ONLY=rules
# for the rule-cost rows alone (tunneld with the default rules and with 100
# port ranges per protocol); BENCH_ONLY=hold for tunneld's held sessions
# alone (BENCH_HOLD of them, e.g. 50000) and its connect rate while
# BENCH_HELD (default 10000) sessions are held.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export top_builddir=${top_builddir:-$(cd "$HERE/.." && pwd)}
. "$HERE/../tests/e2e/lib/lib.sh"
. "$HERE/../tests/e2e/lib/td.sh"

LOAD=$top_builddir/bench/tunneld-load
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	RUNS=${BENCH_RUNS:-1} SECS=${BENCH_SECS:-3} CR_SECS=3 HOLD=${BENCH_HOLD:-1000}
	OC_HOLD=${BENCH_OC_HOLD:-100} IDLE_SECS=2
else
	RUNS=${BENCH_RUNS:-3} SECS=${BENCH_SECS:-10} CR_SECS=10 HOLD=${BENCH_HOLD:-10000}
	OC_HOLD=${BENCH_OC_HOLD:-500} IDLE_SECS=3
fi
OUT=${BENCH_OUT:-$top_builddir/bench/results.txt}
POOL4=198.19.0.0/16
ECHO=198.18.1.2:9000

[ "$(id -u)" = 0 ] || { echo "bench: run as root (it builds network namespaces)" >&2; exit 1; }
[ -x "$LOAD" ] || { echo "bench: $LOAD not built (make first)" >&2; exit 1; }
lab_need iperf3 openconnect ocserv ocpasswd ping
# One fd per session on both sides (root may raise the hard limit).
[ "$(ulimit -Hn)" -ge $((HOLD + 1000)) ] || ulimit -Hn $((HOLD + 1000)) 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((HOLD + 200)) ]; then
	HOLD=$(($(ulimit -n) - 200))
	echo "bench: only $(ulimit -n) file descriptors: holding $HOLD sessions" >&2
fi

lab_init bench
lab_make_cert
lab_add_client c1
lab_add_client ld
LD=$(lab_ns ld)
RES=$LAB_DIR/results
: >"$RES"
say() { echo "[$(date +%T)] $*" >&2; }

# Routes: the lan answers the pool through the server; ld and the lan
# reach each other without a tunnel too (for the raw RTT).
ip -n "$LAB_NS_LAN" route add "$POOL4" via 198.18.1.1
ip -n "$LAB_NS_LAN" route add 198.18.0.0/24 via 198.18.1.1
ip -n "$LD" route add 198.18.1.0/24 via "$LAB_SRV_IP"
for i in $(seq 100 199); do ip -n "$LD" addr add "198.18.0.$i/24" dev eth0; done

# Both servers check the very same two hashes: SHA-512 crypt (alice, used
# for everything) and yescrypt (yves, for the connect rate with the
# default hash of tunneld-passwd).
printf 'alice-pass\n' | "$TD_PASSWD" -f "$LAB_DIR/passwd" -m sha512 alice >/dev/null
printf 'alice-pass\n' | "$TD_PASSWD" -f "$LAB_DIR/passwd" -m yescrypt yves >/dev/null
HASH_SHA=$(sed -n 's/^alice://p' "$LAB_DIR/passwd")
HASH_Y=$(sed -n 's/^yves://p' "$LAB_DIR/passwd")
COST_SHA=$("$LOAD" --hash-cost "$HASH_SHA" -p alice-pass | sed -n 's/.* ms=\([0-9.]*\).*/\1/p')
COST_Y=$("$LOAD" --hash-cost "$HASH_Y" -p alice-pass | sed -n 's/.* ms=\([0-9.]*\).*/\1/p')
say "password hash cost (CPU time): SHA-512 crypt $COST_SHA ms, yescrypt $COST_Y ms"

lab_bg lan "$LAB_DIR/echo.log" "$LOAD" --echo 9000 --duration 3600 >/dev/null
lab_wait_listen lan 9000 10 udp
# TCP-like packets go to 198.18.2.0/24, routed on the lan host into a tun
# device whose reflector sends them back: no TCP stack answers them.
lab_reflector "$LOAD" 3600
lab_bg lan "$LAB_DIR/iperf-s.log" iperf3 -s -p 5201 >/dev/null
lab_wait_listen lan 5201 10

# ---- servers ----
SRV_PID=""
OC_DIR=$LAB_DIR/ocserv

start_tunneld() {
	TD_WORKERS='"auto"' TD_POOL4=$POOL4 TD_LOG_LEVEL=info \
		TD_EXTRA="limits = { max-clients = $((HOLD + 1000)); max-sessions-per-user = 0; };
${RULES_EXTRA:-}" td_config
	td_start
	SRV_PID=$TD_PID
}

stop_tunneld() {
	td_stop || say "tunneld did not stop cleanly"
	SRV_PID=""
}

# Debian's ocserv as the lab starts it (tests/e2e/lib/lib.sh
# lab_start_ocserv, with DTLS), sized for the bench: the pool, max-clients, and the
# same hashes as tunneld's password file.
start_ocserv() {
	mkdir -p "$OC_DIR"
	printf 'alice:*:%s\nyves:*:%s\n' "$HASH_SHA" "$HASH_Y" >"$OC_DIR/passwd"
	LAB_OCSERV_DTLS=1 LAB_OCSERV_PASSWD=$OC_DIR/passwd LAB_OCSERV_POOL4=$POOL4 LAB_OCSERV_MAX_CLIENTS=$((HOLD + 1000)) \
		lab_start_ocserv "$OC_DIR" || return 1
	SRV_PID=$LAB_OCSERV_PID
}

stop_ocserv() {
	local deadline=$(($(lab__now_ms) + 15000))
	kill -TERM "$SRV_PID" 2>/dev/null || true
	while lab_alive "$SRV_PID" && [ "$(lab__now_ms)" -lt $deadline ]; do sleep 0.1; done
	lab_alive "$SRV_PID" && kill -KILL "$SRV_PID" 2>/dev/null
	# Its per-client tun devices go with its workers.
	while ip -n "$LAB_NS_SRV" link show vpns0 >/dev/null 2>&1 &&
		[ "$(lab__now_ms)" -lt $deadline ]; do sleep 0.1; done
	SRV_PID=""
}

# ---- measurements; each appends "RUN SERVER KEY VALUE" lines ----
rec() { echo "$RUN $SRV $1 $2" >>"$RES"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
cpu_now() {
	{ "$LOAD" --proc-stat --server-pid "$SRV_PID" || true; } | sed -n 's/^cpu_s=\([0-9.]*\).*/\1/p'
}

# A server that died is reported (with its log) and started again.
check_alive() {
	lab_alive "$SRV_PID" && return 0
	say "$SRV died during $1; log tail:"
	tail -n 30 "${TD_LOG:-/dev/null}" "$OC_DIR/ocserv.log" 2>/dev/null >&2 || true
	rec died 1
	"start_$SRV"
}

# The stock client in c1 over TLS (KIND tls: --no-dtls) or DTLS (dtls:
# the tunnel must be up on DTLS, as its log says).  1 when it is not.
client_up() {
	local kind=$1
	if [ "$kind" = tls ]; then
		lab_start_client c1 alice alice-pass --no-dtls
	else
		lab_start_client c1 alice alice-pass
	fi
	lab_wait_client c1 30 || { say "$SRV: openconnect did not connect"; return 1; }
	if [ "$kind" = dtls ] && ! grep -q 'Established DTLS connection' "$LAB_DIR/c1.oc.log"; then
		say "$SRV: openconnect did not bring DTLS up: $(grep -i dtls "$LAB_DIR/c1.oc.log" | tail -n 3)"
		rec dtls_client_failed 1
		client_down
		return 1
	fi
}

client_down() {
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || say "$SRV: openconnect did not exit"
}

# iperf3 from c1 to the lan host: P streams, DIR up|down; prints
# "BYTES BITS_PER_S RETRANSMITS" (receiver side), 1 when it failed.
iperf() {
	local p=$1 dir=$2 flag="" out bytes="" bps=""
	[ "$dir" = down ] && flag=-R
	out=$(lab_cli c1 timeout $((SECS + 30)) iperf3 -c "$LAB_LAN_IP" -p 5201 \
		-t "$SECS" -P "$p" $flag -J 2>&1) || { say "iperf3 $p $dir failed"; return 1; }
	read -r bytes bps < <(awk -F'[:,]' '/"sum_received"/ {f=1}
		f && /"bytes"/ {b=$2} f && /"bits_per_second"/ {print b, $2; exit}' <<<"$out") || true
	if [ -z "$bps" ]; then
		say "iperf3 $p $dir: no result: $(head -c 300 <<<"$out")"
		return 1
	fi
	echo "$bytes $bps $(awk -F'[:,]' '/"sum_sent"/ {f=1}
		f && /"retransmits"/ {print $2 + 0; exit}' <<<"$out")"
}

# iperf3 through the stock client over KIND (tls|dtls): 1 and 4 streams,
# both directions; keys with prefix PFX ("" for TLS, "d" for DTLS).
throughput() {
	local kind=$1 pfx=$2 p dir c0 c1 res bytes bps retr cpu_all=0 gb_all=0
	client_up "$kind" || return 0
	for p in 1 4; do
		for dir in up down; do
			c0=$(cpu_now)
			res=$(iperf $p $dir) || continue
			c1=$(cpu_now)
			read -r bytes bps retr <<<"$res"
			rec "${pfx}retr_${p}_$dir" "$retr"
			[ -n "$c0" ] && [ -n "$c1" ] || continue
			rec "${pfx}tput_${p}_$dir" "$(awk -v b="$bps" 'BEGIN {printf "%.3f", b / 1e9}')"
			rec "${pfx}cpugb_${p}_$dir" "$(awk -v a="$c0" -v z="$c1" -v b="$bytes" \
				'BEGIN {printf "%.3f", (z - a) / (b / 1e9)}')"
			cpu_all=$(awk -v x="$cpu_all" -v a="$c0" -v z="$c1" 'BEGIN {print x + z - a}')
			gb_all=$(awk -v x="$gb_all" -v b="$bytes" 'BEGIN {print x + b / 1e9}')
			say "$SRV $kind iperf3 -P $p $dir: $(awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e9}') Gbit/s, server CPU $(awk -v a="$c0" -v z="$c1" 'BEGIN {print z - a}') s"
		done
	done
	awk -v c="$cpu_all" -v g="$gb_all" 'BEGIN {exit !(g > 0)}' &&
		rec "${pfx}cpu_per_gb" "$(awk -v c="$cpu_all" -v g="$gb_all" 'BEGIN {printf "%.3f", c / g}')"
	# The stock client's ping RTT through the tunnel (median of 200).
	rec "${pfx}ping_tunnel_us" "$(lab_cli c1 ping -n -c 200 -i 0.01 -W 1 "$LAB_LAN_IP" 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -n |
		awk '{a[NR] = $1} END {if (NR) printf "%.1f", a[int((NR + 1) / 2)] * 1000}')"
	client_down
}

# 1 % of the tunnel's outer packets dropped at random, each direction, TCP
# and UDP alike (the server's port): on the wire between the clients and the
# server, i.e. as they enter and leave the bridge ports of the clients'
# links in the server namespace (netdev ingress and egress hooks), so no
# sender sees an error, as with loss on a real path.  This kernel has no
# sch_netem: nftables' numgen does it.
loss_on() {
	local devs
	devs=$(ip -n "$LAB_NS_SRV" -o link show master br0 | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		paste -sd, -)
	lab_srv nft -f - <<-EOF
		table netdev benchloss {
			chain in { type filter hook ingress devices = { $devs } priority 0;
				meta l4proto { tcp, udp } th dport $LAB_PORT numgen random mod 100 < 1 counter drop; }
			chain out { type filter hook egress devices = { $devs } priority 0;
				meta l4proto { tcp, udp } th sport $LAB_PORT numgen random mod 100 < 1 counter drop; }
		}
	EOF
}

loss_off() { lab_srv nft delete table netdev benchloss 2>/dev/null || true; }

# TCP through the tunnel over KIND (tls|dtls) with 1 % loss: iperf3, one
# stream each way.  The client is up before the loss starts.
lossy() {
	local kind=$1 dir res bytes bps retr
	client_up "$kind" || return 0
	loss_on
	for dir in up down; do
		res=$(iperf 1 $dir) || continue
		read -r bytes bps retr <<<"$res"
		rec "loss_${kind}_$dir" "$(awk -v b="$bps" 'BEGIN {printf "%.4f", b / 1e9}')"
		say "$SRV 1 % loss, $kind, iperf3 $dir: $(awk -v b="$bps" 'BEGIN {printf "%.3f", b / 1e9}') Gbit/s, $retr retransmits ($bytes bytes)"
	done
	say "$SRV 1 % loss, $kind: dropped (in, out): $(lab_srv nft list table netdev benchloss |
		grep -o 'packets [0-9]*' | cut -d' ' -f2 | paste -sd' ' -)"
	loss_off
	client_down
}

# tunneld-load in the load client's namespace; prints its RESULT line.
# The lab's settings come first: a later option (the caller's) wins.
load() {
	lab_cli ld "$LOAD" --servercert "$LAB_PIN" --server-pid "$SRV_PID" --source 198.18.0.100/100 \
		--server "$LAB_SRV_IP:$LAB_PORT" --echo-addr "$ECHO" "$@" 2>&1 | tee -a "$LAB_DIR/load.log" |
		grep '^RESULT' || true
}

latency_and_load() {
	local r
	# One idle session through the tunnel; the same loop probes the echo
	# server without a tunnel between the tunnel's packets (raw RTT).
	r=$(load --echo-load 1 --window 1 --interval 1000 --size 100 -t "$IDLE_SECS" \
		--raw-compare --label idle)
	rec raw_p50_us "$(field raw_p50_us "$r")"
	rec ping_raw_us "$(lab_cli ld ping -n -c 200 -i 0.01 -W 1 "$LAB_LAN_IP" 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -n |
		awk '{a[NR] = $1} END {if (NR) printf "%.1f", a[int((NR + 1) / 2)] * 1000}')"
	rec idle_p50_us "$(field rtt_p50_us "$r")"
	rec idle_p99_us "$(field rtt_p99_us "$r")"
	# Many sessions, closed loop, 1000-byte packets.
	r=$(load --echo-load 64 --window 4 --size 1000 -t $SECS --label echo)
	rec echo_pps "$(field pps "$r")"
	rec echo_gbps "$(field gbps "$r")"
	rec echo_cpugb "$(field cpu_s_per_gb "$r")"
	rec echo_p50_us "$(field rtt_p50_us "$r")"
	rec echo_p99_us "$(field rtt_p99_us "$r")"
	say "$SRV echo: $r"
	# The same with TCP-like segments (through the tun reflector).
	r=$(load --echo-load 64 --window 4 --size 1000 -t $SECS --proto tcp \
		--echo-addr 198.18.2.1:5001 --label tcp-echo)
	rec tcpecho_pps "$(field pps "$r")"
	rec tcpecho_gbps "$(field gbps "$r")"
	rec tcpecho_cpugb "$(field cpu_s_per_gb "$r")"
	rec tcpecho_p50_us "$(field rtt_p50_us "$r")"
	say "$SRV tcp-like echo: $r"
	# UDP echo again, over DTLS (tunneld-load --dtls).
	r=$(load --echo-load 64 --window 4 --size 1000 -t $SECS --dtls --label dtls-echo)
	rec decho_pps "$(field pps "$r")"
	rec decho_gbps "$(field gbps "$r")"
	rec decho_cpugb "$(field cpu_s_per_gb "$r")"
	rec decho_p50_us "$(field rtt_p50_us "$r")"
	rec decho_p99_us "$(field rtt_p99_us "$r")"
	say "$SRV DTLS echo: $r"
	# 16 sessions re-handshaking DTLS (same App-ID, a new socket) every 2 s
	# under echo traffic: echoes lost per re-handshake.
	r=$(load --echo-load 16 --window 4 --size 1000 -t $SECS --dtls --dtls-rehandshake 2 \
		--label dtls-rehandshake)
	rec rehs_done "$(field rehs "$r")"
	rec rehs_p50_ms "$(field rehs_p50_ms "$r")"
	rec rehs_lost "$(awk -v l="$(field lost "$r")" -v n="$(field rehs "$r")" \
		'BEGIN {if (n > 0) printf "%.2f", l / n}')"
	say "$SRV DTLS re-handshakes: $r"
}

# tunneld hashes in processes of their own (tunneld-hash): connects per
# CPU-s of the rest, the hashing processes' CPU as measured taken out
# rather than n times the hash's cost alone (two busy CPUs make each hash
# dearer than alone).  Empty for ocserv (sec-mod also does other work).
per_cpu_no_hashers() {
	awk -v n="$(field connects "$1")" -v cpu="$(field server_cpu_s "$1")" \
		-v h="$(field server_hash_cpu_s "$1")" \
		'BEGIN {x = cpu - h; if (h > 0 && x > 0) printf "%.1f", n / x}'
}

connects() {
	local r c
	r=$(load --connect-rate -t "$CR_SECS" -c 16 -u alice --label sha512)
	c=$(field connects "$r")
	rec cr_rate "$(field rate "$r")"
	rec cr_per_cpu "$(field per_cpu_s "$r")"
	# The master (tunneld) or sec-mod (ocserv) hashes once per login:
	# take that CPU out to get the cost of TLS + login + CONNECT.
	rec cr_per_cpu_nohash "$(awk -v n="$c" -v cpu="$(field server_cpu_s "$r")" -v h="$COST_SHA" \
		'BEGIN {x = cpu - n * h / 1000; if (x > 0) printf "%.1f", n / x}')"
	rec cr_per_cpu_nohash_proc "$(per_cpu_no_hashers "$r")"
	rec cr_p50_ms "$(field lat_p50_ms "$r")"
	rec cr_rss_growth_kb "$(awk -v a="$(field rss_before_kb "$r")" -v b="$(field rss_after_kb "$r")" \
		'BEGIN {print b - a}')"
	say "$SRV connect-rate sha512: $r"
	r=$(load --connect-rate -t "$CR_SECS" -c 16 -u yves --label yescrypt)
	rec cr_rate_yescrypt "$(field rate "$r")"
	say "$SRV connect-rate yescrypt: $r"
}

hold() {
	local n=$1 r
	# A few logins first: what the first connection sets up once is not
	# per-session memory.
	load --connect-rate -t 1 -c 4 -u alice --label warmup >/dev/null
	sleep 1
	r=$(load --hold "$n" -t 5 -c 64 --connect-phase 300 -u alice --label hold)
	rec hold_sessions "$(field held "$r")"
	rec hold_rss_kb "$(field rss_per_session_kb "$r")"
	rec hold_pss_kb "$(field pss_per_session_kb "$r")"
	rec hold_setup_rate "$(awk -v n="$(field held "$r")" -v t="$(field setup_s "$r")" \
		'BEGIN {if (t > 0) printf "%.0f", n / t}')"
	say "$SRV hold: $r"
}

# Connects while n idle sessions are held (by a second tunneld-load): the
# rate, and connects per server CPU-s with the hash excluded.
connects_while_held() {
	local n=$1 r c bg
	lab_cli ld "$LOAD" --servercert "$LAB_PIN" --source 198.18.0.100/100 \
		--server "$LAB_SRV_IP:$LAB_PORT" --hold "$n" -t 600 -c 64 --connect-phase 300 \
		-u alice --label held >"$LAB_DIR/held.log" 2>&1 &
	bg=$!
	for _ in $(seq 1 700); do
		grep -q '^hold held:' "$LAB_DIR/held.log" && break
		sleep 0.5
	done
	say "$SRV background: $(grep '^hold held:' "$LAB_DIR/held.log" || echo "not set up")"
	rec held_sessions "$(sed -n 's/^hold held: \([0-9]*\) of.*/\1/p' "$LAB_DIR/held.log")"
	r=$(load --connect-rate -t "$CR_SECS" -c 16 -u alice --label held-sha512)
	c=$(field connects "$r")
	rec held_cr_rate "$(field rate "$r")"
	rec held_cr_per_cpu_nohash "$(awk -v n="$c" -v cpu="$(field server_cpu_s "$r")" -v h="$COST_SHA" \
		'BEGIN {x = cpu - n * h / 1000; if (x > 0) printf "%.1f", n / x}')"
	rec held_cr_per_cpu_nohash_proc "$(per_cpu_no_hashers "$r")"
	say "$SRV connect-rate with $n held: $r"
	# The holder and its child processes.
	pkill -TERM -f -- "--label held\$" 2>/dev/null || true
	wait "$bg" 2>/dev/null || true
}

# The same with DTLS up on every session: memory per DTLS session, and the
# time from the CONNECT answer to DTLS up with 64 logins at once.
hold_dtls() {
	local n=$1 r
	load --connect-rate -t 1 -c 4 -u alice --label warmup >/dev/null
	sleep 1
	r=$(load --hold "$n" -t 5 -c 64 --connect-phase 300 -u alice --dtls --label hold-dtls)
	rec dhold_sessions "$(field dtls_up "$r")"
	rec dhold_failed "$(field dtls_failed "$r")"
	rec dhold_rss_kb "$(field rss_per_session_kb "$r")"
	rec dhold_pss_kb "$(field pss_per_session_kb "$r")"
	rec dtls_up_p50_ms "$(field dtls_p50_ms "$r")"
	rec dtls_up_p99_ms "$(field dtls_p99_ms "$r")"
	say "$SRV hold DTLS: $r"
}

# The cost of the traffic rules: the stock client over TLS, iperf3 one
# stream each way, with the default rules and with 100 port ranges for TCP
# and for UDP and the protocols limited, so that every packet from the
# client has its transport header read and the ranges searched (5201, the
# iperf3 port, is the last range).  Server CPU-s per GB of each; and the
# rule check alone in ns per packet (bench/rulecost).
rules100() {
	local p="" i
	for i in $(seq 0 97); do p="$p\"$((10001 + 2 * i))\", "; done
	echo "rules = { protocols = [ \"tcp\", \"udp\", \"icmp\" ];
  tcp-ports = [ $p\"60000\", \"5201\" ]; udp-ports = [ $p\"60000\", \"5201\" ]; };"
}

rule_cost() {
	local n res bytes bps retr c0 c1 cpu gb dir r
	for n in 0 100; do
		RULES_EXTRA=""
		[ $n = 0 ] || RULES_EXTRA=$(rules100)
		start_tunneld
		RULES_EXTRA=""
		if client_up tls; then
			cpu=0 gb=0
			for dir in up down; do
				c0=$(cpu_now)
				res=$(iperf 1 $dir) || continue
				c1=$(cpu_now)
				read -r bytes bps retr <<<"$res"
				cpu=$(awk -v x="$cpu" -v a="$c0" -v z="$c1" 'BEGIN {print x + z - a}')
				gb=$(awk -v x="$gb" -v b="$bytes" 'BEGIN {print x + b / 1e9}')
			done
			awk -v g="$gb" 'BEGIN {exit !(g > 0)}' &&
				rec "rules${n}_cpugb" "$(awk -v c="$cpu" -v g="$gb" 'BEGIN {printf "%.3f", c / g}')"
			say "rules $n: server CPU $cpu s for $gb GB"
			client_down
		fi
		stop_tunneld
	done
	r=$("$top_builddir/bench/rulecost" 100 20)
	rec rules_ns_0 "$(field ns_default "$r")"
	rec rules_ns_100 "$(field ns_ranges "$r")"
	say "rule check alone: $r"
}

T0=$(date +%s)
say "bench: $RUNS run(s), iperf3/echo ${SECS}s, $(nproc) CPUs; lab $LAB_DIR"
for RUN in $(seq 1 "$RUNS"); do
	if [ "${BENCH_ONLY:-}" = rules ]; then
		SRV=tunneld
		rule_cost
		continue
	fi
	if [ "${BENCH_ONLY:-}" = hold ]; then
		SRV=tunneld
		start_tunneld
		hold "$HOLD"
		stop_tunneld
		start_tunneld
		connects_while_held "${BENCH_HELD:-10000}"
		stop_tunneld
		continue
	fi
	for SRV in tunneld ocserv; do
		say "run $RUN: $SRV"
		"start_$SRV"
		throughput tls ""
		check_alive throughput
		throughput dtls d
		check_alive "DTLS throughput"
		lossy tls
		lossy dtls
		check_alive "1 % loss"
		latency_and_load
		check_alive "echo load"
		connects
		check_alive "connect rate"
		"stop_$SRV"
		[ $SRV != tunneld ] || rule_cost
		if [ "$RUN" = 1 ]; then
			# On a fresh server, so that nothing left from the tests
			# above is freed while we count.
			"start_$SRV"
			if [ $SRV = tunneld ]; then hold "$HOLD"; else hold "$OC_HOLD"; fi
			"stop_$SRV"
			"start_$SRV"
			if [ $SRV = tunneld ]; then hold_dtls "$HOLD"; else hold_dtls "$OC_HOLD"; fi
			"stop_$SRV"
		fi
	done
done

# ---- the table ----
# Per key and server: median (min-max) over the runs; the ratio is
# tunneld/ocserv of the medians.
TLS=$(grep -m1 -o 'tls=[^ ]*' "$LAB_DIR/load.log" | cut -d= -f2 || true)
{
	echo
	echo "== make bench: tunneld $(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h" 2>/dev/null) vs ocserv $(ocserv --version 2>&1 | grep -o -m1 '[0-9][0-9.]*' || true) =="
	echo "$(nproc) CPUs, $RUNS run(s), iperf3 ${SECS}s per test, MTU 1400, $TLS"
	echo "TLS rows: openconnect --no-dtls, tunneld-load without --dtls; DTLS rows: DTLS 1.2 PSK-NEGOTIATE on both servers"
	echo "1 % loss: nftables 'numgen random mod 100 < 1 drop' on the clients' bridge ports (netdev ingress/egress), port 4443 TCP and UDP, both directions (no sch_netem in this kernel)"
	echo "password hashes (same on both servers): SHA-512 crypt $COST_SHA ms, yescrypt $COST_Y ms CPU per check"
	echo "figures: median (min..max) over runs; ratio = tunneld/ocserv; $(($(date +%s) - T0)) s in all"
	awk -v hold="$HOLD" -v ochold="$OC_HOLD" '
	function stats(k, s,   n, i, j, t, v) {
		n = split(vals[s, k], v, " ")
		if (n == 0 || vals[s, k] == "") return ""
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
		med[s, k] = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		if (n == 1) return sprintf("%.4g", med[s, k])
		return sprintf("%.4g (%.4g..%.4g)", med[s, k], v[1], v[n])
	}
	# row KEY LABEL TARGET: TARGET is "ge R" / "le R" on the ratio, "max X" on
	# tunneld, "sum" (handled below) or "" (information only)
	function row(k, label, tgt,   a, b, r, ok, op, x) {
		a = stats(k, "tunneld"); b = stats(k, "ocserv")
		r = ""
		if (a != "" && b != "" && med["ocserv", k] + 0 != 0)
			r = sprintf("%.2f", med["tunneld", k] / med["ocserv", k])
		ok = ""
		split(tgt, x, " ")
		if (x[1] == "ge" && r != "") ok = (r + 0 >= x[2]) ? "MET" : "NOT MET"
		if (x[1] == "le" && r != "") ok = (r + 0 <= x[2]) ? "MET" : "NOT MET"
		if (x[1] == "max" && a != "") ok = (med["tunneld", k] + 0 <= x[2]) ? "MET" : "NOT MET"
		if (x[1] == "min" && a != "") ok = (med["tunneld", k] + 0 >= x[2]) ? "MET" : "NOT MET"
		printf "%-44s %-24s %-24s %-7s %s\n", label, (a == "" ? "-" : a), (b == "" ? "-" : b), (r == "" ? "-" : r), (ok == "" ? "" : (x[3] " " ok))
	}
	# Per server and run: a / b of two keys, as key r (runs paired in order).
	function ratio_rows(a, b, r,   s, sv, n, i, x, y) {
		for (s = 1; s <= 2; s++) {
			sv = (s == 1) ? "tunneld" : "ocserv"
			n = split(vals[sv, a], x, " "); split(vals[sv, b], y, " ")
			for (i = 1; i <= n; i++)
				if (y[i] + 0 > 0) vals[sv, r] = vals[sv, r] (vals[sv, r] == "" ? "" : " ") sprintf("%.2f", x[i] / y[i])
		}
	}
	{ if ($4 != "") vals[$2, $3] = vals[$2, $3] (vals[$2, $3] == "" ? "" : " ") $4 }
	END {
		printf "%-44s %-24s %-24s %-7s %s\n", "figure", "tunneld", "ocserv", "ratio", "target"
		row("tput_1_up", "iperf3 1 stream up (Gbit/s)", "ge 1.5 >=1.5x")
		row("tput_1_down", "iperf3 1 stream down (Gbit/s)", "ge 1.5 >=1.5x")
		row("tput_4_up", "iperf3 4 streams up (Gbit/s)", "ge 1.5 >=1.5x")
		row("tput_4_down", "iperf3 4 streams down (Gbit/s)", "ge 1.5 >=1.5x")
		row("retr_1_up", "TCP retransmits, 1 stream up", "")
		row("retr_1_down", "TCP retransmits, 1 stream down", "")
		row("retr_4_up", "TCP retransmits, 4 streams up", "")
		row("retr_4_down", "TCP retransmits, 4 streams down", "")
		row("cpugb_1_up", "server CPU-s/GB, 1 stream up", "")
		row("cpugb_1_down", "server CPU-s/GB, 1 stream down", "")
		row("cpugb_4_up", "server CPU-s/GB, 4 streams up", "")
		row("cpugb_4_down", "server CPU-s/GB, 4 streams down", "")
		row("cpu_per_gb", "server CPU-s/GB, all iperf3 tests", "le 0.2 <=1/5")
		row("dtput_1_up", "DTLS: iperf3 1 stream up (Gbit/s)", "ge 1.5 >=1.5x")
		row("dtput_1_down", "DTLS: iperf3 1 stream down (Gbit/s)", "ge 1.5 >=1.5x")
		row("dtput_4_up", "DTLS: iperf3 4 streams up (Gbit/s)", "ge 1.5 >=1.5x")
		row("dtput_4_down", "DTLS: iperf3 4 streams down (Gbit/s)", "ge 1.5 >=1.5x")
		row("dretr_1_up", "DTLS: TCP retransmits, 1 stream up", "")
		row("dretr_1_down", "DTLS: TCP retransmits, 1 stream down", "")
		row("dcpugb_1_up", "DTLS: server CPU-s/GB, 1 stream up", "")
		row("dcpugb_1_down", "DTLS: server CPU-s/GB, 1 stream down", "")
		row("dcpu_per_gb", "DTLS: server CPU-s/GB, all iperf3 tests", "le 0.2 <=1/5")
		row("dping_tunnel_us", "DTLS: ping RTT via openconnect, median (us)", "")
		row("loss_tls_up", "1% loss, TLS: iperf3 1 stream up (Gbit/s)", "")
		row("loss_tls_down", "1% loss, TLS: iperf3 1 stream down (Gbit/s)", "")
		row("loss_dtls_up", "1% loss, DTLS: iperf3 1 stream up (Gbit/s)", "")
		row("loss_dtls_down", "1% loss, DTLS: iperf3 1 stream down (Gbit/s)", "")
		ratio_rows("loss_dtls_up", "loss_tls_up", "loss_x_up")
		ratio_rows("loss_dtls_down", "loss_tls_down", "loss_x_down")
		row("loss_x_up", "1% loss: DTLS/TLS throughput, up", "min 3 >=3x")
		row("loss_x_down", "1% loss: DTLS/TLS throughput, down", "min 3 >=3x")
		row("echo_pps", "UDP echo, 64 sessions (echoes/s)", "")
		row("echo_gbps", "UDP echo, 64 sessions (Gbit/s, both ways)", "")
		row("echo_cpugb", "UDP echo: server CPU-s/GB", "")
		row("echo_p50_us", "UDP echo under load: RTT p50 (us)", "")
		row("echo_p99_us", "UDP echo under load: RTT p99 (us)", "")
		row("tcpecho_pps", "TCP-like echo, 64 sessions (echoes/s)", "")
		row("tcpecho_gbps", "TCP-like echo (Gbit/s, both ways)", "")
		row("tcpecho_cpugb", "TCP-like echo: server CPU-s/GB", "")
		row("tcpecho_p50_us", "TCP-like echo under load: RTT p50 (us)", "")
		row("decho_pps", "DTLS UDP echo, 64 sessions (echoes/s)", "")
		row("decho_gbps", "DTLS UDP echo (Gbit/s, both ways)", "")
		row("decho_cpugb", "DTLS UDP echo: server CPU-s/GB", "")
		row("decho_p50_us", "DTLS UDP echo: RTT p50 (us)", "")
		row("decho_p99_us", "DTLS UDP echo: RTT p99 (us)", "")
		row("rehs_done", "DTLS re-handshakes (16 sessions, every 2 s)", "")
		row("rehs_p50_ms", "DTLS re-handshake time p50 (ms)", "")
		row("rehs_lost", "echoes lost per DTLS re-handshake", "")
		row("cr_rate", "connects/s (SHA-512 crypt, 16 at once)", "")
		row("cr_per_cpu", "connects per server CPU-s (hash incl.)", "")
		row("cr_per_cpu_nohash", "connects per server CPU-s (hash excl.)", "min 1500 >=1500")
		row("cr_per_cpu_nohash_proc", "  the same, hasher CPU excl. (measured)", "")
		row("cr_rate_yescrypt", "connects/s (yescrypt, 16 at once)", "")
		row("cr_p50_ms", "connect time p50 (ms, SHA-512)", "")
		row("cr_rss_growth_kb", "server RSS growth over a connect run (KiB)", "")
		row("hold_sessions", "idle sessions held", "min " hold " =" hold)
		row("hold_rss_kb", "server RSS per idle session (KiB)", "max 12 <=12KiB")
		row("hold_pss_kb", "server PSS per idle session (KiB)", "")
		row("hold_setup_rate", "sessions set up per s while filling", "")
		row("held_sessions", "sessions held while connecting (below)", "")
		row("held_cr_rate", "connects/s with those held (SHA-512)", "")
		row("held_cr_per_cpu_nohash", "  per server CPU-s (hash excl.)", "min 1500 >=1500")
		row("held_cr_per_cpu_nohash_proc", "  the same, hasher CPU excl. (measured)", "")
		row("dhold_sessions", "idle DTLS sessions held (DTLS up)", "min " hold " =" hold)
		row("dhold_failed", "DTLS handshakes failed while filling", "")
		row("dhold_rss_kb", "server RSS per idle DTLS session (KiB)", "max 40 <=40KiB")
		row("dhold_pss_kb", "server PSS per idle DTLS session (KiB)", "")
		row("dtls_up_p50_ms", "time to DTLS up p50 (ms, 64 logins at once)", "")
		row("dtls_up_p99_ms", "time to DTLS up p99 (ms, 64 logins at once)", "")
		row("raw_p50_us", "raw UDP RTT, no tunnel, p50 (us)", "")
		row("idle_p50_us", "idle tunnel UDP RTT p50 (us)", "")
		row("idle_p99_us", "idle tunnel UDP RTT p99 (us)", "")
		for (s = 1; s <= 2; s++) {
			sv = (s == 1) ? "tunneld" : "ocserv"
			n = split(vals[sv, "idle_p50_us"], ip, " "); split(vals[sv, "raw_p50_us"], rp, " ")
			for (i = 1; i <= n; i++) vals[sv, "added_us"] = vals[sv, "added_us"] (i > 1 ? " " : "") (ip[i] - rp[i])
		}
		row("added_us", "added idle latency p50 (us)", "max 100 <=100us")
		row("ping_raw_us", "ping RTT without tunnel, median (us)", "")
		row("ping_tunnel_us", "ping RTT via openconnect, median (us)", "")
		row("rules0_cpugb", "CPU-s/GB, TLS 1 stream up+down, no rules", "")
		row("rules100_cpugb", "the same, 100 port ranges per protocol", "")
		ratio_rows("rules100_cpugb", "rules0_cpugb", "rules_x")
		row("rules_x", "CPU-s/GB: 100 port ranges / no rules", "")
		row("rules_ns_0", "rule check alone, default rules (ns/packet)", "")
		row("rules_ns_100", "rule check alone, 100 ranges (ns/packet)", "")
		if (vals["tunneld", "dtls_client_failed"] != "" || vals["ocserv", "dtls_client_failed"] != "")
			row("dtls_client_failed", "openconnect without DTLS in a DTLS test (count)", "")
		if (vals["tunneld", "died"] != "" || vals["ocserv", "died"] != "")
			row("died", "server died during a run (count)", "")
		printf "(ocserv held %d sessions: one process and one tun device each)\n", ochold
		printf "(1%% loss ratios: each server against itself, DTLS/TLS; the target is on tunneld)\n"
	}' "$RES"
} | tee "$OUT"
cp "$RES" "$OUT.raw"
say "table in $OUT, raw figures in $OUT.raw, tool output in $OUT.log"
[ ! -f "$LAB_DIR/load.log" ] || cp "$LAB_DIR/load.log" "$OUT.log"
