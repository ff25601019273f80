#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Layering: within worker/ and within daemon/ (each on its own), no file
# depends on itself through others.  The graph has one node per file, a
# header counting with its .c (loop.c + loop.h); A -> B when A calls a
# function defined in B (definitions from ctags, call sites from cscope) or
# when A includes B's header.  Any cycle fails the test and is named with
# the calls and includes that make it.  Calls through function pointers are
# invisible here, and that is fine: a table of callbacks is how a lower
# layer reaches up without depending on the file above it.
#
#   tests/lint/cycles.sh [DIR...]      (default: worker daemon)
#
# Skipped (77) without cscope or universal-ctags (tools/deps/lint.list).
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v cscope >/dev/null 2>&1 || { echo "SKIP: cscope not found"; exit 77; }
ctags --version 2>/dev/null | grep -q 'Universal Ctags' || { echo "SKIP: universal-ctags not found"; exit 77; }
cd "$S" || exit 1
[ $# -gt 0 ] || set -- worker daemon
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

# graph DIR: writes T/edges ("FROM TO KIND WHAT", nodes are stems) and
# T/nodes; prints what it read.
graph() {
	d=$1
	: >"$T/edges"
	ls "$d"/*.c "$d"/*.h 2>/dev/null | sort >"$T/files"
	sed 's|.*/||; s|\.[ch]$||' "$T/files" | sort -u >"$T/nodes"
	# Definitions: "NAME FILE extern|static" (ctags marks file scope "file:").
	# shellcheck disable=SC2046
	ctags --languages=C --kinds-C=f --fields=+n -o - $(cat "$T/files") |
		awk -F'\t' '!/^!_TAG_/ { print $1, $2, ($0 ~ /\tfile:(\t|$)/) ? "static" : "extern" }' \
			>"$T/defs"
	# shellcheck disable=SC2046
	cscope -b -k -u -f "$T/db" $(cat "$T/files") || return 1
	# Call sites of every function defined with external linkage.  A call
	# counts when the name is not a member (x.f(), x->f()), and not from a
	# file that has a static function of that name (it calls its own).
	awk '$3 == "extern" { print $1, $2 }' "$T/defs" | while read -r fn file; do
		cscope -d -f "$T/db" -L -3 "$fn" | while read -r from caller line text; do
			awk -v fn="$fn" -v file="$file" -v from="$from" -v text="$text" -v defs="$T/defs" '
			function stem(p) { sub(/.*\//, "", p); sub(/\.[ch]$/, "", p); return p }
			BEGIN {
				while ((getline l < defs) > 0) {
					split(l, f, " ")
					if (f[1] == fn && f[2] == from && f[3] == "static") exit
				}
				if (stem(from) == stem(file)) exit
				t = " " text
				re = "[^A-Za-z0-9_.>]" fn "[ \t]*\\("
				if (match(t, re)) print stem(from), stem(file), "calls", fn
			}'
		done
	done >>"$T/edges"
	# Includes of this directory's headers ("DIR/x.h", or "x.h" beside).
	while read -r f; do
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
			while read -r inc; do
				case $inc in
				"$d"/*) h=$inc ;;
				*) h=$d/$inc ;;
				esac
				[ -f "$h" ] || continue
				a=${f##*/} b=${h##*/}
				[ "${a%.?}" != "${b%.?}" ] && echo "${a%.?} ${b%.?} includes $b"
			done
	done <"$T/files" >>"$T/edges"
	echo "$d: $(wc -l <"$T/files") files, $(wc -l <"$T/nodes") nodes," \
		"$(awk '$3 == "extern"' "$T/defs" | wc -l) functions with external linkage," \
		"$(awk '$3 == "calls"' "$T/edges" | wc -l) cross-file calls," \
		"$(awk '$3 == "includes"' "$T/edges" | wc -l) includes"
	[ "$(awk '$3 == "extern"' "$T/defs" | wc -l)" -gt 0 ] ||
		{ echo "FAIL: $d: ctags found no function"; return 1; }
}

# cycles DIR: the strongly connected parts of T/edges, each with its edges
# and one cycle through it.  Status 1 when there is one.
cycles() {
	awk -v d="$1" -v nodes="$T/nodes" -v files="$T/files" '
	function name(s) { return (s ".c" in isfile) ? s ".c" : s ".h" }
	BEGIN {
		while ((getline l < files) > 0) { sub(/.*\//, "", l); isfile[l] = 1 }
		while ((getline l < nodes) > 0) { id[l] = ++n; nm[n] = l }
	}
	{
		a = id[$1]; b = id[$2]
		if (!a || !b) next
		e[a, b] = 1; r[a, b] = 1
		key = a SUBSEP b SUBSEP $3
		if (!((key, $4) in seen)) {
			seen[key, $4] = 1
			what[key] = what[key] (what[key] == "" ? "" : ", ") $4
		}
	}
	END {
		for (k = 1; k <= n; k++)
			for (i = 1; i <= n; i++)
				if (r[i, k])
					for (j = 1; j <= n; j++)
						if (r[k, j]) r[i, j] = 1
		bad = 0
		for (i = 1; i <= n; i++) {
			if (done[i] || !r[i, i]) continue
			bad++
			members = ""; m = 0
			for (j = 1; j <= n; j++)
				if (r[i, j] && r[j, i]) { done[j] = 1; in_c[bad, j] = 1; members = members " " name(nm[j]); m++ }
			printf "FAIL: %s: %d files call or include each other in a cycle:%s\n", d, m, members
			pairs = ""
			for (a = 1; a <= n; a++)
				for (b = a + 1; b <= n; b++)
					if (in_c[bad, a] && in_c[bad, b] && e[a, b] && e[b, a])
						pairs = pairs (pairs == "" ? "" : ", ") name(nm[a]) " <-> " name(nm[b])
			if (pairs != "") printf "  directly both ways: %s\n", pairs
			# One cycle: a shortest path from i back to i (breadth first).
			delete prev; delete seenb; q[1] = i; qh = 1; qt = 1; found = 0
			while (qh <= qt && !found) {
				u = q[qh++]
				for (v = 1; v <= n; v++) {
					if (!e[u, v] || !in_c[bad, v]) continue
					if (v == i) { last = u; found = 1; break }
					if (!seenb[v]) { seenb[v] = 1; prev[v] = u; q[++qt] = v }
				}
			}
			path = name(nm[i])
			for (v = last; v != i; v = prev[v]) path = name(nm[v]) " -> " path
			printf "  for example: %s -> %s\n", name(nm[i]), path
			for (a = 1; a <= n; a++)
				for (b = 1; b <= n; b++) {
					if (!in_c[bad, a] || !in_c[bad, b] || !e[a, b]) continue
					line = "  " name(nm[a]) " -> " name(nm[b]) ":"
					if ((a, b, "calls") in what) line = line " calls " what[a, b, "calls"]
					if ((a, b, "includes") in what) line = line (index(line, "calls") ? ";" : "") " includes " what[a, b, "includes"]
					print line
				}
		}
		exit bad > 0
	}' "$T/edges"
}

status=0
for d in "$@"; do
	[ -d "$d" ] || { echo "FAIL: no directory $d"; status=1; continue; }
	graph "$d" || { status=1; continue; }
	if cycles "$d"; then echo "PASS: $d: no cycle"; else status=1; fi
done
exit $status
