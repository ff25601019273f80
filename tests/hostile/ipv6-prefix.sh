#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# limits.ipv6-prefix (SECURITY-REVIEW #7): an IPv6 client is counted by its
# /64 for limits.max-handshakes-per-address.  200 stalled handshakes from
# 200 addresses of one /64 are not all admitted: the server holds at most
# the per-address limit of them.  Another /64 is still admitted, and with
# limits.ipv6-prefix = 128 (after a reload) each address counts alone.
#
#   c1 fd00:10::100-1c7 (200 addresses, one /64) --- 200 x half ClientHello --+
#      fd00:10:0:1::5 (another /64) ----------------- 5 x half ClientHello ---+-- tunneld
#                                                     [fd00:10::1]:4443, 1 worker,
#                                                     max-handshakes-per-address 20
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init v6pfx
lab_add_client c1
C1=$(lab_ns c1)
ip -n "$LAB_NS_SRV" -6 addr add fd00:10::1/64 dev br0 nodad
ip -n "$LAB_NS_SRV" -6 addr add fd00:10:0:1::1/64 dev br0 nodad
srcs=()
for i in $(seq 256 455); do
	a=$(printf 'fd00:10::%x' "$i")
	ip -n "$C1" -6 addr add "$a/64" dev eth0 nodad
	srcs+=("$a")
done
ip -n "$C1" -6 addr add fd00:10:0:1::5/64 dev eth0 nodad
SRCS=$(
	IFS=,
	echo "${srcs[*]}"
)
hl_users alice:alice-pass
PER_ADDR=20
TD_WORKERS=1 hl_config limits.handshake-timeout=30 limits.max-handshakes=1000 \
	limits.max-handshakes-per-address=$PER_ADDR
sed -i "s|^listen = \[\"$LAB_SRV_IP:$LAB_PORT\"\];|listen = [\"$LAB_SRV_IP:$LAB_PORT\", \"[fd00:10::1]:$LAB_PORT\"];|" \
	"$LAB_DIR/tunneld.conf"
grep -q 'fd00:10::1' "$LAB_DIR/tunneld.conf" || td_fail "could not add the IPv6 listener"
td_start

# Every one of the 200 holds its half ClientHello for 8 s unless refused.
# Prints the most the server held at once.  $1: the regex of the sources
# in ss (hl_held hands it to awk -v, which reads escapes, so \\[ for a
# bracket; and mawk knows no {n}), $2: the log, then the tool's options.
flood() {
	local re=$1 log=$2 pid max=0 held
	shift 2
	hl_bg c1 "$log" -s "[fd00:10::1]:$LAB_PORT" -t 8 "$@"
	pid=$LAB_BG_PID
	while lab_alive "$pid"; do
		held=$(hl_held "$re")
		[ "$held" -gt "$max" ] && max=$held
		sleep 0.2
	done
	wait "$pid" || true
	echo "$max"
}

# 1. One /64, 200 addresses: at most PER_ADDR held (one more may show for
# the instant between an accept and the close it causes).
held=$(flood '\\[fd00:10::1[0-9a-f][0-9a-f]\\]' "$LAB_DIR/one.log" -b "$SRCS" loris hello 200 --rate 400)
cat "$LAB_DIR/one.log"
opened=$(hl_value opened "$LAB_DIR/one.log")
echo "one /64: $opened opened, the server held at most $held"
[ "${opened:-0}" -ge 200 ] || td_fail "the tool opened only '$opened' connections"
[ "$held" -le $((PER_ADDR + 1)) ] ||
	td_fail "the server held $held handshakes from one /64, limit $PER_ADDR (counted per address?)"
[ "$held" -ge $((PER_ADDR - 2)) ] || td_fail "the server held only $held: the flood never got in"
td_log_wait 'limits\.max-handshakes-per-address' 3 || td_fail "no log line naming the limit"
td_pass "200 addresses of one /64: $held of $opened handshakes held (limit $PER_ADDR)"

# 2. Another /64 meanwhile gets its own share.
hl_bg c1 "$LAB_DIR/a.log" -s "[fd00:10::1]:$LAB_PORT" -b "$SRCS" -t 6 loris hello 200 --rate 400
a_pid=$LAB_BG_PID
sleep 1
held=$(flood '\\[fd00:10:0:1::5\\]' "$LAB_DIR/other.log" -b fd00:10:0:1::5 loris hello 5)
wait "$a_pid" || true
[ "$held" = 5 ] || td_fail "another /64 got $held of 5 handshakes in while the first was full"
td_pass "another /64 is admitted while the first one is at its limit"

# 3. limits.ipv6-prefix = 128: each address alone, so all 200 get in.
sed -i 's|^limits = {|limits = { ipv6-prefix = 128;|' "$LAB_DIR/tunneld.conf"
grep -q 'ipv6-prefix = 128' "$LAB_DIR/tunneld.conf" || td_fail "could not set limits.ipv6-prefix"
kill -HUP "$TD_PID"
td_log_wait 'reload: limits\.ipv6-prefix changed' 5 || td_fail "the reload did not apply ipv6-prefix"
held=$(flood '\\[fd00:10::1[0-9a-f][0-9a-f]\\]' "$LAB_DIR/all.log" -b "$SRCS" loris hello 200 --rate 400)
[ "$held" -ge 190 ] || td_fail "with ipv6-prefix 128 the server held only $held of 200"
td_stop || td_fail "unclean stop"
td_pass "limits.ipv6-prefix = 128 (reloaded): $held of 200 held ($(hl_elapsed) s)"
