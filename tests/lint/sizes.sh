#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sizes a reader can hold in mind: no source file of daemon/, worker/,
# common/ or conf/ is over MAX_FILE lines, and no function of those and of
# tools/ and bench/ is over MAX_FUNC lines (from its name's line to its
# closing brace, as universal-ctags reports them).  Tables and other static
# data are not functions and may be longer.
#
# Skipped (77) without universal-ctags (tools/deps/lint.list).
MAX_FILE=700
MAX_FUNC=80
FILE_DIRS="daemon worker common conf"
FUNC_DIRS="daemon worker common conf tools bench"
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
ctags --version 2>/dev/null | grep -q 'Universal Ctags' || { echo "SKIP: universal-ctags not found"; exit 77; }
cd "$S" || exit 1
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

sources() { for d in "$@"; do ls "$d"/*.c "$d"/*.h 2>/dev/null; done; }

# shellcheck disable=SC2086
sources $FILE_DIRS >"$T/files"
# shellcheck disable=SC2046
wc -l $(cat "$T/files") | awk -v max=$MAX_FILE '$2 != "total" && $1 > max {
	printf "FAIL: %s: %d lines (at most %d)\n", $2, $1, max }' >"$T/out"

# shellcheck disable=SC2086
sources $FUNC_DIRS >"$T/ffiles"
# shellcheck disable=SC2046
ctags --languages=C --kinds-C=f --fields=+ne -o - $(cat "$T/ffiles") | awk -F'\t' '
	!/^!_TAG_/ {
		s = e = 0
		for (i = 4; i <= NF; i++) {
			if ($i ~ /^line:/) s = substr($i, 6)
			if ($i ~ /^end:/) e = substr($i, 5)
		}
		print $2, $1, s, e
	}' >"$T/funcs"
awk -v max=$MAX_FUNC '
	$4 == 0 { printf "FAIL: %s: %s: ctags gives no end line\n", $1, $2; next }
	$4 - $3 + 1 > max { printf "FAIL: %s:%d: %s() is %d lines (at most %d)\n", $1, $3, $2, $4 - $3 + 1, max }' \
	"$T/funcs" | sort -t: -k2,2 -k3,3n >>"$T/out"

nfunc=$(wc -l <"$T/funcs")
longest=$(awk '{ n = $4 - $3 + 1; if (n > m) { m = n; w = $1 ": " $2 "()" } } END { print w, m, "lines" }' "$T/funcs")
echo "checked $(wc -l <"$T/files") files of $FILE_DIRS (at most $MAX_FILE lines) and" \
	"$nfunc functions in $(wc -l <"$T/ffiles") files of $FUNC_DIRS (at most $MAX_FUNC lines;" \
	"longest: $longest)"
[ "$nfunc" -gt 0 ] || { echo "FAIL: ctags found no function"; exit 1; }
if [ -s "$T/out" ]; then
	cat "$T/out"
	exit 1
fi
echo "PASS: every file and function within its size"
