#!/bin/sh
# The README's seccomp review lists exactly the syscalls of the allow-list
# in worker/sandbox.c, so the review cannot drift from the code.
set -eu
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
code=$(sed -n 's/^ *{"\([a-z0-9_]*\)", ".*"},.*$/\1/p' "$top/worker/sandbox.c" | sort)
doc=$(sed -n 's/^| `\([a-z0-9_]*\)` | .* |$/\1/p' "$top/README.md" | sort)
[ -n "$code" ] || { echo "FAIL: no allow-list rows found in worker/sandbox.c"; exit 1; }
if [ "$code" != "$doc" ]; then
	echo "FAIL: README.md's seccomp table and worker/sandbox.c differ:"
	printf '%s\n' "$code" >/tmp/seccomp-code.$$
	printf '%s\n' "$doc" >/tmp/seccomp-doc.$$
	diff /tmp/seccomp-code.$$ /tmp/seccomp-doc.$$ || true
	rm -f /tmp/seccomp-code.$$ /tmp/seccomp-doc.$$
	exit 1
fi
echo "PASS: $(printf '%s\n' "$code" | wc -l) syscalls, each documented with its reason"
