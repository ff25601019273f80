#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tunnelctl status shows the packet path that is running, and why a part of
# it is off:
#  1. two workers, everything on: TUN steering, the TUN offloads (vnet
#     header, checksums, TSO; USO where the kernel has it), DTLS with its
#     steering, UDP GSO and GRO; per worker its TUN queue, its UDP sockets
#     and its tunnels (the client's worker holds one, as tunnelctl list
#     says); the human form says the same.
#  2. the same switched off by the environment: each part off, naming the
#     variable.
#  3. the master started without CAP_BPF (setpriv, as a sandbox would):
#     the kernel refuses both steering programs, the daemon says why at
#     warning, falls back to hand-offs, and the client's traffic still
#     passes; status names the missing capability.
#  4. one worker: nothing to steer, and status says so.
#
#   client c1 --br0-- [server: tunneld, 2 workers, vpns0 with 2 queues] --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need jq setpriv
lab_init path
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
status() { "$CTL" -s "$LAB_DIR/control.sock" "$@" status; }
# pp KEY: a member of packet_path in the last status
pp() { jq -r ".packet_path.$1" <<<"$ST"; }
expect_on() { # expect_on KEY...: on, and no reason given
	local k
	for k in "$@"; do
		[ "$(pp "$k")" = true ] && [ "$(pp "${k}_why")" = null ] ||
			td_fail "$k: want on: $(jq -c .packet_path <<<"$ST")"
	done
}
expect_off() { # expect_off KEY TEXT: off, the reason contains TEXT
	[ "$(pp "$1")" = false ] || td_fail "$1: want off: $(jq -c .packet_path <<<"$ST")"
	case $(pp "${1}_why") in
	*"$2"*) ;;
	*) td_fail "$1: the reason does not say '$2': $(pp "${1}_why")" ;;
	esac
}
restart() { # restart [CMD-PREFIX...]: a fresh server, started through the prefix
	td_stop || td_fail "unclean stop"
	: >"$LAB_DIR/tunneld.log"
	TD_PID=$(lab_bg srv "$LAB_DIR/tunneld.log" "$@" "$TD_BIN" -f -c "$LAB_DIR/tunneld.conf")
	td_log_wait 'master: info: ready:' 20 || td_fail "not ready"
}
connect_and_ping() {
	lab_start_client c1 alice alice-pass
	lab_wait_client c1 30 || td_fail "client did not connect"
	lab_ping_ok c1 "$LAB_LAN_IP" 3 || td_fail "ping the lan (IPv4)"
	lab_ping_ok lan "$(lab_client_state c1 ip4)" 3 || td_fail "the lan pings the client"
}
stop_client() {
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
}

# 1. Everything on ------------------------------------------------------------
TD_WORKERS=2 td_config
td_start
connect_and_ping
ST=$(status --json) || td_fail "tunnelctl --json status"
[ "$(pp tun_queues)" = 2 ] || td_fail "tun_queues: $(pp tun_queues)"
expect_on tun_steering tun_tso dtls dtls_steering udp_gso udp_gro
[ "$(pp tun_vnet_hdr)" = true ] && [ "$(pp tun_csum)" = true ] || td_fail "vnet header, checksums"
# USO came with Linux 6.2; before it the reason must say so.
if [ "$(pp tun_uso)" = true ]; then expect_on tun_uso; else expect_off tun_uso "before Linux 6.2"; fi
[ "$(jq '[.workers[].tun_queue] == [0, 1]' <<<"$ST")" = true ] || td_fail "queues: $ST"
[ "$(jq '[.workers[].udp_sockets] == [1, 1]' <<<"$ST")" = true ] || td_fail "UDP sockets: $ST"
w=$("$CTL" -s "$LAB_DIR/control.sock" --json list | jq '.sessions[0].worker')
[ "$(jq "[.workers[] | .tunnels] == [$([ "$w" = 0 ] && echo 1,0 || echo 0,1)]" <<<"$ST")" = true ] ||
	td_fail "tunnels per worker (the client is on worker $w): $(jq -c .workers <<<"$ST")"
