#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The TUN write batches of several flows at once (worker/tunio.c): two
# clients on one worker upload FLOWS_MB MB each over TLS while the first
# also sends a UDP stream (iperf3 -u), so packets of three flows of two
# clients arrive interleaved.  Both uploads arrive intact, the UDP stream
# arrives in order (a batch written out of turn would reorder it), and the
# worker's stop line shows batches of several flows held at once.
#
#   c1 (socat, iperf3 -u) ==TLS==+
#                                +== tunneld (1 worker) ---- lan 198.18.1.2
#   c2 (socat)            ==TLS==+
set -euo pipefail
. "$(dirname "$0")/../e2e/lib/lib.sh"
. "$(dirname "$0")/../e2e/lib/td.sh"
lab_need socat sha256sum iperf3 jq
lab_init flows
lab_make_cert
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass bob:bob-pass
TD_WORKERS=1 TD_LOG_LEVEL=info td_config
MB=${FLOWS_MB:-32}
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/data.bin"
want=$(sha256sum <"$LAB_DIR/data.bin" | cut -d' ' -f1)

td_start
lab_start_client c1 alice alice-pass --no-dtls
lab_start_client c2 bob bob-pass --no-dtls
lab_wait_client c1 20 || td_fail "c1 did not connect"
lab_wait_client c2 20 || td_fail "c2 did not connect"

sinks=()
for k in 1 2; do
	sinks+=("$(lab_bg lan "$LAB_DIR/sink$k.log" timeout 60 socat -u \
		"TCP-LISTEN:560$k,reuseaddr" CREATE:"$LAB_DIR/recv$k.bin")")
	lab_wait_listen lan "560$k" 10 || td_fail "sink $k not listening"
done
# The receiver counts datagrams out of order (the sender's report does not).
srv=$(lab_bg lan "$LAB_DIR/udp-srv.json" timeout 40 iperf3 -s -1 -J -p 5201)
lab_wait_listen lan 5201 10 || td_fail "iperf3 server not listening"

udp=$(lab_bg c1 "$LAB_DIR/udp.json" timeout 30 iperf3 -c "$LAB_LAN_IP" -p 5201 -u \
	-b 200M -l 1200 -t 4 -J)
up1=$(lab_bg c1 "$LAB_DIR/up1.log" timeout 60 socat -u OPEN:"$LAB_DIR/data.bin" \
	"TCP:$LAB_LAN_IP:5601")
lab_cli c2 timeout 60 socat -u OPEN:"$LAB_DIR/data.bin" "TCP:$LAB_LAN_IP:5602" ||
	td_fail "c2's upload failed"
lab_wait_gone "$up1" 60
lab_wait_gone "$udp" 30
lab_wait_gone "$srv" 10
for k in 1 2; do
	lab_wait_gone "${sinks[$((k - 1))]}" 10
	td_check_sha "upload $k" "$LAB_DIR/recv$k.bin" "$want"
done

read -r pkts ooo <<<"$(jq -r '.end.streams[0].udp | "\(.packets) \(.out_of_order)"' "$LAB_DIR/udp-srv.json")"
[ "${pkts:-0}" -gt 1000 ] ||
	td_fail "UDP stream: only ${pkts:-0} packets: $(head -c 300 "$LAB_DIR/udp-srv.json")"
[ "$ooo" = 0 ] || td_fail "UDP stream: $ooo of $pkts datagrams out of order"
td_pass "UDP stream beside the uploads: $pkts datagrams, none out of order"

lab_client_signal c1 INT
lab_client_signal c2 INT
lab_client_exited c1 10 >/dev/null || td_fail "c1 did not exit"
lab_client_exited c2 10 >/dev/null || td_fail "c2 did not exit"
td_stop || td_fail "unclean stop"
most=$(sed -n 's/.*TUN write batches: up to \([0-9]*\) flows at once.*/\1/p' "$TD_LOG" | head -1)
[ "${most:-0}" -ge 2 ] || td_fail "at most ${most:-none} flows batched at once"
td_pass "TUN write batches: up to $most flows at once"
rm -f "$LAB_DIR"/*.bin
