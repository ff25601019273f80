#!/bin/sh
# The tree keeps the project's .clang-format: fail on any file that
# clang-format would change.  Skipped without clang-format or outside git.
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v clang-format >/dev/null 2>&1 || exit 77
cd "$S" || exit 1
[ -d .git ] || exit 77
bad=0
for f in $(git ls-files '*.c' '*.h'); do
	if ! clang-format "$f" | cmp -s - "$f"; then
		echo "not formatted: $f (run: make format)"
		bad=1
	fi
done
[ $bad = 0 ] && echo "all C files formatted"
exit $bad
