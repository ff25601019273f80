#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The DTLS channel with the stock client: up within 3 s of the start, its MTU
# probe echoed at full length, the data over it (tunnelctl's channel and
# counters); a reconnect (SIGUSR2)
# keeps the addresses and brings DTLS back; a NAT that moves the client's
# UDP port mid-flow (nftables SNAT in the client namespace) costs under
# 1 s; packets dropped at random on the path (1 %) leave it working; with
# UDP blocked (ICMP port unreachable) the client is up on TLS within 3 s.
#
#   client c1 --UDP/TCP 4443--> [server: tunneld, DTLS on 4443/udp] --- lan 198.18.1.2
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need jq nft
lab_init dtls
lab_make_cert
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass bob:bob-pass
td_config
# Key updates every 10 s, so that the server's TLS 1.3 KeyUpdate (and the
# client's own, told "ssl") happen during the test.
sed -i 's|keepalive = 20; };|keepalive = 20; rekey-time = 10; };|' "$LAB_DIR/tunneld.conf"
td_start
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
ctl() { "$CTL" -s "$LAB_DIR/control.sock" "$@"; }

# The session of USER as tunnelctl shows it (JSON).
session_of() {
	ctl --json list | jq -c --arg u "$1" '.sessions[] | select(.user == $u)'
}

# Wait until USER's data goes over CHANNEL (dtls|tls); seconds waited.
wait_channel() {
	local user=$1 want=$2 timeout=${3:-10} start now
	start=$(lab__now_ms)
	while :; do
		now=$(lab__now_ms)
		[ "$(session_of "$user" | jq -r .channel)" = "$want" ] &&
			{ echo $(((now - start) / 1000)); return 0; }
		[ $((now - start)) -ge $((timeout * 1000)) ] && return 1
		sleep 0.05
	done
}

# 1. Up over DTLS within 3 s of the client's start.
t0=$(lab__now_ms)
lab_start_client c1 alice alice-pass -v -v
lab_wait_client c1 20 || td_fail "client did not connect"
wait_channel alice dtls 10 >/dev/null || td_fail "no DTLS: $(session_of alice)"
took=$(($(lab__now_ms) - t0))
[ $took -le 3000 ] || td_fail "DTLS up after $took ms (> 3 s)"
grep -q "Established DTLS connection" "$LAB_DIR/c1.oc.log" || td_fail "the client says no DTLS"
cipher=$(session_of alice | jq -r .dtls_cipher)
[ -n "$cipher" ] && [ "$cipher" != null ] || td_fail "no DTLS cipher shown"
td_pass "DTLS up in $took ms ($cipher)"
# The client probes the MTU with DPD requests of the tunnel MTU (1400) and
# takes only an answer of the same length and bytes.
grep -q "Sending MTU DPD probe (1400 bytes)" "$LAB_DIR/c1.oc.log" || td_fail "no MTU probe sent"
grep -q "Received MTU DPD probe (1400 bytes)" "$LAB_DIR/c1.oc.log" ||
	td_fail "the MTU probe was not echoed at full length"
grep -q "Detected MTU" "$LAB_DIR/c1.oc.log" && td_fail "the client lowered its MTU"
td_pass "MTU probe echoed at full length (1400 bytes)"

ip4=$(lab_client_state c1 ip4)
ip6=$(lab_client_state c1 ip6)
before=$(session_of alice | jq .dtls_rx_pkts)
lab_ping_ok c1 198.18.1.2 5 || td_fail "IPv4 over DTLS"
lab_ping_ok c1 fd00:1::2 5 || td_fail "IPv6 over DTLS"
lab_ping_ok lan "$ip4" 5 || td_fail "lan -> client over DTLS"
# Counters reach the master every 10 s; the tunnel's end reports them too.
sleep 11
after=$(session_of alice | jq .dtls_rx_pkts)
[ "$after" -ge $((before + 10)) ] || td_fail "DTLS counters did not move: $before -> $after"
td_pass "pings both families over DTLS ($before -> $after packets in)"
td_log_wait "session [0-9]+: TLS keys updated" 5 || td_fail "no TLS key update after rekey-time"
lab_ping_ok c1 198.18.1.2 3 || td_fail "traffic after the key update"
[ "$(lab_event_count c1 reconnect)" = 0 ] || td_fail "the key updates made the client reconnect"
# The client rekeys DTLS by renegotiating inside the channel.
td_log_wait "session [0-9]+: DTLS rekeyed" 5 || td_fail "the client's DTLS rekey did not complete"
grep -q "DTLS Rehandshake failed\|DTLS handshake timed out" "$LAB_DIR/c1.oc.log" &&
	td_fail "the client's DTLS rekey failed"
