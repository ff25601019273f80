#!/bin/sh
# The README's seccomp review lists exactly the syscalls of the allow-list
# in worker/sandbox.c (allowed[], and svc_allowed[] of workers serving TLS
# stream services), each with the same argument rule (ANY, NO_EXEC,
# OWN_PID, NOT_STDIO, ...), so the review cannot drift from the code.
set -eu
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# Rows may be wrapped by clang-format: join the table, then take each
# {"name", RULE, pair.
code=$(sed -n '/^} \(svc_\)\{0,1\}allowed\[\] = {/,/^};/p' "$top/worker/sandbox.c" | tr '\n\t' '  ' |
	grep -o '{"[a-z0-9_]*", *[A-Z_]*,' | sed 's/^{"\([a-z0-9_]*\)", *\([A-Z_]*\),$/\1 \2/' | sort)
doc=$(sed -n 's/^| `\([a-z0-9_]*\)` | `\([A-Z_]*\)` | .* |$/\1 \2/p' "$top/README.md" | sort)
[ -n "$code" ] || { echo "FAIL: no allow-list rows found in worker/sandbox.c"; exit 1; }
if [ "$code" != "$doc" ]; then
	echo "FAIL: README.md's seccomp table and worker/sandbox.c differ (syscall, argument rule):"
	printf '%s\n' "$code" >/tmp/seccomp-code.$$
	printf '%s\n' "$doc" >/tmp/seccomp-doc.$$
	diff /tmp/seccomp-code.$$ /tmp/seccomp-doc.$$ || true
	rm -f /tmp/seccomp-code.$$ /tmp/seccomp-doc.$$
	exit 1
fi
echo "PASS: $(printf '%s\n' "$code" | wc -l) syscalls, each documented with its argument rule and reason"
