#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The monitoring endpoint (metrics.listen) and the session-end line:
# /metrics parses with promtool, its traffic counters are tunnelctl's after
# pings and a 1 MiB TCP download, the login histogram counts the logins
# made; /healthz says 200, then 503 "full" at limits.max-clients and 503
# "draining" after SIGQUIT; the session-end line in text and, after a
# reload to log.format = "json", as JSON (parsed with jq).
#
#   curl, promtool (server ns) --> 127.0.0.1:9611 [server: tunneld, max-clients 1]
#   client c1 --br0-- [server] --- lan 198.18.1.2 (TCP source on port 5001)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init metrics
lab_need curl promtool jq socat
CTL=$TD_TOP/tunnelctl
ctl() { "$CTL" -s "$LAB_DIR/control.sock" "$@"; }
URL=http://127.0.0.1:9611
get() { lab_srv curl -s -m 10 "$URL$1"; }
code() { lab_srv curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL$1"; }
# sum NAME [LABELS]: the sum of NAME's samples (on stdin) whose labels
# hold LABELS; metric: the same of a fresh /metrics.
sum() {
	awk -v n="$1" -v l="${2:-}" '
		($1 == n || substr($1, 1, length(n) + 1) == n "{") && index($1, l) { s += $2 }
		END { printf "%.0f\n", s }'
}
metric() { get /metrics | sum "$@"; }

lab_make_cert
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass
TD_LOG_LEVEL=info
TD_EXTRA='metrics = { listen = "127.0.0.1:9611"; };
limits = { max-clients = 1; };' td_config
td_start
td_log_wait 'metrics: http://127\.0\.0\.1:9611/metrics' 5 || td_fail "no metrics line at start"

# --- an idle server --------------------------------------------------------
[ "$(code /healthz)" = 200 ] || td_fail "/healthz: $(code /healthz), want 200"
[ "$(get /healthz)" = ok ] || td_fail "/healthz body: $(get /healthz)"
get /metrics >"$LAB_DIR/m0.txt"
promtool check metrics <"$LAB_DIR/m0.txt" >"$LAB_DIR/promtool.out" 2>&1 ||
	td_fail "promtool: $(cat "$LAB_DIR/promtool.out")"
[ "$(metric tunneld_workers_up)" = 1 ] || td_fail "workers_up: $(grep workers_up "$LAB_DIR/m0.txt")"
[ "$(metric tunneld_sessions)" = 0 ] || td_fail "sessions before any login"
[ "$(code /nothing)" = 404 ] || td_fail "/nothing: $(code /nothing), want 404"
[ "$(lab_srv curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")" = 405 ] ||
	td_fail "POST /metrics is not 405"
big=$(head -c 6000 /dev/zero | tr '\0' a)
[ "$(lab_srv curl -s -m 10 -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/metrics")" = 431 ] ||
	td_fail "a 6000-byte header is not 431"
td_pass "idle: /healthz 200 ok, /metrics passes promtool, 404/405/431 for the rest"

# --- logins: one refused, one made ------------------------------------------
lab_start_client c2 alice wrong-pass
lab_client_exited c2 30 >/dev/null || td_fail "a client with a wrong password did not give up"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
[ "$(metric tunneld_logins_total 'result="ok"')" = 1 ] || td_fail "logins ok: $(metric tunneld_logins_total 'result="ok"')"
[ "$(metric tunneld_logins_total 'result="bad_password"')" -ge 1 ] || td_fail "no bad_password login counted"
bad=$(metric tunneld_logins_total 'result="bad_password"')
[ "$(metric tunneld_login_duration_seconds_count)" = $((1 + bad)) ] ||
	td_fail "histogram count $(metric tunneld_login_duration_seconds_count), want $((1 + bad)) logins"
[ "$(metric tunneld_login_duration_seconds_bucket 'le="+Inf"')" = $((1 + bad)) ] ||
	td_fail "histogram +Inf bucket"
[ "$(ctl --json status | jq .logins.ok)" = 1 ] || td_fail "tunnelctl status logins"
td_pass "logins: 1 ok, $bad bad_password; the histogram counts $((1 + bad))"

# --- full at limits.max-clients = 1 -----------------------------------------
[ "$(code /healthz)" = 503 ] && [ "$(get /healthz)" = full ] ||
	td_fail "/healthz with max-clients tunnels: $(code /healthz) $(get /healthz)"
[ "$(metric tunneld_tunnels)" = 1 ] && [ "$(metric tunneld_leases 'state="used"')" = 1 ] ||
	td_fail "tunnels/leases gauges"
td_pass "/healthz: 503 full at limits.max-clients"

# --- a known transfer: 20 pings and 1 MiB over TCP -----------------------------
ip4=$(lab_client_state c1 ip4)
lab_bg lan "$LAB_DIR/src.log" socat -U TCP-LISTEN:5001,reuseaddr \
	SYSTEM:"head -c 1048576 /dev/zero" >/dev/null
lab_wait_listen lan 5001 10 || td_fail "no TCP source in the lan"
lab_cli c1 ping -c 20 -i 0.05 -W 2 -q "$LAB_LAN_IP" >/dev/null || td_fail "pings lost"
got=$(lab_cli c1 timeout 30 socat -u TCP:"$LAB_LAN_IP":5001 - | wc -c)
[ "$got" = 1048576 ] || td_fail "downloaded $got bytes, want 1048576"
id=$(ctl --json list | jq '.sessions[0].id')
deadline=$(($(lab__now_ms) + 30000))
until [ "$(ctl --json show "$id" | jq '.session.tx_tcp_bytes >= 1048576')" = true ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "the download's counters did not arrive"
	sleep 0.5
done
# Both views at one instant: tunnelctl, /metrics, tunnelctl again (a report
# between the two reads of tunnelctl means another try).
for _ in 1 2 3 4 5; do
	a=$(ctl --json show "$id")
	get /metrics >"$LAB_DIR/m1.txt"
	[ "$a" = "$(ctl --json show "$id")" ] && break
done
sm() { sum "$@" <"$LAB_DIR/m1.txt"; }
for d in rx tx; do
	for p in tcp udp other; do
		for u in pkts bytes; do
			name=tunneld_packets_total
			[ $u = bytes ] && name=tunneld_bytes_total
			want=$(jq ".session.${d}_${p}_$u" <<<"$a")
			have=$(sm $name "direction=\"$d\",proto=\"$p\"")
			[ "$have" = "$want" ] || td_fail "$name{$d,$p} = $have, tunnelctl ${d}_${p}_$u = $want"
		done
	done
	[ "$(sm tunneld_packets_total "direction=\"$d\"")" = "$(jq ".session.${d}_pkts" <<<"$a")" ] ||
		td_fail "$d packets: the protocols do not add up to ${d}_pkts"
done
[ "$(jq '.session.rx_other_pkts >= 20 and .session.tx_other_pkts >= 20' <<<"$a")" = true ] ||
	td_fail "20 pings each way not counted as other: $a"
promtool check metrics <"$LAB_DIR/m1.txt" >"$LAB_DIR/promtool.out" 2>&1 ||
	td_fail "promtool: $(cat "$LAB_DIR/promtool.out")"
td_pass "after 20 pings and 1 MiB: /metrics = tunnelctl for each direction and protocol"

# --- the session-end line, text ----------------------------------------------
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_log_wait 'session-end id=[0-9]+ user=alice ' 5 || td_fail "no session-end line"
[ "$(td_end_field alice reason)" = "client logged out" ] || td_fail "reason: $(td_end_field alice reason)"
[ "$(td_end_field alice ipv4)" = "$ip4" ] || td_fail "ipv4: $(td_end_field alice ipv4)"
st=$(ctl --json status)
for k in rx_pkts rx_bytes tx_pkts tx_bytes rx_tcp_bytes tx_tcp_bytes rx_other_pkts drop_queue \
	dtls_rx_pkts dtls_tx_bytes; do
	[ "$(td_end_field alice $k)" = "$(jq ".totals.$k" <<<"$st")" ] ||
		td_fail "$k: session-end $(td_end_field alice $k), status totals $(jq ".totals.$k" <<<"$st")"
done
[ "$(td_end_field alice tx_tcp_bytes)" -ge 1048576 ] || td_fail "tx_tcp_bytes"
[ "$(metric tunneld_sessions_ended_total)" = 1 ] || td_fail "sessions_ended_total"
[ "$(code /healthz)" = 200 ] || td_fail "/healthz after the tunnel ended: $(code /healthz)"
td_pass "session-end (text): reason, address and counters = tunnelctl's totals; healthz 200 again"

# --- log.format = "json" on reload --------------------------------------------
sed -i 's/^log = { level = "info";/log = { level = "info"; format = "json";/' "$LAB_DIR/tunneld.conf"
grep -q 'format = "json"' "$LAB_DIR/tunneld.conf" || td_fail "could not set log.format"
kill -HUP "$TD_PID"
td_log_wait '"msg":"reloaded ' 10 || td_fail "no JSON line after the reload"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect again"
lab_ping_ok c1 "$LAB_LAN_IP" 5 || td_fail "ping after the reload"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_log_wait '"event":"session-end"' 5 || td_fail "no JSON session-end line"
j=$(grep '"event":"session-end"' "$TD_LOG" | tail -n 1 | sed 's/^<[0-9]>//')
jq -e . >/dev/null <<<"$j" || td_fail "not JSON: $j"
[ "$(jq -r '.user, .reason, .level, .tag' <<<"$j" | tr '\n' ,)" = "alice,client logged out,info,master," ] ||
	td_fail "JSON fields: $j"
[ "$(jq '.rx_other_pkts >= 5 and (.rx_pkts == .rx_tcp_pkts + .rx_udp_pkts + .rx_other_pkts)' <<<"$j")" = true ] ||
	td_fail "JSON counters: $j"
[ "$(jq -r .channel <<<"$j")" = dtls ] || [ "$(jq -r .channel <<<"$j")" = tls ] || td_fail "channel: $j"
# Every line since the reload is JSON.
sed -n '/"msg":"reloaded /,$p' "$TD_LOG" | sed 's/^<[0-9]>//' | jq -e -s 'length > 3' >/dev/null ||
	td_fail "lines after the reload are not all JSON"
[ "$(metric tunneld_login_duration_seconds_count)" = $((2 + bad)) ] || td_fail "histogram after the second login"
td_pass "session-end (JSON): parsed by jq; every line JSON after the reload"

sed -i 's/ format = "json";//' "$LAB_DIR/tunneld.conf"
kill -HUP "$TD_PID"
td_log_wait 'master: info: reloaded ' 10 || td_fail "no text line after the reload back"

# --- draining ---------------------------------------------------------------
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect for the drain"
kill -QUIT "$TD_PID"
td_log_wait "draining: no new connections" 5 || td_fail "SIGQUIT not logged"
[ "$(code /healthz)" = 503 ] && [ "$(get /healthz)" = draining ] ||
	td_fail "/healthz while draining: $(code /healthz) $(get /healthz)"
[ "$(metric tunneld_draining)" = 1 ] || td_fail "tunneld_draining gauge"
td_pass "/healthz: 503 draining after SIGQUIT"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_log_wait "stopping \(all tunnels ended\)" 10 || td_fail "did not stop after the drain"
td_stop || td_fail "unclean stop"
td_pass "clean stop"