td_pass "TLS 1.3 key update by the server, DTLS rekeyed by the client, traffic goes on"

# 2. A reconnect keeps the addresses, and DTLS comes back (new PSK, new App-ID).
lab_client_signal c1 USR2
lab_wait_event c1 reconnect 1 30 || td_fail "no reconnect"
lab_wait_client c1 20 || td_fail "not up after the reconnect"
[ "$(lab_client_state c1 ip4)" = "$ip4" ] || td_fail "IPv4 changed on reconnect"
[ "$(lab_client_state c1 ip6)" = "$ip6" ] || td_fail "IPv6 changed on reconnect"
wait_channel alice dtls 10 >/dev/null || td_fail "no DTLS after the reconnect"
lab_ping_ok c1 198.18.1.2 3 || td_fail "traffic after the reconnect"
td_pass "reconnect: same $ip4 $ip6, DTLS back"

# 3. The client's NAT moves its UDP port mid-flow: the first datagram from
# the new port that decrypts moves the channel; at most 1 s without replies.
lab_cli c1 bash -c "ping -i 0.05 -w 12 198.18.1.2 >'$LAB_DIR/nat.ping' 2>&1" &
pinger=$!
sleep 2
lab_cli c1 nft -f - <<'NFT'
table ip natmove {
	chain post {
		type nat hook postrouting priority srcnat;
		udp dport 4443 snat to 198.18.0.10:40000-40100
	}
}
NFT
# Existing conntrack entries keep the old port; drop them so the rule bites.
lab_cli c1 bash -c "command -v conntrack >/dev/null && conntrack -D -p udp || true" >/dev/null 2>&1
wait "$pinger" || true
lab_cli c1 nft delete table ip natmove
td_log_wait "DTLS from a new address of the client" 5 || td_fail "the channel did not move"
gap=$(awk -F'icmp_seq=' '/icmp_seq=/ { split($2, a, " "); s = a[1] + 0;
	if (p && s - p > g) g = s - p; p = s } END { print (g ? g : 0) * 50 }' "$LAB_DIR/nat.ping")
[ "$gap" -le 1000 ] || td_fail "the port move cost $gap ms of replies (> 1 s)"
wait_channel alice dtls 5 >/dev/null || td_fail "not on DTLS after the port move"
td_pass "NAT port change: longest gap $gap ms, still on DTLS"

# 4. 1 % of the datagrams lost at random both ways (nftables numgen: this
# kernel has no sch_netem): the channel stays up and carries traffic.
lab_srv nft -f - <<'NFT'
table inet loss {
	chain in { type filter hook input priority 0; udp dport 4443 numgen random mod 100 < 1 drop; }
	chain out { type filter hook output priority 0; udp sport 4443 numgen random mod 100 < 1 drop; }
}
NFT
lab_cli c1 ping -q -c 200 -i 0.01 -W 1 198.18.1.2 >"$LAB_DIR/loss.ping" 2>&1 || true
lab_srv nft delete table inet loss
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/loss.ping")
[ "${recv:-0}" -ge 180 ] || td_fail "under 1 % loss only ${recv:-0}/200 pings came back"
[ "$(session_of alice | jq -r .channel)" = dtls ] || td_fail "DTLS lost under 1 % loss"
td_pass "1 % random loss: $recv/200 pings, still on DTLS"

# 5. UDP blocked on the client's side (ICMP port unreachable): up over TLS
# within 3 s, traffic flows.
lab_cli c2 nft -f - <<'NFT'
table inet noudp {
	chain out { type filter hook output priority 0; udp dport 4443 reject; }
}
NFT
t0=$(lab__now_ms)
lab_start_client c2 bob bob-pass
lab_wait_client c2 10 || td_fail "client c2 did not connect with UDP blocked"
took=$(($(lab__now_ms) - t0))
[ $took -le 3000 ] || td_fail "with UDP blocked the tunnel came up after $took ms (> 3 s)"
lab_ping_ok c2 198.18.1.2 3 || td_fail "no traffic over TLS with UDP blocked"
[ "$(session_of bob | jq -r .channel)" = tls ] || td_fail "bob should be on TLS"
td_pass "UDP blocked: up on TLS in $took ms"

lab_client_signal c1 INT
lab_client_signal c2 INT
lab_client_exited c1 10 >/dev/null || td_fail "client c1 did not exit"
lab_client_exited c2 10 >/dev/null || td_fail "client c2 did not exit"
td_log_wait "session-end id=[0-9]+ user=alice .* dtls_rx_pkts=[1-9][0-9]* dtls_rx_bytes=[0-9]+ dtls_tx_pkts=[1-9]" 5 ||
	td_fail "the session summary shows no DTLS traffic"
td_stop || td_fail "unclean stop"
td_pass "clean stop"
