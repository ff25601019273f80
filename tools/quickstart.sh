#!/bin/sh
# One command from a fresh Debian 12 checkout (as root):
#   sh tools/quickstart.sh lab    install deps, build, run the netns lab
#   sh tools/quickstart.sh test   install deps, build, run the whole test suite
set -eu
cd "$(dirname "$0")/.."
what=${1:-lab}
sh tools/install-deps.sh
[ -x configure ] || autoreconf -fi
# The test build compiles in the test-only triggers (never in packages):
# a tree configured without them (by "lab" first) is configured again, or
# the tests that need them could not run.
if [ "$what" = test ]; then
	grep -qs '^#define TEST_HOOKS 1' config.h || ./configure -q --enable-test-hooks
else
	[ -f Makefile ] || ./configure -q
fi
make -j"$(nproc)"
case $what in
lab) exec bash tools/lab.sh ;;
test)
	# One test at a time (CHECK_JOBS=2 halves the time; the timing bounds
	# of some tests, such as respawn.sh's lossless worker, are then at the
	# mercy of the other test's load).
	make -j"${CHECK_JOBS:-1}" check || { cat test-suite.log 2>/dev/null | tail -n 400; exit 1; }
	# Further stages build their own variants (package, sanitizers, fuzzers,
	# seccomp trap) from this tree; each is one script in tests/ci/.
	for stage in tests/ci/*.sh; do
		[ -f "$stage" ] || continue
		echo "== stage $stage"
		start=$(date +%s)
		sh "$stage" || { echo "== stage $stage FAILED" >&2; exit 1; }
		echo "== stage $stage passed in $(($(date +%s) - start)) s"
	done
	;;
*) echo "usage: $0 lab|test" >&2; exit 2 ;;
esac
