#!/bin/bash
# The main job: a lab in network namespaces where the stock openconnect
# client connects through tunneld and traffic flows; prints a summary.
#
#   tools/lab.sh [--seconds N] [--compare] [--workers N]
#     --seconds N   iperf3 duration per direction (default 5)
#     --compare     run the same measurements against Debian's ocserv
#
#   client c1 --br0-- [server ns: tunneld, vpns0] --- lan 198.18.1.2 (iperf3 -s)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export top_builddir=${top_builddir:-$(cd "$HERE/.." && pwd)}
. "$HERE/../tests/e2e/lib/lib.sh"
. "$HERE/../tests/e2e/lib/td.sh"

SECS=5
COMPARE=0
WORKERS=auto
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=$2; shift 2 ;;
	--compare) COMPARE=1; shift ;;
	--workers) WORKERS=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds N] [--compare] [--workers N]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "lab.sh: run as root (it creates network namespaces)" >&2; exit 1; }
lab_need iperf3 openconnect
lab_init lab
lab_make_cert
lab_add_client c1

# iperf3 in both directions; prints "up down" in Gbit/s.
measure() {
	local up down srv
	lab_bg lan "$LAB_DIR/iperf-s.log" iperf3 -s -p 5201 >/dev/null
	srv=$LAB_BG_PID
	lab_wait_listen lan 5201 10
	up=$(lab_cli c1 iperf3 -c 198.18.1.2 -p 5201 -t "$SECS" -J |
		awk -F'[:,]' '/"sum_received"/ {f=1} f && /"bits_per_second"/ {printf "%.2f", $2/1e9; exit}')
	down=$(lab_cli c1 iperf3 -c 198.18.1.2 -p 5201 -t "$SECS" -R -J |
		awk -F'[:,]' '/"sum_received"/ {f=1} f && /"bits_per_second"/ {printf "%.2f", $2/1e9; exit}')
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	echo "$up $down"
}

run_one() {
	local name=$1 ip4 ip6 r cpu0 cpu1
	lab_start_client c1 alice alice-pass
	lab_wait_client c1 20
	ip4=$(lab_client_state c1 ip4)
	ip6=$(lab_client_state c1 ip6)
	lab_ping_ok c1 198.18.1.2 3 && p4=ok || p4=FAILED
	lab_ping_ok c1 fd00:1::2 3 && p6=ok || p6=FAILED
	rtt=$(lab_cli c1 ping -n -q -c 20 -i 0.05 198.18.1.2 | awk -F/ '/^rtt/ {print $5}')
	cpu0=$(lab_srv_cpu)
	r=$(measure)
	cpu1=$(lab_srv_cpu)
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || true
	printf '%-8s client %s / %s  ping v4 %s v6 %s (avg %s ms)\n' \
		"$name" "$ip4" "$ip6" "$p4" "$p6" "$rtt" >>"$LAB_DIR/summary"
	awk -v n="$name" -v s="$SECS" -v up="${r% *}" -v dn="${r#* }" -v a="$cpu0" -v b="$cpu1" \
		'BEGIN { gb = (up + dn) * s / 8; printf "%-8s iperf3 %ss each way: up %.2f Gbit/s, down %.2f Gbit/s; server CPU %.1f s = %.1f CPU-s/GB\n", n, s, up, dn, b - a, (gb > 0 ? (b - a) / gb : 0) }' \
		>>"$LAB_DIR/summary"
}

td_users alice:alice-pass
if [ "$WORKERS" = auto ]; then TD_WORKERS='"auto"'; else TD_WORKERS=$WORKERS; fi
TD_LOG_LEVEL=info td_config
td_start
run_one tunneld
td_stop

if [ "$COMPARE" = 1 ]; then
	lab_start_ocserv
	run_one ocserv
fi

echo
echo "== tunneld lab summary ($(nproc) CPUs, MTU 1400, TLS only) =="
cat "$LAB_DIR/summary"
grep -q FAILED "$LAB_DIR/summary" && exit 1
exit 0
