#!/bin/bash
# Move 200 MB each way over TCP through the tunnel and compare SHA-256 on
# both ends: once over DTLS (the default; tunnelctl's DTLS counters must
# have carried it) and once over TLS (the client started with --no-dtls).
#
#   client c1 (socat) ==tunnel (DTLS, then TLS)== tunneld ---- lan 198.18.1.2 (socat)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need socat sha256sum jq
lab_init bulk
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info td_config
td_start
MB=${BULK_MB:-200}
mbps() { awk -v a="$1" -v b="$2" -v mb="$MB" 'BEGIN { printf "%.0f", mb * 8.388608 / (b - a) }'; }

head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/up.bin"
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/down.bin"
want_up=$(sha256sum <"$LAB_DIR/up.bin" | cut -d' ' -f1)
want_down=$(sha256sum <"$LAB_DIR/down.bin" | cut -d' ' -f1)

# One upload and one download through the tunnel of c1; $1 names the channel.
transfer() {
	local ch=$1 t0 t1 got_up got_down port=$((5001 + RANDOM % 500))
	# Upload: client -> lan.
	lab_bg lan "$LAB_DIR/sink.log" timeout 120 socat -u TCP-LISTEN:$port,reuseaddr \
		CREATE:"$LAB_DIR/up.recv" >/dev/null
	lab_wait_listen lan $port 10 || td_fail "sink not listening"
	t0=$(date +%s.%N)
	lab_cli c1 timeout 120 socat -u OPEN:"$LAB_DIR/up.bin" TCP:198.18.1.2:$port ||
		td_fail "upload failed ($ch)"
	t1=$(date +%s.%N)
	for _ in $(seq 100); do
		[ "$(stat -c %s "$LAB_DIR/up.recv" 2>/dev/null || echo 0)" -ge $((MB << 20)) ] && break
		sleep 0.1
	done
	got_up=$(sha256sum <"$LAB_DIR/up.recv" | cut -d' ' -f1)
	[ "$got_up" = "$want_up" ] || td_fail "upload SHA-256 mismatch ($ch)"
	td_pass "$ch: upload ${MB} MB intact ($(mbps "$t0" "$t1") Mbit/s)"

	# Download: lan -> client.
	lab_bg lan "$LAB_DIR/src.log" timeout 120 socat -u OPEN:"$LAB_DIR/down.bin" \
		TCP-LISTEN:$((port + 1)),reuseaddr >/dev/null
	lab_wait_listen lan $((port + 1)) 10 || td_fail "source not listening"
	t0=$(date +%s.%N)
	lab_cli c1 timeout 120 socat -u TCP:198.18.1.2:$((port + 1)) CREATE:"$LAB_DIR/down.recv" ||
		td_fail "download failed ($ch)"
	t1=$(date +%s.%N)
	got_down=$(sha256sum <"$LAB_DIR/down.recv" | cut -d' ' -f1)
	[ "$got_down" = "$want_down" ] || td_fail "download SHA-256 mismatch ($ch)"
	td_pass "$ch: download ${MB} MB intact ($(mbps "$t0" "$t1") Mbit/s)"
	rm -f "$LAB_DIR"/*.recv
}

# The session's counters reach the master when its tunnel ends: end it
# with a BYE and read the summary line.
dtls_mb() {
	echo "$(td_end_field alice dtls_rx_pkts) $(td_end_field alice dtls_tx_pkts)"
}

lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
td_wait_dtls 5 || td_fail "not on DTLS: $(td_session)"
transfer DTLS
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_log_wait "session-end id=[0-9]+ user=alice " 5 || td_fail "no session summary"
read -r in out <<<"$(dtls_mb)"
# 200 MB in packets of at most 1400 bytes: over 150,000 each way.
[ "${in:-0}" -ge $((MB * 750)) ] && [ "${out:-0}" -ge $((MB * 750)) ] ||
	td_fail "the transfer did not go over DTLS: ${in:-0} pkts in, ${out:-0} out"
td_pass "DTLS carried it: $in packets from the client, $out to it"

lab_start_client c1 alice alice-pass --no-dtls
lab_wait_client c1 20 || td_fail "client did not connect with --no-dtls"
[ "$(td_session | jq -r .channel)" = tls ] || td_fail "--no-dtls but not on TLS: $(td_session)"
transfer TLS
rm -f "$LAB_DIR"/*.bin
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_stop || td_fail "unclean stop"
