#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A RADIUS server that stops answering (SIGSTOP: requests arrive, nothing
# comes back) costs logins, never forwarding: with radius.timeout 1 s and
# one retry, logins fail cleanly ("try again") after the timeout while a
# connected client pings every 0.1 s and never waits 1 s for a reply; the
# accounting records of the outage wait in tunneld's queue and reach
# FreeRADIUS when it answers again (Acct-Delay-Time > 0), and logins work
# again.
#
#   c1 alice: ping -i 0.1 198.18.1.2 --\
#   c2..c4 logins during the outage  ---+== tunneld ==== FreeRADIUS (SIGSTOP, SIGCONT)
#   c5 hostile: 32 logins at a time ---/   (1 worker)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/radius.sh"
lab_init raddown
lab_need ping
lab_make_cert
for c in c1 c2 c3 c4 c5; do lab_add_client "$c"; done
HOSTILE=$TD_TOP/tests/hostile/hostile
[ -x "$HOSTILE" ] || td_fail "$HOSTILE not built (make check builds it)"
rad_start 'alice Cleartext-Password := "alice-pass"
	Acct-Interim-Interval = 2
bob Cleartext-Password := "bob-pass"'
RAD_TIMEOUT=1 TD_AUTH='' TD_LOG_LEVEL=info TD_EXTRA=$(rad_td_extra 'processes = 2;') td_config
td_start || td_fail "tunneld did not start"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "alice did not connect"
sa=$(rad_sid_of alice)
rad_wait_acct Interim-Update "$sa" 1 10 || td_fail "alice: no Interim-Update before the outage"

PING=$LAB_DIR/ping.log
lab_bg c1 "$PING" ping -D -n -i 0.1 -w 60 198.18.1.2 >/dev/null
ping_pid=$LAB_BG_PID
sleep 1

# The outage: FreeRADIUS takes the datagrams and answers none.
kill -STOP "$RAD_PID"
t_stop=$(date +%s)
lab_bg c5 "$LAB_DIR/burst.log" "$HOSTILE" -u bob -p bob-pass -t 8 -w 20000 \
	burst login --pattern 0:1 --concurrency 32 >/dev/null
burst_pid=$LAB_BG_PID
for c in c2 c3 c4; do lab_start_client "$c" bob bob-pass; done
for c in c2 c3 c4; do
	rc=$(lab_client_exited "$c" 60) || td_fail "$c: the login did not end during the outage"
	[ "$rc" != 0 ] || td_fail "$c: logged in with no RADIUS server"
	grep -q "try again" "$LAB_DIR/$c.oc.log" || td_fail "$c: $(tail -n 3 "$LAB_DIR/$c.oc.log")"
done
wait "$burst_pid" || true
grep -q "^burst: .*ok=0" "$LAB_DIR/burst.log" ||
	td_fail "a login succeeded with no server: $(cat "$LAB_DIR/burst.log")"
n=$(td_log_count "no RADIUS server answered")
[ "$n" -ge 3 ] || td_fail "only $n logins timed out"
td_pass "outage: logins fail cleanly with \"try again\" ($n timed out; burst: $(grep -o 'ok=[0-9]* .*' "$LAB_DIR/burst.log" | head -1))"

# Interims of the outage are queued; alice's tunnel is untouched.
td_log_wait "accounting Interim-Update of session $sa: no server answered" 10 ||
	td_fail "no accounting retry during the outage"
sleep 2
kill -CONT "$RAD_PID"
outage=$(($(date +%s) - t_stop))
kill -INT "$ping_pid" 2>/dev/null || true
wait "$ping_pid" || true
read -r replies gap < <(sed -n 's/^\[\([0-9]*\)\.\([0-9]*\)\] .* bytes from .*/\1\2/p' "$PING" |
	awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1; n++ } END { printf "%d %d\n", n, g / 1000 }')
[ "$replies" -ge $((outage * 5)) ] || td_fail "only $replies ping replies in ${outage}s"
[ "$gap" -lt 1000 ] || td_fail "forwarding stalled for $gap ms while RADIUS was down"
td_pass "alice's ping every 0.1 s over ${outage}s of outage: $replies replies, largest gap $gap ms"

# FreeRADIUS answers again: the queued records arrive late, logins work.
deadline=$(($(lab__now_ms) + 30000))
until rad_acct_attr Interim-Update "$sa" Acct-Delay-Time | grep -qv '^0$'; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "no delayed Interim-Update reached FreeRADIUS"
	sleep 0.2
done
lab_start_client c2 bob bob-pass
lab_wait_client c2 30 || td_fail "bob cannot log in after the outage"
sb=$(rad_sid_of bob)
rad_wait_acct Start "$sb" 1 20 || td_fail "bob: no Start after the outage"
td_pass "after the outage: delayed Interims delivered (Acct-Delay-Time $(rad_acct_attr Interim-Update "$sa" \
	Acct-Delay-Time | sort -n | tail -n 1) s), bob logs in"

td_stop || td_fail "unclean stop"
for s in "$sa" "$sb"; do
	[ "$(rad_acct_count Start "$s")" = 1 ] && [ "$(rad_acct_count Stop "$s")" = 1 ] ||
		td_fail "session $s: $(rad_acct_count Start "$s") Starts, $(rad_acct_count Stop "$s") Stops"
done
td_pass "one Start and one Stop for alice and bob"
