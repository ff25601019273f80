#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/handshake.sh - the cost of a connect on tunneld alone (no ocserv):
# the connect-rate figure of make bench (TLS 1.3 handshake, XML login,
# CONNECT, DISCONNECT; 16 clients at once, SHA-512-crypt user), with the
# password hash taken out of the server's CPU time as bench.sh does.  For
# comparing builds and key types; not part of make check or CI.  Root.
#
#   ld (tunneld-load, 198.18.0.100-.199) --- br0 [server ns: tunneld] 198.18.0.1:4443
#
# Environment: HS_RUNS (default 3) runs of HS_SECS (default 10) seconds;
# LAB_KEY_TYPE=rsa for an RSA-2048 certificate (default ECDSA P-256);
# HS_PRIORITIES: the server's tls.priorities (default: tunneld's own);
# top_builddir: the build to measure (default: this tree).  Prints one
# RESULT line per run and a median line.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export top_builddir=${top_builddir:-$(cd "$HERE/.." && pwd)}
. "$HERE/../tests/e2e/lib/lib.sh"
. "$HERE/../tests/e2e/lib/td.sh"

LOAD=$top_builddir/bench/tunneld-load
RUNS=${HS_RUNS:-3}
SECS=${HS_SECS:-10}
[ -x "$LOAD" ] || { echo "handshake: $LOAD not built" >&2; exit 1; }

lab_init hshk
lab_make_cert
lab_add_client ld
LD=$(lab_ns ld)
for i in $(seq 100 199); do ip -n "$LD" addr add "198.18.0.$i/24" dev eth0; done
printf 'alice-pass\n' | "$TD_PASSWD" -f "$LAB_DIR/passwd" -m sha512 alice >/dev/null
HASH=$(sed -n 's/^alice://p' "$LAB_DIR/passwd")
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
# The hash's CPU cost, the median of 5 measurements: the figure without
# the hash depends on it.
costs=()
for _ in 1 2 3 4 5; do
	costs+=("$("$LOAD" --hash-cost "$HASH" -p alice-pass | sed -n 's/.* ms=\([0-9.]*\).*/\1/p')")
done
COST=$(med "${costs[@]}")
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# One user's 16 clients at once: no per-user limit (default 4).
TD_WORKERS='"auto"' TD_LOG_LEVEL=info TD_EXTRA='limits = { max-sessions-per-user = 0; };' td_config
if [ -n "${HS_PRIORITIES:-}" ]; then
	# Taken from the environment as it is (no sed or awk escapes).
	HS_PRIORITIES=$HS_PRIORITIES awk '{ print } /^tls = \{/ { print "  priorities = \"" ENVIRON["HS_PRIORITIES"] "\";" }' \
		"$LAB_DIR/tunneld.conf" >"$LAB_DIR/tunneld.conf.new"
	mv "$LAB_DIR/tunneld.conf.new" "$LAB_DIR/tunneld.conf"
fi
td_start
rates=() percpu=() incl=()
for run in $(seq "$RUNS"); do
	r=$(lab_cli ld "$LOAD" --servercert "$LAB_PIN" --server-pid "$TD_PID" \
		--source 198.18.0.100/100 --server "$LAB_SRV_IP:$LAB_PORT" \
		--connect-rate -t "$SECS" -c 16 -u alice -p alice-pass --label "hs$run" 2>&1 |
		grep '^RESULT' || true)
	n=$(field connects "$r")
	x=$(awk -v n="$n" -v cpu="$(field server_cpu_s "$r")" -v h="$COST" \
		'BEGIN {x = cpu - n * h / 1000; if (x > 0) printf "%.1f", n / x}')
	echo "$r per_cpu_s_nohash=$x"
	rates+=("$(field rate "$r")")
	percpu+=("$x")
	incl+=("$(field per_cpu_s "$r")")
done
td_stop || echo "handshake: tunneld did not stop cleanly" >&2
echo "MEDIAN key=${LAB_KEY_TYPE:-ecdsa} tls=$(field tls "$r")" \
	"runs=$RUNS secs=$SECS hash_ms=$COST" \
	"connects_per_s=$(med "${rates[@]}")" \
	"connects_per_server_cpu_s=$(med "${incl[@]}") connects_per_server_cpu_s_nohash=$(med "${percpu[@]}")"
