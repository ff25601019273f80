#!/bin/bash
# Bytes that are not TLS, and HTTP requests that are malformed or larger
# than the configured limits: the server answers 400 / 431 / 413 / 501 as
# due, closes, logs why, and a connected client notices nothing.  The
# limits are set below their defaults, and requests just at a limit pass,
# so the sizes come from the config, not from a constant.
#
#   c1 hostile (garbage, oversized requests) --+
#   c2 openconnect (alice, pinging) -----------+-- tunneld
#       limits.http-max-header-bytes = 4096, limits.http-max-body-bytes = 4096
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init httpl
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass
hl_config limits.http-max-header-bytes=4096 limits.http-max-body-bytes=4096
td_start
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "openconnect did not connect"
lab_bg c2 "$LAB_DIR/ping.log" ping -n -i 0.1 -c 60 -W 2 198.18.1.2 >/dev/null
ping_pid=$LAB_BG_PID

hl c1 garbage || td_fail "non-TLS bytes: the connection was not closed"
td_log_wait 'TLS handshake with 198\.18\.0\.10:[0-9]+ failed' 3 || td_fail "no log line for the non-TLS bytes"
td_pass "non-TLS bytes: closed, logged"

hl c1 http header 4096 --expect 200 || td_fail "a header section of exactly the limit was refused"
hl c1 http header 4097 --expect 431 || td_fail "a header section one byte over the limit"
hl c1 http header 60000 --expect 431 || td_fail "a 60 kB header section"
hl c1 http line 5000 --expect 431 || td_fail "a 5000-byte request line"
td_log_wait 'bad HTTP request from 198\.18\.0\.10:[0-9]+: request header too large' 3 ||
	td_fail "no log line for the large header"
td_pass "header section: 4096 bytes ok, 4097 and more: 431, closed, logged"

hl c1 http body 4096 --expect 200 || td_fail "a body of exactly the limit was refused"
hl c1 http body 4097 --expect 413 || td_fail "a body one byte over the limit"
hl c1 http body 1000000 --expect 413 || td_fail "a 1 MB body"
td_log_wait 'bad HTTP request from 198\.18\.0\.10:[0-9]+: request body too large' 3 ||
	td_fail "no log line for the large body"
td_pass "body: 4096 bytes ok, 4097 and more: 413, closed, logged"

hl c1 http garbage --expect 400 || td_fail "garbage after TLS"
hl c1 http chunked --expect 501 || td_fail "a chunked body"
td_log_wait 'bad HTTP request from 198\.18\.0\.10:[0-9]+: malformed method' 3 ||
	td_fail "no log line for the garbage"
td_pass "garbage: 400, chunked: 501, closed, logged"

# Nothing of that reached the session table, and the connected client
# kept its tunnel without losing a packet.
wait "$ping_pid" || true
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping.log")
[ "$received" = 60 ] || td_fail "alice's pings meanwhile: '$received' of 60 answered"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "alice reconnected"
[ "$(hl_ctl --json status | jq .sessions)" = 1 ] || td_fail "sessions: $(hl_ctl --json status)"
td_stop || td_fail "unclean stop"
td_pass "alice undisturbed (60/60 pings), clean stop ($(hl_elapsed) s)"
