#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sizes a reader can hold in mind: no C source, header or shell script of
# the tree (every tracked *.c, *.h and *.sh: tests/ and bench/ too; the
# fuzz corpora are data, not read here) is over MAX_FILE lines, and no
# function of daemon/, worker/, common/, conf/, tools/ and bench/ is over
# MAX_FUNC lines (from its name's line to its closing brace, as
# universal-ctags reports them).  Tables and other static data are not
# functions and may be longer.
#
# Skipped (77) without universal-ctags (tools/deps/lint.list).
MAX_FILE=700
MAX_FUNC=80
FUNC_DIRS="daemon worker common conf tools bench"
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
ctags --version 2>/dev/null | grep -q 'Universal Ctags' || { echo "SKIP: universal-ctags not found"; exit 77; }
cd "$S" || exit 1
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

sources() { for d in "$@"; do ls "$d"/*.c "$d"/*.h 2>/dev/null; done; }

# The tree's C and shell files: those git tracks, or (a tree from a
# tarball, git knows none) those on disk.
tree_sources() {
	git ls-files '*.c' '*.h' '*.sh' >"$T/git" 2>/dev/null
	if [ -s "$T/git" ]; then
		cat "$T/git"
	else
		find . -name '*.[ch]' -o -name '*.sh' | sed 's|^\./||'
	fi | grep -v '^tests/fuzz/corpus/' | sort
}

tree_sources >"$T/files"
[ -s "$T/files" ] || { echo "FAIL: no source file found"; exit 1; }
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
echo "checked $(wc -l <"$T/files") files of the tree (at most $MAX_FILE lines) and" \
	"$nfunc functions in $(wc -l <"$T/ffiles") files of $FUNC_DIRS (at most $MAX_FUNC lines;" \
	"longest: $longest)"
[ "$nfunc" -gt 0 ] || { echo "FAIL: ctags found no function"; exit 1; }
if [ -s "$T/out" ]; then
	cat "$T/out"
	exit 1
fi
echo "PASS: every file and function within its size"
