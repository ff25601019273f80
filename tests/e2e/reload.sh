#!/bin/bash
# SIGHUP reloads as a transaction.  A client streaming through the tunnel
# keeps its tunnel (no reconnect); a broken config changes nothing and is
# reported as FILE:LINE; a new user, new routes and a new certificate take
# effect for new logins; a restart-only change is named in the log.
#
#   c1 (iperf3 stream) --+
#   c2, c3 (new logins) -+-- tunneld --- lan (iperf3 -s)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need iperf3
lab_init reload
lab_make_cert
lab_add_client c1
lab_add_client c2
lab_add_client c3
td_users alice:alice-pass
TD_WORKERS=2 td_config
td_start
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "c1 did not connect"
hup() { kill -HUP "$TD_PID"; }

# 1. Reloads while c1 streams: no reconnect, no error from the stream.
lab_bg lan "$LAB_DIR/iperf-s.log" iperf3 -s -1 -p 5201 >/dev/null
lab_wait_listen lan 5201 10 || td_fail "iperf3 server"
lab_bg c1 "$LAB_DIR/iperf-c.log" iperf3 -c 198.18.1.2 -p 5201 -t 6 >/dev/null
sleep 1.5
hup
td_log_wait "reloaded .*tunneld.conf: 1 users" 5 || td_fail "first reload not logged"
sleep 1.5
hup
sleep 4
grep -q "receiver" "$LAB_DIR/iperf-c.log" || td_fail "the stream did not finish: $(tail -3 "$LAB_DIR/iperf-c.log")"
[ "$(lab_event_count c1 reconnect)" = 0 ] || td_fail "c1 reconnected during reloads"
[ "$(td_log_count 'tunnel up for')" = 1 ] || td_fail "a new tunnel was made during reloads"
td_pass "two reloads during a stream: $(awk '/receiver/ {print $7, $8}' "$LAB_DIR/iperf-c.log"), no reconnect"

# 2. A broken config: FILE:LINE in the log, nothing changes.
cp "$LAB_DIR/tunneld.conf" "$LAB_DIR/good.conf"
printf 'bogus-key = 1;\n' >>"$LAB_DIR/tunneld.conf"
# bob is added; alice's line stays as it is (a new hash for her, even of
# the same password, would be a password change and end her session).
printf 'bob-pass\n' | "$TD_PASSWD" -f "$LAB_DIR/passwd" bob >/dev/null
hup
td_log_wait "reload failed, nothing changed: .*tunneld.conf:[0-9]+: unknown setting bogus-key" 5 || td_fail "no FILE:LINE for the broken config"
sleep 0.5
lab_start_client c2 bob bob-pass
rc=$(lab_client_exited c2 15) || td_fail "bob's client still running after the failed reload"
[ "$rc" != 0 ] || td_fail "bob logged in although the reload failed"
lab_ping_ok c1 198.18.1.2 || td_fail "c1 broken by the failed reload"
td_pass "broken config: $(grep -o 'tunneld.conf:[0-9]*: [^;]*' "$TD_LOG" | tail -1); old users only"

# 3. Fixed config with a new user, a new route, a new certificate and a
#    restart-only change.
sed 's|routes = \["198.18.1.0/24", "fd00:1::/64"\];|routes = ["198.18.1.0/24", "198.18.50.0/24", "fd00:1::/64"];|; s|mtu = 1400;|mtu = 1300;|' \
	"$LAB_DIR/good.conf" >"$LAB_DIR/tunneld.conf"
grep -q 198.18.50.0 "$LAB_DIR/tunneld.conf" || td_fail "test config edit"
old_pin=$LAB_PIN
lab_make_cert
[ "$LAB_PIN" != "$old_pin" ] || td_fail "certificate did not change"
hup
td_log_wait "reloaded .*tunneld.conf: 2 users" 5 || td_fail "good reload not logged"
td_log_wait "reload: network.mtu changed; restart tunneld to apply it" 2 || td_fail "restart-only change not named"
td_log_wait "reload: network.routes changed" 2 || td_fail "route change not logged"
lab_start_client c2 bob bob-pass
lab_wait_client c2 20 || td_fail "bob (added by the reload) cannot log in with the new certificate"
lab_cli c2 ip route show 198.18.50.0/24 | grep -q tun-c2 || td_fail "new route not given to a new session"
[ "$(lab_client_state c2 mtu)" = 1400 ] || td_fail "restart-only MTU applied live"
lab_ping_ok c1 198.18.1.2 || td_fail "c1 after the reload"
[ "$(lab_event_count c1 reconnect)" = 0 ] || td_fail "c1 reconnected"
td_pass "reload: bob logs in, new route 198.18.50.0/24, new certificate; c1 untouched"

# The old certificate is gone for new logins.
LAB_PIN=$old_pin lab_start_client c3 alice alice-pass
rc=$(lab_client_exited c3 15) || td_fail "client with the old pin still running"
[ "$rc" != 0 ] || td_fail "old certificate still served"
td_pass "old certificate no longer served"
td_stop || td_fail "unclean stop"
