#!/bin/sh
# CI stage (tools/quickstart.sh test, from the top of the configured and
# built tree): build the libFuzzer harnesses with clang in a scratch copy
# and run each one for FUZZ_CI_SECONDS (20) over its seed corpus, all
# cores busy.  New inputs go to the scratch tree, never into the committed
# corpus.  A crash, leak, timeout or invariant failure fails the stage and
# prints the input (base64) to replay with the harness.
set -eu
top=$(pwd)
[ -f "$top/Makefile" ] || { echo "30-fuzz: run from a configured tree" >&2; exit 2; }
jobs=$(nproc 2>/dev/null || echo 2)
secs=${FUZZ_CI_SECONDS:-20}
now() { date +%s; }
t0=$(now)
work=$(mktemp -d "${TMPDIR:-/tmp}/tunneld-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

make -s distdir distdir="$work/src" >/dev/null
cd "$work/src"
./configure -q --enable-fuzzing CC=clang
make -s -j"$jobs" fuzz-build >"$work/build.log" 2>&1 || { tail -n 50 "$work/build.log"; exit 1; }
t1=$(now)
echo "30-fuzz: harnesses built in $((t1 - t0)) s"
cp -R tests/fuzz/corpus "$work/seeds"
sh tests/fuzz/run.sh -b tests/fuzz -c "$work/seeds" -w "$work/new" -a "$work/artifacts" \
	-t "$secs" -j "$jobs"
echo "30-fuzz: done in $(($(now) - t0)) s (fuzzing $(($(now) - t1)) s)"
