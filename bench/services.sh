#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench, TLS stream services: a tunneld service against Debian's
# stunnel4 in the same lab and run, same certificate (ECDSA P-256), same
# destination.  Prints one table: Gbit/s each way for BENCH_SVC_MB (1024)
# through one stream, the server's CPU-seconds per GB (and the system
# share), medians of BENCH_SVC_RUNS (3) runs taken in turn; new
# connections a second (openssl s_time, 5 s, to the sink) and the server's
# RSS per idle connection (BENCH_SVC_IDLE, 2000 held).  Throughput per CPU
# is GB per server CPU-second; the issue's target is at least 2x stunnel's.
# BENCH_ONLY=services make bench runs only this (see bench/README.md).
#
#   client c1 (socat, s_time) --TLS--> 198.18.0.1:8443 tunneld (1 worker)  --TCP--> lan 198.18.1.2
#                             --TLS--> 198.18.0.1:8543 stunnel4                     9100 zeros, 9101 sink, 9002 hold
set -euo pipefail
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top/tests/e2e/lib/lib.sh"
. "$top/tests/e2e/lib/td.sh"
lab_need socat openssl python3 stunnel4
lab_init svcb
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
MB=${BENCH_SVC_MB:-1024}
IDLE=${BENCH_SVC_IDLE:-2000}
RUNS=${BENCH_SVC_RUNS:-3}
S=198.18.0.1
PEER=$LAB_LIB_DIR/svcpeer.py
CLI=$LAB_LIB_DIR/svctls.py

lab_bg lan "$LAB_DIR/zeros.log" socat -u OPEN:/dev/zero,readbytes=$((MB << 20)) \
	TCP-LISTEN:9100,reuseaddr,fork >/dev/null
lab_bg lan "$LAB_DIR/sink.log" socat -u TCP-LISTEN:9101,reuseaddr,fork OPEN:/dev/null >/dev/null
lab_bg lan "$LAB_DIR/hold.log" bash -c "ulimit -n 20000 && exec python3 $PEER hold 198.18.1.2 9002 $LAB_DIR/hold.count" >/dev/null
for p in 9100 9101 9002; do lab_wait_listen lan $p 10; done

svc() { printf '{ name = "%s"; listen = "%s:%s"; connect = "198.18.1.2:%s"; certificate = "%s"; key = "%s"; max-connections = 2500; }' \
	"$1" $S "$2" "$3" "$LAB_CERT" "$LAB_KEY"; }
TD_EXTRA="services = ( $(svc down 8443 9100), $(svc up 8444 9101), $(svc idle 8445 9002) );
limits = { max-clients = 100; max-handshakes-per-address = 2000; };" \
	TD_WORKERS=1 TD_LOG_LEVEL=info td_config
td_start
cat >"$LAB_DIR/stunnel.conf" <<CONF
foreground = yes
pid =
[down]
accept = $S:8543
connect = 198.18.1.2:9100
cert = $LAB_CERT
key = $LAB_KEY
[up]
accept = $S:8544
connect = 198.18.1.2:9101
cert = $LAB_CERT
key = $LAB_KEY
[idle]
accept = $S:8545
connect = 198.18.1.2:9002
cert = $LAB_CERT
key = $LAB_KEY
CONF
lab_bg srv "$LAB_DIR/stunnel.log" bash -c "ulimit -n 20000 && exec stunnel4 $LAB_DIR/stunnel.conf" >/dev/null
ST_PID=$LAB_BG_PID
lab_wait_listen srv 8545 10

# CPU seconds of a process tree's processes (tunneld's master and
# children, or stunnel): "user system".
cpu_of() {
	local p u=0 y=0
	for p in "$@"; do
		read -r pu py < <(awk '{ print $14, $15 }' "/proc/$p/stat" 2>/dev/null || echo 0 0)
		u=$((u + pu)) y=$((y + py))
	done
	awk -v u=$u -v y=$y -v c="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f %.3f", u / c, y / c }'
}
td_pids() { echo "$TD_PID $(ps --ppid "$TD_PID" -o pid= | tr '\n' ' ')"; }
rss_of() {
	local p t=0
	for p in "$@"; do t=$((t + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0))); done
	echo $t
}
now() { date +%s.%N; }

