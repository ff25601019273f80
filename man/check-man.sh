#!/bin/sh
# The manual pages: mandoc -T lint (warnings and worse) and man --warnings
# (groff, as lintian runs it) find nothing, every path was substituted,
# and the pages keep in step with the programs: every setting of
# conf/tunneld.conf has an entry in tunneld.conf(5) and every entry there is
# a setting, every option of each program's --help and every tunnelctl
# command is documented.
set -u
B=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
S=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
if ! command -v mandoc >/dev/null 2>&1; then
	echo "SKIP: mandoc not found"
	exit 77
fi
PAGES="tunneld.8 tunneld.conf.5 tunnelctl.8 tunneld-passwd.8"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { echo "PASS: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

for p in $PAGES; do
	f=$B/man/$p
	[ -f "$f" ] || { bad "$p: not generated (make all)"; continue; }
	if mandoc -T lint -W warning "$f" >"$T/lint" 2>&1 && [ ! -s "$T/lint" ]; then
		ok "$p: mandoc -T lint"
	else
		bad "$p: mandoc -T lint: $(cat "$T/lint")"
	fi
	# groff's line filling depends on how long the substituted paths are
	# (a distcheck prefix such as /long/build/dir/_inst cannot be broken
	# at 80 columns), so man --warnings reads the page with the packaged
	# paths, which is what the packages install and lintian checks.
	if command -v man >/dev/null 2>&1; then
		sed -e 's|@sbindir@|/usr/sbin|g' -e 's|@sysconfdir@|/etc|g' \
			-e 's|@runstatedir@|/run|g' -e 's|@localstatedir@|/var|g' \
			"$S/man/$p.in" >"$T/$p"
		LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$T/$p" \
			>/dev/null 2>"$T/man"
		if [ -s "$T/man" ]; then bad "$p: man --warnings: $(cat "$T/man")"; else ok "$p: man --warnings"; fi
	fi
	if grep -n '@[a-z]*@' "$f" >"$T/at"; then bad "$p: unsubstituted: $(cat "$T/at")"; fi
done

# tunneld.conf(5) against the shipped file: the same setting names.
sed -n 's/^[[:space:]]*#\{0,1\}\([a-z][-a-z0-9]*\) = [^{].*/\1/p' "$S/conf/tunneld.conf" | sort -u >"$T/conf"
sed -n 's/^\.It Ic \([a-z][-a-z0-9]*\) No = .*/\1/p' "$S/man/tunneld.conf.5.in" | sort -u >"$T/man5"
[ "$(wc -l <"$T/conf")" -ge 30 ] || bad "read only $(wc -l <"$T/conf") settings from conf/tunneld.conf"
if cmp -s "$T/conf" "$T/man5"; then
	ok "tunneld.conf(5) has an entry for each of the $(wc -l <"$T/conf") settings"
else
	bad "tunneld.conf(5) and conf/tunneld.conf differ (< conf, > man): $(diff "$T/conf" "$T/man5" | grep '^[<>]' | tr '\n' ' ')"
fi

# Every long option of --help is in the program's page.
for prog in tunneld tunnelctl tunneld-passwd; do
	"$B/$prog" --help >"$T/help" 2>&1 || { bad "$prog --help failed"; continue; }
	opts=$(grep -o -- '--[a-z][-a-z]*' "$T/help" | sort -u)
	[ -n "$opts" ] || { bad "$prog --help lists no options"; continue; }
	missing=""
	for o in $opts; do
		grep -q -- "Fl \\\\-${o#--}\\( \\|\$\\)" "$S/man/$prog.8.in" || missing="$missing $o"
	done
	if [ -z "$missing" ]; then ok "$prog(8) documents $(echo $opts)"; else bad "$prog(8) lacks$missing"; fi
done

# Every tunnelctl command is in tunnelctl(8).
"$B/tunnelctl" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' >"$T/cmds"
[ -s "$T/cmds" ] || bad "tunnelctl --help lists no commands"
missing=""
for c in $(cat "$T/cmds"); do
	grep -q "^\.It Cm $c\\( \\|\$\\)" "$S/man/tunnelctl.8.in" || missing="$missing $c"
done
if [ -z "$missing" ]; then ok "tunnelctl(8) documents $(cat "$T/cmds" | tr '\n' ' ')"; else bad "tunnelctl(8) lacks$missing"; fi

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
