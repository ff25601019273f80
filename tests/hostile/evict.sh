#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# limits.max-handshakes eviction (SECURITY-REVIEW #10): at the limit the
# oldest unfinished connection of the busiest source goes, not the oldest
# of all.  20 attacker addresses keep 200 connections coming (10 each may
# be held: five times the limit in all) as fast as the server closes them,
# about 3000 a second; a real openconnect login must still get through.
# Evicting the globally oldest, the login's connection was closed about
# 13 ms (40 accepts) after its accept, before its password was checked.
# With 40 pending over at most 21 sources the busiest has at least 2, so
# the real client, with 1, is never the one to go.
#
#   c1 198.18.0.100-119 --- TCP connects, reopened at once when closed -----+
#   c2 openconnect (alice) ---------------------------------------------------+-- tunneld, 1 worker,
#                                                                                max-handshakes 40,
#                                                                                per address 10
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init evict
lab_add_client c1
lab_add_client c2
hl_addrs c1 198.18.0.100-119
# yescrypt, tunneld-passwd's default: the login waits for its hash in the
# master as a real one does.
td_users alice:alice-pass
GLOBAL=40
# Info: thousands of closes a second would be debug lines.
TD_LOG_LEVEL=info TD_WORKERS=1 hl_config limits.handshake-timeout=30 limits.auth-timeout=30 \
	limits.max-handshakes=$GLOBAL limits.max-handshakes-per-address=10
td_start

hl_bg c1 "$LAB_DIR/flood.log" -b 198.18.0.100-119 -t 25 loris tcp 200 --reopen --rate 3000 \
	--grace 0
flood=$LAB_BG_PID
# The flood is on: the server evicts.
td_log_wait 'limits\.max-handshakes reached' 10 || td_fail "the flood never reached limits.max-handshakes"
sleep 2

A='198\.18\.0\.11:[0-9]+'
t0=$(lab__now_ms)
lab_start_client c2 alice alice-pass
td_log_wait "user 'alice' connected from $A" 15 ||
	td_fail "openconnect did not log in during the flood: $(tail -3 "$LAB_DIR/c2.oc.log")"
ms=$(($(lab__now_ms) - t0))
lab_wait_client c2 15 || td_fail "openconnect's tunnel did not come up"
lab_ping_ok c2 198.18.1.2 3 || td_fail "openconnect client cannot reach the lan during the flood"
td_pass "openconnect logged in after $ms ms while the flood was evicting"

rc=0
wait "$flood" || rc=$?
cat "$LAB_DIR/flood.log"
[ $rc = 0 ] || td_fail "the flood tool failed (above)"
opened=$(hl_value opened "$LAB_DIR/flood.log")
[ "${opened:-0}" -ge 2000 ] || td_fail "the flood opened only '$opened' connections"
td_stop || td_fail "unclean stop"
td_pass "$opened attacker connections in 25 s ($(hl_elapsed) s)"
