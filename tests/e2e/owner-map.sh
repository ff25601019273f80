#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A taken-over worker cannot claim another worker's client.  The shared
# owner[lease] map tells a worker whose client a TUN packet is for; the
# master writes it, workers only read it.  In test builds SIGUSR2 with
# value 1 makes a worker try: mprotect() its view writable, then write
# owner[] for a client of the other worker.  The view is a read-only
# mapping of a sealed memfd: the mprotect fails, the write faults, the
# master logs SIGSEGV and respawns the worker, and the client's traffic
# never stops.  (Today's failure: the write lands and the other worker
# hands the client's packets to the thief.)
#
#   c1 ==tunnel== tunneld (worker A holds c1; worker B tries to claim it) --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init owner
grep -q '^#define TEST_HOOKS 1' "$TD_TOP/config.h" 2>/dev/null || {
	echo "SKIP: needs --enable-test-hooks"
	exit 77
}
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_WORKERS=2 td_config
# The fault must kill the worker: a sanitizer build would report it instead.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}handle_segv=0"
td_start
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
ip4=$(lab_client_state c1 ip4)
lab_ping_ok c1 198.18.1.2 || td_fail "no traffic before the test"

holder=$(sed -n 's/.*tunnel up for .alice. .* on worker \([0-9]\).*/\1/p' "$TD_LOG" | tail -1)
thief=$((1 - holder))
pid=$(sed -n "s/.*worker $thief started as pid \([0-9]*\).*/\1/p" "$TD_LOG" | tail -1)
[ -n "$pid" ] && lab_alive "$pid" || td_fail "no pid for worker $thief"

# Pings from the lan to the client all the while (8 s): downlink packets
# are what owner[] routes.
ip netns exec "$(lab_ns lan)" timeout 30 ping -4 -n -c 40 -i 0.2 -W 2 "$ip4" \
	>"$LAB_DIR/ping.log" 2>&1 &
pinger=$!
sleep 1
/bin/kill -s USR2 -q 1 "$pid"
td_log_wait "test hook: writing owner\[[0-9]+\] = $((thief + 1))" 5 || td_fail "the hook did not run"
td_log_wait "worker $thief \(pid $pid\) killed by signal 11 " 5 ||
	td_fail "worker $thief was not killed by the write: owner[] is writable in a worker"
grep -q "test hook: mprotect(owner\[\], PROT_WRITE): Permission denied" "$TD_LOG" ||
	td_fail "mprotect(PROT_WRITE) of the owner map did not fail with EACCES"
! grep -q "test hook: owner\[[0-9]*\] is now" "$TD_LOG" || td_fail "the write went through"
td_pass "worker $thief: mprotect(PROT_WRITE) refused, the write to owner[] faulted (SIGSEGV)"

td_log_wait "worker $thief: respawning" 5 || td_fail "worker $thief not respawned"
wait "$pinger" || true
grep -q "40 packets transmitted, 40 received" "$LAB_DIR/ping.log" ||
	td_fail "lan -> c1 ($ip4): $(grep transmitted "$LAB_DIR/ping.log" || echo "ping failed")"
lab_ping_ok c1 198.18.1.2 || td_fail "client c1 lost its traffic"
[ "$(td_log_count "session [0-9]*: tunnel up for 'alice'")" = 1 ] || td_fail "c1 had to reconnect"
td_pass "c1 ($ip4, worker $holder) kept its traffic both ways; worker $thief respawned"
td_stop || td_fail "unclean stop"
