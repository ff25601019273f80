#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A login flood never stalls forwarding (finding #1).  With one worker and
# yescrypt users (18 ms a check), a connected client pings the lan every
# 0.1 s while hostile clients flood the same worker with logins:
#   1. 3000 IPv6 sources, each in its own /64: connect, TLS, POST a wrong
#      password, close at once (nobody waits for the answer);
#   2. the same, 400 at a time, each waiting for its answer (the checks
#      pile up to limits.max-pending-logins, beyond it 503 at once);
#   3. one IPv4 address: 9 wrong passwords, then the right one of its own
#      account, again and again.
# No gap between ping replies may reach 1 s: the worker never waits for the
# master, the master never hashes on its loop, and checks nobody waits for
# are dropped.  (Before: the worker blocked in send() on its full control
# socket for seconds at a time.)
#
#   c1 openconnect (alice): ping -i 0.1 198.18.1.2 --+
#   c2 hostile burst: fd00:ff:0:1..3000::1 ----------+-- tunneld, workers = 1,
#      (and 198.18.0.11)          [fd00:5::1]:4443 --+   listens on 198.18.0.1 and fd00:5::1
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init lfld
lab_need ping
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass mallory:mallory-pass # yescrypt: what the master would hash
V6SRV=fd00:5::1
V6CLI=fd00:5::11
lab_srv ip addr add "$V6SRV/64" dev br0 nodad
lab_cli c2 ip addr add "$V6CLI/64" dev eth0 nodad
lab_cli c2 ip -6 route add local fd00:ff::/48 dev lo
lab_srv ip -6 route add fd00:ff::/48 via "$V6CLI"
TD_WORKERS=1 TD_LOG_LEVEL=info td_config
sed -i "s|^listen = .*|listen = [\"$LAB_SRV_IP:$LAB_PORT\", \"[$V6SRV]:$LAB_PORT\"];|" \
	"$LAB_DIR/tunneld.conf"
td_start
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "alice did not connect"

PING=$LAB_DIR/ping.log
lab_bg c1 "$PING" ping -D -n -i 0.1 -w 90 198.18.1.2 >/dev/null
ping_pid=$LAB_BG_PID
sleep 2

# A flood that could not send its --min requests is reported after the
# ping verdict (a stalled server is one reason).
short=""
flood() {
	hl c2 -w 10000 "$@" || short+="${short:+; }$*"
}
flood -s "[$V6SRV]:$LAB_PORT" -u mallory -t 12 burst login --v6-nets 3000 --close \
	--concurrency 128 --min 2000
flood -s "[$V6SRV]:$LAB_PORT" -u mallory -t 8 burst login --v6-nets 3000 --concurrency 400 \
	--min 500
flood -u mallory -p mallory-pass -t 8 burst login --pattern 9:1 --concurrency 32 --min 100
sleep 1
kill -INT "$ping_pid" 2>/dev/null || true
wait "$ping_pid" || true

# The largest gap between two replies (ping -D: [epoch.micros] per line).
read -r replies gap < <(sed -n 's/^\[\([0-9]*\)\.\([0-9]*\)\] .* bytes from .*/\1\2/p' "$PING" |
	awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1; n++ } END { printf "%d %d\n", n, g / 1000 }')
echo "ping: $replies replies, largest gap $gap ms"
[ "$replies" -ge 200 ] || td_fail "only $replies ping replies: $(tail -3 "$PING")"
[ "$gap" -lt 1000 ] || td_fail "forwarding stalled for $gap ms during the login flood"
[ -z "$short" ] || td_fail "a flood sent fewer requests than it should: $short"
td_pass "three login floods: ping every 0.1 s never went 1 s without a reply (largest gap $gap ms)"

# The floods were real work for the server, and it is fine afterwards.
n=$(td_log_count "login failed for user 'mallory'")
[ "$n" -ge 10 ] || td_fail "only $n failed logins were checked: the flood did not reach the master"
td_log_wait "198\.18\.0\.11 banned for" 3 || td_fail "the 9-wrong-1-right address was never banned"
hl c1 -u alice -p alice-pass login --expect ok || td_fail "a real login after the floods failed"
lab_ping_ok c1 198.18.1.2 3 || td_fail "alice lost her tunnel"
td_stop || td_fail "unclean stop"
td_pass "$n wrong passwords checked, the 9+1 address banned, logins work after ($(hl_elapsed) s)"
