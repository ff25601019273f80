#!/bin/bash
# Move 200 MB each way over TCP through the tunnel and compare SHA-256 on
# both ends.
#
#   client c1 (socat) ==tunnel== tunneld ---- lan 198.18.1.2 (socat)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need socat sha256sum
lab_init bulk
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info td_config
td_start
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
MB=${BULK_MB:-200}
mbps() { awk -v a="$1" -v b="$2" -v mb="$MB" 'BEGIN { printf "%.0f", mb * 8.388608 / (b - a) }'; }

head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/up.bin"
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/down.bin"
want_up=$(sha256sum <"$LAB_DIR/up.bin" | cut -d' ' -f1)
want_down=$(sha256sum <"$LAB_DIR/down.bin" | cut -d' ' -f1)

# Upload: client -> lan.
lab_bg lan "$LAB_DIR/sink.log" timeout 120 socat -u TCP-LISTEN:5001,reuseaddr \
	CREATE:"$LAB_DIR/up.recv" >/dev/null
lab_wait_listen lan 5001 10 || td_fail "sink not listening"
t0=$(date +%s.%N)
lab_cli c1 timeout 120 socat -u OPEN:"$LAB_DIR/up.bin" TCP:198.18.1.2:5001 ||
	td_fail "upload failed"
t1=$(date +%s.%N)
for _ in $(seq 100); do
	[ "$(stat -c %s "$LAB_DIR/up.recv" 2>/dev/null || echo 0)" -ge $((MB << 20)) ] && break
	sleep 0.1
done
got_up=$(sha256sum <"$LAB_DIR/up.recv" | cut -d' ' -f1)
[ "$got_up" = "$want_up" ] || td_fail "upload SHA-256 mismatch"
td_pass "upload ${MB} MB intact ($(mbps "$t0" "$t1") Mbit/s)"

# Download: lan -> client.
lab_bg lan "$LAB_DIR/src.log" timeout 120 socat -u OPEN:"$LAB_DIR/down.bin" \
	TCP-LISTEN:5002,reuseaddr >/dev/null
lab_wait_listen lan 5002 10 || td_fail "source not listening"
t0=$(date +%s.%N)
lab_cli c1 timeout 120 socat -u TCP:198.18.1.2:5002 CREATE:"$LAB_DIR/down.recv" ||
	td_fail "download failed"
t1=$(date +%s.%N)
got_down=$(sha256sum <"$LAB_DIR/down.recv" | cut -d' ' -f1)
[ "$got_down" = "$want_down" ] || td_fail "download SHA-256 mismatch"
td_pass "download ${MB} MB intact ($(mbps "$t0" "$t1") Mbit/s)"
rm -f "$LAB_DIR"/*.bin "$LAB_DIR"/*.recv
td_stop || td_fail "unclean stop"