status >"$LAB_DIR/human" || td_fail "tunnelctl status"
for line in "TUN queues: 2" "TUN steering (eBPF, each packet to its client's worker): on" \
	"TUN offloads (vnet header, checksums, TSO4/TSO6): on" "DTLS steering (eBPF, each datagram to its session's worker): on" \
	"UDP GSO (segmented sends): on" "UDP GRO (merged receives): on" \
	"worker $w: pid $(jq ".workers[$w].pid" <<<"$ST"), TUN queue $w, 1 UDP socket(s), 1 tunnel(s)"; do
	grep -qF -- "  $line" "$LAB_DIR/human" || td_fail "human status lacks '$line': $(cat "$LAB_DIR/human")"
done
stop_client
td_pass "all on: steering (TUN, DTLS), TSO, USO $(pp tun_uso), UDP GSO/GRO; client on worker $w"

# 2. Switched off by the environment -----------------------------------------
restart env TUNNELD_NO_STEERING=1 TUNNELD_NO_USO=1 TUNNELD_NO_UDP_GSO=1
ST=$(status --json) || td_fail "tunnelctl --json status"
expect_off tun_steering TUNNELD_NO_STEERING
expect_off dtls_steering TUNNELD_NO_STEERING
expect_off tun_uso TUNNELD_NO_USO
expect_off udp_gso TUNNELD_NO_UDP_GSO
expect_on tun_tso dtls udp_gro
restart env TUNNELD_NO_OFFLOAD=1
ST=$(status --json) || td_fail "tunnelctl --json status"
expect_off tun_tso TUNNELD_NO_OFFLOAD
expect_off tun_uso "TUN offloads are off"
[ "$(pp tun_vnet_hdr)" = false ] || td_fail "vnet header without offloads"
expect_on tun_steering dtls_steering
status | grep -qF "  TUN offloads (vnet header, checksums, TSO4/TSO6): off (TUNNELD_NO_OFFLOAD is set)" ||
	td_fail "human status: $(status)"
td_pass "environment: each part off, naming its variable"

# 3. No CAP_BPF: the kernel refuses, the daemon falls back and says why ------
restart setpriv --bounding-set=-all,+net_admin,+net_bind_service,+setuid,+setgid,+sys_chroot,+kill \
	--inh-caps=-all --no-new-privs
grep -q '^CapEff:[[:space:]]*00000000000414e0$' "/proc/$TD_PID/status" ||
	td_fail "the master's capabilities: $(grep CapEff "/proc/$TD_PID/status")"
ST=$(status --json) || td_fail "tunnelctl --json status"
expect_off tun_steering "needs CAP_BPF"
expect_off dtls_steering "needs CAP_BPF"
expect_on tun_tso dtls udp_gso udp_gro
for what in TUN DTLS; do
	td_log_count "master: warning: $what steering program not attached \(Operation not permitted: needs CAP_BPF" |
		grep -qx 1 || td_fail "no warning that $what steering is off: $(grep -i steering "$TD_LOG")"
done
connect_and_ping
stop_client
td_pass "without CAP_BPF: steering off with a warning naming CAP_BPF, traffic passes"

# 4. One worker ----------------------------------------------------------------
TD_WORKERS=1 td_config
restart
ST=$(status --json) || td_fail "tunnelctl --json status"
expect_off tun_steering "one worker"
expect_off dtls_steering "one worker"
[ "$(pp tun_queues)" = 1 ] || td_fail "tun_queues: $(pp tun_queues)"
[ "$(td_log_count 'steering program not attached')" = 0 ] || td_fail "one worker: a steering warning"
td_stop || td_fail "unclean stop"
td_pass "one worker: nothing to steer"
