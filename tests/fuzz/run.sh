#!/bin/sh
# tests/fuzz/run.sh - run the libFuzzer harnesses of tests/fuzz for a
# bounded time each and print what every one reached.  Used by `make fuzz`
# (long runs) and tests/ci/30-fuzz.sh (short ones).
#
#   run.sh [-b BINDIR] [-c CORPUS] [-d DICTDIR] [-w WORKDIR] [-a ARTIFACTS]
#          [-t SECONDS] [-j JOBS] [NAME...]
#
# NAME is a harness (http authxml cstp pkt config ipc offload dtls; default: all), run as
# BINDIR/fuzz_NAME.  The seed corpus CORPUS/NAME is only read: new inputs go
# to WORKDIR/NAME.  A crash, leak, timeout (10 s per input) or out-of-memory
# saves the input under ARTIFACTS/NAME/ and fails the run: exit 1.  JOBS
# harnesses run at once.  Per harness the summary gives libFuzzer's final
# figures: executions (stat::number_of_executed_units), edges covered
# (cov:), features (ft:) and the corpus size.
set -eu

bindir=tests/fuzz
corpus=$(cd "$(dirname "$0")" && pwd)/corpus
dictdir=$(cd "$(dirname "$0")" && pwd)/dict
work=""
art=""
secs=60
jobs=1

if [ "${1:-}" = --one ]; then
	# Internal: one harness; "$2"=NAME, the rest as exported below.
	n=$2
	mkdir -p "$FZ_WORK/$n" "$FZ_ART/$n"
	set -- -max_total_time="$FZ_SECS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$FZ_ART/$n/"
	[ -f "$FZ_DICT/$n.dict" ] && set -- "$@" -dict="$FZ_DICT/$n.dict"
	start=$(date +%s)
	rc=0
	# The outer timeout only guards against a harness libFuzzer cannot stop.
	timeout -k 10 $((FZ_SECS + 300)) "$FZ_BIN/fuzz_$n" "$@" "$FZ_WORK/$n" "$FZ_CORPUS/$n" \
		>"$FZ_LOGS/$n.log" 2>&1 || rc=$?
	echo "$rc $(($(date +%s) - start))" >"$FZ_LOGS/$n.rc"
	exit 0
fi

while getopts b:c:d:w:a:t:j: opt; do
	case $opt in
	b) bindir=$OPTARG ;;
	c) corpus=$OPTARG ;;
	d) dictdir=$OPTARG ;;
	w) work=$OPTARG ;;
	a) art=$OPTARG ;;
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*) sed -n '4,6p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- http authxml cstp pkt config ipc offload dtls ticket proxy

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
abs() { (mkdir -p "$1" && cd "$1" && pwd); }
FZ_BIN=$(abs "$bindir")
FZ_CORPUS=$(abs "$corpus")
FZ_DICT=$(abs "$dictdir")
FZ_WORK=$(abs "${work:-$tmp/work}")
FZ_ART=$(abs "${art:-$tmp/artifacts}")
FZ_LOGS=$tmp
FZ_SECS=$secs
export FZ_BIN FZ_CORPUS FZ_DICT FZ_WORK FZ_ART FZ_LOGS FZ_SECS
for n in "$@"; do
	[ -x "$FZ_BIN/fuzz_$n" ] || { echo "run.sh: no harness $FZ_BIN/fuzz_$n" >&2; exit 2; }
	[ -d "$FZ_CORPUS/$n" ] || { echo "run.sh: no corpus $FZ_CORPUS/$n" >&2; exit 2; }
done

# Any report is fatal; the harness prints its own stack.  Leaks are
# checked after every input (libFuzzer's -detect_leaks, on by default).
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp}
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

echo "fuzz: $* for $secs s each, $jobs at a time"
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" --one {}

failed=0
printf '%-8s %6s %12s %8s %8s %8s  %s\n' harness secs execs cov ft corpus result
for n in "$@"; do
	log=$tmp/$n.log
	set -- 1 0
	[ -f "$tmp/$n.rc" ] && set -- $(cat "$tmp/$n.rc")
	rc=$1
	took=$2
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\) .*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\) .*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
	if [ "$rc" = 0 ]; then result=ok; else result="FAILED (exit $rc)"; fi
	printf '%-8s %6s %12s %8s %8s %8s  %s\n' "$n" "$took" "${execs:-?}" "${cov:-?}" \
		"${ft:-?}" "${corp:-?}" "$result"
	if [ "$rc" != 0 ]; then
		failed=1
		cp "$log" "$FZ_ART/$n/fuzz.log" 2>/dev/null || true
	fi
done
if [ $failed = 1 ]; then
	for n in $(cd "$tmp" && ls *.rc | sed 's/\.rc$//'); do
		set -- $(cat "$tmp/$n.rc")
		[ "$1" = 0 ] && continue
		echo "---- fuzz_$n (exit $1): end of its log; inputs in $FZ_ART/$n/"
		tail -n 60 "$tmp/$n.log"
		# The inputs themselves, so a run in a scratch tree can be replayed.
		for f in "$FZ_ART/$n"/crash-* "$FZ_ART/$n"/leak-* "$FZ_ART/$n"/timeout-* \
			"$FZ_ART/$n"/oom-* "$FZ_ART/$n"/slow-unit-*; do
			[ -f "$f" ] && [ "$(wc -c <"$f")" -le 8192 ] || continue
			echo "---- $(basename "$f") (base64; replay: base64 -d >in && fuzz_$n in)"
			base64 "$f"
		done
	done
	exit 1
fi
