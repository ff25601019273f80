#!/bin/bash
# A flood of DPD requests (CSTP type 3, 1000-byte payloads the server must
# echo) as fast as one client can send them.  Reading the answers: the
# server keeps serving another client without loss.  Never reading: the
# answers that do not fit limits.queue-bytes are dropped, so what waits for
# the flooder (the server's queue, beyond the kernel's socket buffers)
# stays within the limit, and the worker's memory does not grow with it.
#
#   c1 hostile flood dpd --+
#   c2 openconnect (alice, pinging the lan) --+-- tunneld (1 worker, queue-bytes 65536)
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init dpdfl
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass bob:bob-pass
QUEUE=65536
TD_WORKERS=1 hl_config limits.queue-bytes=$QUEUE
td_start
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "openconnect did not connect"

# 1. Flood, reading the answers, while alice pings.
lab_bg c2 "$LAB_DIR/ping.log" ping -n -i 0.1 -c 50 -W 2 198.18.1.2 >/dev/null
ping_pid=$LAB_BG_PID
hl c1 -u bob -p bob-pass -t 5 flood dpd --size 1000 | tee "$LAB_DIR/flood1.log" ||
	td_fail "the DPD flood (reading) did not run its course"
wait "$ping_pid" || true
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping.log")
max=$(sed -n 's|.* = [0-9.]*/[0-9.]*/\([0-9.]*\)/.*|\1|p' "$LAB_DIR/ping.log")
echo "alice during the flood: $received/50 pings, max rtt ${max:-?} ms"
[ "$received" = 50 ] || td_fail "alice's pings during the flood: '$received' of 50 answered"
td_pass "DPD flood of $(hl_value sent "$LAB_DIR/flood1.log") frames answered; alice 50/50 pings (max ${max} ms)"

# 2. Flood without ever reading.
hl_queue_check c1 $QUEUE dpd --size 1000
td_pass "DPD flood never read: $HL_QC_SUMMARY"

lab_ping_ok c2 198.18.1.2 3 || td_fail "alice lost her tunnel"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "alice reconnected"
td_stop || td_fail "unclean stop"
td_pass "clean stop ($(hl_elapsed) s)"
