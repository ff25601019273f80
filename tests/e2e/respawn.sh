#!/bin/bash
# kill -9 of one worker while clients on both workers stream: the other
# worker's clients see no interruption; the killed worker's clients come
# back with the same addresses within 15 s; the master logs how the worker
# died and respawns it in the same slot.
#
#   c1..cN (ping streams, >= 2 per worker) -- tunneld (2 workers) -- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init respawn
lab_make_cert
td_users alice:alice-pass
# Up to sixteen clients of one user.
TD_WORKERS=2 TD_EXTRA="limits = { max-sessions-per-user = 0; };" td_config
td_start

# Connect clients until each worker holds at least two (reuseport hashing
# decides where each lands).
declare -A on
n=0
per_worker() { grep -c "tunnel up for .* on worker $1," "$TD_LOG" || true; }
while [ "$(per_worker 0)" -lt 2 ] || [ "$(per_worker 1)" -lt 2 ]; do
	[ $n -lt 16 ] || td_fail "16 clients and still not two per worker"
	n=$((n + 1))
	lab_add_client "c$n"
	lab_start_client "c$n" alice alice-pass
	lab_wait_client "c$n" 20 || td_fail "c$n did not connect"
	peer=$(lab_cli "c$n" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
	on[c$n]=$(sed -n "s/.*tunnel up for 'alice' from $peer:[0-9]* on worker \([01]\),.*/\1/p" "$TD_LOG" | tail -1)
done
td_pass "$n clients: $(per_worker 0) on worker 0, $(per_worker 1) on worker 1"

# Every client streams pings (20/s) to the lan for 12 s.  A count, not a
# deadline: with -w the last ping in flight would count as lost.
for k in $(seq $n); do
	lab_bg "c$k" "$LAB_DIR/c$k.ping" ping -n -i 0.05 -c 240 -W 1 198.18.1.2 >/dev/null
	eval "ip_c$k=$(lab_client_state "c$k" ip4)"
done
sleep 2
victim=$(sed -n "s/.*worker 0 started as pid \([0-9]*\).*/\1/p" "$TD_LOG" | tail -1)
kill -9 "$victim"
td_log_wait "worker 0 \(pid $victim\) killed by signal 9" 3 || td_fail "death not logged"
td_log_wait "worker 0: respawning" 3 || td_fail "worker 0 not respawned"
t0=$(date +%s)
for k in $(seq $n); do
	[ "${on[c$k]}" = 0 ] || continue
	lab_wait_event "c$k" reconnect 1 15 || td_fail "c$k (worker 0) did not reconnect within 15 s"
	lab_wait_client "c$k" 15 || td_fail "c$k not up again"
	eval "want=\$ip_c$k"
	[ "$(lab_client_state "c$k" ip4)" = "$want" ] || td_fail "c$k changed address"
done
back=$(($(date +%s) - t0))
[ $back -le 15 ] || td_fail "worker 0's clients took ${back} s"
for k in $(seq $n); do
	for _ in $(seq 200); do
		grep -q "packet loss" "$LAB_DIR/c$k.ping" && break
		sleep 0.1
	done
done
for k in $(seq $n); do
	[ "${on[c$k]}" = 1 ] || continue
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LAB_DIR/c$k.ping")
	[ "$loss" = 0 ] || td_fail "c$k on worker 1 lost ${loss}% of its pings: $(tail -n 3 "$LAB_DIR/c$k.ping" | tr '\n' ' ')"
	[ "$(lab_event_count "c$k" reconnect)" = 0 ] || td_fail "c$k on worker 1 reconnected"
done
for k in $(seq $n); do
	lab_ping_ok "c$k" 198.18.1.2 || td_fail "c$k has no traffic at the end"
done
td_pass "worker 0 killed: its clients back on their addresses in ${back} s; worker 1's lost nothing"
td_stop || td_fail "unclean stop"
