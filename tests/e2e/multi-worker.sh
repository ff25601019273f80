#!/bin/bash
# workers = 2: eight concurrent clients all pass traffic both ways.  The
# kernel spreads connections over the two listeners by hash, so clients live
# on both workers.  Round "steer": the master's eBPF program puts every
# packet on the queue of its client's worker, so no packet is handed over.
# Round "hash" (TUNNELD_NO_STEERING=1): the kernel picks queues by flow
# hash, packets for a client arrive on the other worker's queue, and the
# hand-off between workers must carry them.
# DTLS likewise: with steering each datagram reaches its session's worker
# (no hand-off; only the rest of a handshake that outran the master's map
# update is offered to the other worker); without, the kernel's hash sends
# some ClientHellos and datagrams to the other worker, which hands them
# over; every client is on DTLS either way.
#
#   c1..c8 --br0-- tunneld (worker 0, worker 1; vpns0 with 2 queues) --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need jq
lab_init multi
lab_make_cert
td_users alice:alice-pass
# Eight or more clients of one user.
TD_WORKERS=2 TD_EXTRA="limits = { max-sessions-per-user = 0; };" td_config

run_round() {
n=0
td_start
start_clients() {
	local k
	for k in $(seq $((n + 1)) $(($1))); do
		lab_add_client "$P$k"
		lab_start_client "$P$k" alice alice-pass
	done
	for k in $(seq $((n + 1)) $(($1))); do
		lab_wait_client "$P$k" 30 || td_fail "client $P$k did not connect"
	done
	n=$1
}
start_clients 8
# Reuseport hashing could put all eight on one worker (p = 1/128): add
# clients until both workers hold some, so the test always covers both.
while [ "$(grep -oE 'tunnel up for .* on worker [01]' "$TD_LOG" | awk '{print $NF}' | sort -u | wc -l)" -lt 2 ]; do
	[ $n -lt 16 ] || td_fail "16 clients, all on one worker"
	start_clients $((n + 1))
done
td_pass "$n clients connected, on both workers"
# Without steering, until some client's DTLS reached the other worker
# first (each does with p = 1/2), so the hand-off is always exercised.
while [ -n "${NEED_UDP_HANDOFF:-}" ] && [ "$(td_log_count "DTLS ClientHello handed to worker")" = 0 ]; do
	[ $n -lt 16 ] || td_fail "16 clients, no ClientHello handed over"
	start_clients $((n + 1))
	sleep 1
done

# Addresses are all distinct.
addrs=$(for k in $(seq $n); do lab_client_state "$P$k" ip4; done | sort)
[ "$(echo "$addrs" | uniq | wc -l)" = "$n" ] || td_fail "duplicate addresses: $addrs"

# Both directions, both families, all clients at once.  Pings that the lan
# starts have no queue hint in the kernel, so about half of them arrive on
# the queue of the worker that does not own the client.
pids=()
for k in $(seq $n); do
	ip4=$(lab_client_state "$P$k" ip4)
	ip6=$(lab_client_state "$P$k" ip6)
	(lab_ping_ok "$P$k" 198.18.1.2 10 || echo "$P$k: ping lan v4" >>"$LAB_DIR/fail") &
	pids+=($!)
	(lab_ping_ok "$P$k" fd00:1::2 10 || echo "$P$k: ping lan v6" >>"$LAB_DIR/fail") &
	pids+=($!)
	(lab_ping_ok lan "$ip4" 10 || echo "$P$k: lan pings $ip4" >>"$LAB_DIR/fail") &
	pids+=($!)
	(lab_ping_ok lan "$ip6" 10 || echo "$P$k: lan pings $ip6" >>"$LAB_DIR/fail") &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
[ ! -s "$LAB_DIR/fail" ] || td_fail "traffic failed: $(tr '\n' ';' <"$LAB_DIR/fail")"
td_pass "all $n clients: traffic both ways over IPv4 and IPv6"
on_dtls=$("${TD_CTL:-$TD_TOP/tunnelctl}" -s "$LAB_DIR/control.sock" --json list |
	jq '[.sessions[] | select(.channel == "dtls")] | length')
[ "$on_dtls" = "$n" ] || td_fail "only $on_dtls of $n clients on DTLS"
td_pass "all $n clients on DTLS"

# SIGINT: a stop that tells the clients to quit (SIGTERM would let them
# retry, as after a restart).
td_stop INT || td_fail "unclean stop"
# Each worker reports its hand-offs when it stops.
handoffs=$(sed -n 's/.*handed off \([0-9]*\) packets.*/\1/p' "$TD_LOG" | awk '{s += $1} END {print s + 0}')
udp_handoffs=$(sed -n 's/.*DTLS in: .* handed \([0-9]*\) to other.*/\1/p' "$TD_LOG" | awk '{s += $1} END {print s + 0}')
}

P=a
run_round
grep -q "TUN steering on" "$TD_LOG" || td_fail "steering program not attached"
[ "$handoffs" = 0 ] || td_fail "$handoffs packets handed over despite steering"
td_pass "steering: every packet reached its client's worker directly (0 hand-offs)"
grep -q "DTLS steering on" "$TD_LOG" || td_fail "DTLS steering program not attached"
[ "$udp_handoffs" = 0 ] || td_fail "$udp_handoffs datagrams handed over despite steering"
td_pass "DTLS steering: every datagram reached its session's worker directly"
for k in $(seq $n); do lab_client_exited "a$k" 10 >/dev/null || td_fail "a$k did not exit"; done

P=b
mv "$TD_LOG" "$TD_LOG.steer"
NEED_UDP_HANDOFF=1 TUNNELD_NO_STEERING=1 run_round
[ "$handoffs" -gt 0 ] || td_fail "no packet was handed between workers"
td_pass "$handoffs packets arrived on the other worker's queue and were handed over"
[ "$udp_handoffs" -gt 0 ] || td_fail "no datagram was handed between workers"
td_pass "$udp_handoffs datagrams reached the other worker first and were handed over"