# run NAME PORT DIR: one stream of MB, down or up; prints "Gbit/s
# CPU-s/GB system-share".
run() {
	local pids t0 t1 c0 c1
	pids=$( [ "$1" = tunneld ] && td_pids || echo "$ST_PID")
	# shellcheck disable=SC2086
	c0=$(cpu_of $pids)
	t0=$(now)
	if [ "$3" = down ]; then
		lab_cli c1 socat -u OPENSSL:$S:$2,verify=0 OPEN:/dev/null
	else
		lab_cli c1 socat -u OPEN:/dev/zero,readbytes=$((MB << 20)) OPENSSL:$S:$2,verify=0
	fi
	t1=$(now)
	sleep 0.5
	# shellcheck disable=SC2086
	c1=$(cpu_of $pids)
	awk -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" -v mb="$MB" 'BEGIN {
		split(c, x, " "); split(d, y, " "); u = y[1] - x[1]; k = y[2] - x[2]
		printf "%.2f %.2f %.0f", mb * 8 / 1024 / (b - a), (u + k) / (mb / 1024), \
			(u + k > 0 ? 100 * k / (u + k) : 0) }'
}
# median FIELD LINES...: the median of one field over the runs
median() {
	local f=$1
	shift
	printf '%s\n' "$@" | awk -v f="$f" '{ print $f }' | sort -g | awk '{ v[NR] = $1 } END {
		printf "%s", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
conns() { # conns PORT: s_time's new connections over its wall time
	local t0 t1 n
	t0=$(now)
	n=$(lab_cli c1 timeout 20 openssl s_time -connect $S:$1 -new -time 5 2>/dev/null |
		sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' | head -1)
	t1=$(now)
	awk -v n="${n:-0}" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}
cipher() { # cipher PORT: what the client and server agree on
	lab_cli c1 timeout 5 openssl s_client -connect $S:$1 -brief </dev/null 2>&1 |
		sed -n 's/^Protocol version: //p; s/^Ciphersuite: //p' | tr '\n' ' '
}
idle_kib() { # idle_kib NAME PORT
	local pids r0 r1
	pids=$( [ "$1" = tunneld ] && td_pids || echo "$ST_PID")
	# shellcheck disable=SC2086
	r0=$(rss_of $pids)
	lab_bg c1 "$LAB_DIR/idle-$1.log" bash -c "ulimit -n 20000 && exec python3 $CLI idle $S $2 $IDLE 6" >/dev/null
	for _ in $(seq 300); do grep -q '^held' "$LAB_DIR/idle-$1.log" && break; sleep 0.2; done
	sleep 2
	# shellcheck disable=SC2086
	r1=$(rss_of $pids)
	wait "$LAB_BG_PID" || true
	awk -v a="$r0" -v b="$r1" -v n="$IDLE" 'BEGIN { printf "%.1f", (b - a) / n }'
}

declare -A R
for r in $(seq "$RUNS"); do # the servers in turn, so both see the same noise
	for srv in tunneld stunnel; do
		base=$([ $srv = tunneld ] && echo 8443 || echo 8543)
		R[$srv.down.$r]=$(run $srv $base down)
		R[$srv.up.$r]=$(run $srv $((base + 1)) up)
		echo "run $r $srv: down ${R[$srv.down.$r]}, up ${R[$srv.up.$r]} (Gbit/s CPU-s/GB sys%)" >&2
	done
done
for srv in tunneld stunnel; do
	base=$([ $srv = tunneld ] && echo 8443 || echo 8543)
	R[$srv.conns]=$(conns $((base + 1))) # to the sink: nothing to read
	R[$srv.cipher]=$(cipher $((base + 1)))
	R[$srv.idle]=$(idle_kib $srv $((base + 2)))
	sleep 3 # the idle streams close
done

printf '\nTLS stream services, %s MB per stream, one client, medians of %s runs, %s idle connections (%s)\n' \
	"$MB" "$RUNS" "$IDLE" "$(date +%F)"
printf '%-9s %9s %9s %11s %11s %6s %9s %8s %9s\n' server "down Gb/s" "up Gb/s" "CPU-s/GB dn" "CPU-s/GB up" \
	"sys %" "GB/CPU-s" "conn/s" "KiB/idle"
for srv in tunneld stunnel; do
	dn=() up=()
	for r in $(seq "$RUNS"); do dn+=("${R[$srv.down.$r]}") up+=("${R[$srv.up.$r]}"); done
	dg=$(median 1 "${dn[@]}") dc=$(median 2 "${dn[@]}") ug=$(median 1 "${up[@]}") uc=$(median 2 "${up[@]}")
	sy=$(median 3 "${dn[@]}" "${up[@]}")
	per=$(awk -v a="$dc" -v b="$uc" 'BEGIN { printf "%.2f", 2 / (a + b) }')
	R[$srv.per]=$per
	printf '%-9s %9s %9s %11s %11s %6s %9s %8s %9s\n' $srv "$dg" "$ug" "$dc" "$uc" "$sy" "$per" \
		"${R[$srv.conns]:-?}" "${R[$srv.idle]}"
done
for srv in tunneld stunnel; do printf '%-9s TLS: %s\n' $srv "${R[$srv.cipher]}"; done
awk -v a="${R[tunneld.per]}" -v b="${R[stunnel.per]}" \
	'BEGIN { printf "throughput per CPU: tunneld %.1fx stunnel (target: at least 2x)\n", a / b }'
kill "$ST_PID" 2>/dev/null || true
st=0
wait "$ST_PID" || st=$?
[ $st = 0 ] || echo "(stunnel4 exited with status $st on SIGTERM: $(tail -1 "$LAB_DIR/stunnel.log"))"
td_stop
