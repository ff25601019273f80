#!/bin/bash
# An exhausted address pool: the next client gets a 503 with a reason and
# the server logs a line; once a lease is free again, a client gets it.
#
#   pool 198.18.100.0/30: .0 network, .1 server, .3 broadcast, .2 the only lease
#   c1 (holds .2) --+
#   c2 (503)    ----+-- tunneld --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init pool
lab_make_cert
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass bob:bob-pass
TD_POOL4=198.18.100.0/30 td_config
td_start

lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "first client did not connect"
[ "$(lab_client_state c1 ip4)" = 198.18.100.2 ] || td_fail "unexpected lease $(lab_client_state c1 ip4)"

LAB_OC_RECONNECT_TIMEOUT=5 lab_start_client c2 bob bob-pass
rc=$(lab_client_exited c2 30) || td_fail "second client did not give up"
[ "$rc" != 0 ] || td_fail "second client exited 0"
grep -q "VPN service unavailable; reason: No free address in the pool" "$LAB_DIR/c2.oc.log" ||
	td_fail "client did not get the 503 with its reason"
td_log_wait "user 'bob' from .* refused: address pool exhausted" 5 || td_fail "no log line"
lab_ping_ok c1 198.18.1.2 || td_fail "first client disturbed"
td_pass "pool exhausted: 503 for bob (client exit $rc), logged, alice undisturbed"

lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "first client did not exit"
td_log_wait "session-end id=[0-9]+ user=alice " 5 || td_fail "alice's session did not end"
lab_start_client c2 bob bob-pass
lab_wait_client c2 20 || td_fail "bob did not get the freed lease"
[ "$(lab_client_state c2 ip4)" = 198.18.100.2 ] || td_fail "bob got $(lab_client_state c2 ip4)"
td_pass "freed lease handed to the next client"
td_stop || td_fail "unclean stop"
