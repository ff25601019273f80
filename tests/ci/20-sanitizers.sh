#!/bin/sh
# CI stage (tools/quickstart.sh test, after `make check`, from the top of
# the configured and built tree): the whole test suite again, unit and
# end-to-end, on a build with ASan + LeakSanitizer + UBSan; then valgrind
# over each unit test binary of the normal build.  Any report fails.
#
# Reports are never lost: every process writes them to a file under
# REPORTS (log_path), opened at the first report, or, in a worker, before
# it is chrooted and confined (worker/sandbox.c); the stage fails on any
# non-empty one.  As a second net it greps every test log and every
# kept lab directory (daemon stderr included) for a report's first line.
# Clang builds it: its ASan and UBSan share one runtime, so a confined
# worker needs no file and no process to report.
#
# Knobs: SAN_KEEP=1 keeps the scratch tree; SAN_SKIP_VALGRIND=1;
# SAN_CHECK_JOBS (default: the number of cores) for make check.
set -eu
top=$(pwd)
[ -f "$top/Makefile" ] || { echo "20-sanitizers: run from a configured tree" >&2; exit 2; }
jobs=$(nproc 2>/dev/null || echo 2)
now() { date +%s; }
t0=$(now)
work=$(mktemp -d "${TMPDIR:-/tmp}/tunneld-san.XXXXXX")
cleanup() {
	if [ "${SAN_KEEP:-0}" = 1 ]; then echo "20-sanitizers: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
reports=$work/reports
mkdir -p "$reports" "$work/tmp"

# Frames look like "#3 0x55d0c8a1b2c3  (/path/tunneld+0x1b2c3) (BuildId: ..)";
# add "function file:line" from llvm-symbolizer.
symbolize() {
	while IFS= read -r line; do
		case $line in
		*'#'[0-9]*' ('*'+0x'*')'*)
			m=${line#*\(}
			m=${m%%\)*}
			at=$(llvm-symbolizer --obj="${m%+*}" "${m##*+}" 2>/dev/null | head -n 2 |
				tr '\n' ' ')
			printf '%s  %s\n' "$line" "$at"
			;;
		*) printf '%s\n' "$line" ;;
		esac
	done
}

# The first reports in full, then what they all were (one line each).
show_reports() {
	files=$(find "$reports" -type f -size +0 | sort)
	[ -n "$files" ] || return 0
	for f in $(printf '%s\n' $files | head -n 5); do
		echo "---- sanitizer report $(basename "$f") (pid ${f##*.})"
		symbolize <"$f"
	done
	echo "---- $(printf '%s\n' $files | wc -l) report files, by kind:"
	for f in $files; do grep -m 1 -E 'ERROR: |runtime error: ' "$f" | sed 's/^==[0-9]*==//'; done |
		sort | uniq -c | sort -rn
}

# A scratch copy of the distributed tree (an in-tree configured srcdir
# cannot also be built out of tree).
echo "20-sanitizers: building in $work/src"
make -s distdir distdir="$work/src" >/dev/null
cd "$work/src"
./configure -q --enable-sanitizers --enable-seccomp-trap --enable-test-hooks CC=clang
make -s -j"$jobs" >"$work/build.log" 2>&1 || { tail -n 50 "$work/build.log"; exit 1; }
make -s -j"$jobs" check TESTS= >>"$work/build.log" 2>&1 || {
	tail -n 50 "$work/build.log"
	exit 1
}
t1=$(now)
echo "20-sanitizers: built in $((t1 - t0)) s"

san="log_path=$reports/san:halt_on_error=1:color=never:symbolize=0"
ASAN_OPTIONS="$san:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1"
UBSAN_OPTIONS="$san:print_stacktrace=1"
LSAN_OPTIONS="suppressions=$work/src/tests/fuzz/lsan.supp"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
rc=0
# Labs stay (LAB_KEEP) inside the scratch tree, for the grep below.  The
# e2e labs run side by side (own namespaces and control sockets), which
# halves the stage on 2 cores; SAN_CHECK_JOBS=1 runs one at a time.
# services.sh moves 1 GB each way in the plain run; under the sanitizers
# 64 MB exercises the same code paths in a fraction of the time.
SVC_MB=${SVC_MB:-64} TMPDIR=$work/tmp LAB_KEEP=1 make -j"${SAN_CHECK_JOBS:-$jobs}" check >"$work/check.log" 2>&1 ||
	rc=$?
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
t2=$(now)
grep -E '^(# [A-Z]+: |PASS|FAIL|SKIP|XFAIL|XPASS|ERROR)' "$work/check.log" || true
echo "20-sanitizers: make check under ASan+UBSan: exit $rc in $((t2 - t1)) s"
# The PAM backend runs each conversation on a stack of its own
# (makecontext/swapcontext, daemon/bk_pam.c), and ASan says once per process
# that it does not follow such switches: a file holding only that line is
# no report.
for f in $(find "$reports" -type f -size +0); do
	grep -qvE "WARNING: ASan doesn't fully support makecontext/swapcontext|^$" "$f" || {
		echo "20-sanitizers: $(basename "$f"): ASan's makecontext/swapcontext notice only"
		rm -f "$f"
	}
done
if [ $rc != 0 ]; then
	tail -n 300 test-suite.log 2>/dev/null || tail -n 100 "$work/check.log"
	show_reports
	exit 1
fi
if [ -n "$(find "$reports" -type f -size +0)" ]; then
	echo "20-sanitizers: FAILED: sanitizer reports although the tests passed"
	show_reports
	exit 1
fi
marks='ERROR: (Address|Leak)Sanitizer|runtime error: |SUMMARY: [A-Za-z]+Sanitizer'
found=$({
	grep -rlIE "$marks" "$work/tmp"
	grep -rlE --include='*.log' "$marks" .
} 2>/dev/null || true)
if [ -n "$found" ]; then
	echo "20-sanitizers: FAILED: sanitizer output in logs:"
	for f in $found; do
		echo "---- $f"
		grep -E -A 30 "$marks" "$f" | head -n 80 | symbolize
	done
	exit 1
fi
echo "20-sanitizers: no sanitizer report"

# valgrind over the unit tests of the normal build: in-process (CK_FORK=no),
# so leaks and bad reads in the tested code are seen.
if [ "${SAN_SKIP_VALGRIND:-0}" != 1 ]; then
	command -v valgrind >/dev/null || { echo "20-sanitizers: valgrind missing" >&2; exit 1; }
	n=0
	for t in "$top"/tests/unit/check_*; do
		case $t in *.c | *.o | *.log | *.trs) continue ;; esac
		[ -x "$t" ] || continue
		# Its hashing processes confine themselves with seccomp, which
		# valgrind cannot run (seccomp(2) is unhandled, the load fails);
		# the ASan+LSan run above covers it.
		case $t in */check_hashpool)
			echo "valgrind: check_hashpool: skipped (seccomp in its child processes)"
			continue
			;;
		esac
		n=$((n + 1))
		if ! (cd "$top" && CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect,possible \
			"$t" >"$work/vg.log" 2>&1); then
			echo "20-sanitizers: FAILED: valgrind $(basename "$t")"
			tail -n 80 "$work/vg.log"
			exit 1
		fi
		echo "valgrind: $(basename "$t"): $(grep -E '^[0-9]+%: Checks' "$work/vg.log" || echo ok)"
	done
	[ $n -gt 0 ] || { echo "20-sanitizers: no unit test binaries in $top/tests" >&2; exit 1; }
	echo "20-sanitizers: valgrind over $n unit tests in $(($(now) - t2)) s"
fi
echo "20-sanitizers: done in $(($(now) - t0)) s"
