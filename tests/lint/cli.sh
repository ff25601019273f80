#!/bin/bash
# Command-line behaviour that needs no root: tunneld's options, config
# errors as FILE:LINE, and every tunneld-passwd operation.
set -uo pipefail
B=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
ok() { echo "PASS: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() { # expect STATUS DESCRIPTION CMD...
	local want=$1 what=$2 got
	shift 2
	"$@" >"$T/out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then ok "$what"; else bad "$what (exit $got, want $want): $(head -c 300 "$T/out")"; fi
}

expect 0 "tunneld --version" "$B/tunneld" --version
grep -q "^tunneld [0-9]" "$T/out" || bad "version text"
expect 0 "tunneld --help" "$B/tunneld" --help
expect 2 "tunneld with a bad option" "$B/tunneld" --no-such-option

cat >"$T/good.conf" <<EOF
listen = ["127.0.0.1:4443"];
tls = { certificate = "$T/cert.pem"; key = "$T/key.pem"; };
auth = { password-file = "$T/passwd"; };
network = { ipv4-pool = "198.18.100.0/24"; };
EOF
expect 0 "tunneld -t accepts a good config" "$B/tunneld" -t -c "$T/good.conf"
grep -q "configuration is valid" "$T/out" || bad "-t message"
expect 0 "the shipped config passes -t" "$B/tunneld" -t -c "$S/conf/tunneld.conf"

sed 's/198.18.100.0\/24/198.18.100.7\/24/' "$T/good.conf" >"$T/bad1.conf"
expect 1 "host bits in a pool refuse to start" "$B/tunneld" -c "$T/bad1.conf"
grep -q "^tunneld: $T/bad1.conf:4: network.ipv4-pool" "$T/out" || bad "FILE:LINE for the pool: $(cat "$T/out")"
printf 'listen = ["127.0.0.1:4443"];\nnetwork = { mtu = 100000; };\n' >"$T/bad2.conf"
expect 1 "out-of-range MTU refuses to start" "$B/tunneld" -c "$T/bad2.conf"
grep -q "bad2.conf:2: network.mtu" "$T/out" || bad "FILE:LINE for the MTU: $(cat "$T/out")"
printf 'listen = ["127.0.0.1:4443"]\nworkers = ;\n' >"$T/bad3.conf"
expect 1 "a syntax error refuses to start" "$B/tunneld" -c "$T/bad3.conf"
grep -q "bad3.conf:2:" "$T/out" || bad "FILE:LINE for the syntax error: $(cat "$T/out")"
expect 1 "a missing config refuses to start" "$B/tunneld" -c "$T/nonexistent.conf"
# Under systemd stderr is the journal's stream, named by JOURNAL_STREAM
# (device:inode): a refused config then carries the err priority prefix,
# so that journalctl -p warning shows it; a JOURNAL_STREAM that names
# another file (inherited by a shell) gets none.
: >"$T/journal"
js=$(stat -c '%d:%i' "$T/journal")
JOURNAL_STREAM=$js "$B/tunneld" -t -c "$T/bad2.conf" 2>>"$T/journal" && bad "-t passed a bad config"
grep -q "^<3>tunneld: $T/bad2.conf:2: network.mtu" "$T/journal" || bad "-t under the journal: $(cat "$T/journal")"
JOURNAL_STREAM=$js "$B/tunneld" -c "$T/bad2.conf" 2>>"$T/journal" && bad "a bad config started"
[ "$(grep -c "^<3>tunneld: $T/bad2.conf:2: " "$T/journal")" = 2 ] || bad "start under the journal: $(cat "$T/journal")"
JOURNAL_STREAM=$js "$B/tunneld" -t -c "$T/bad2.conf" 2>"$T/out" && bad "-t passed a bad config"
grep -q "^tunneld: $T/bad2.conf:2: network.mtu" "$T/out" || bad "-t with a foreign JOURNAL_STREAM: $(cat "$T/out")"
ok "a refused config: err prefix on the journal's stream only"

# tunneld-passwd
P="$B/tunneld-passwd"
F=$T/passwd
printf '# users\n' >"$F"
expect 0 "add a user" "$P" -f "$F" alice <<<"s3cret"
grep -q '^alice:\$y\$' "$F" || bad "yescrypt hash written"
grep -q '^# users$' "$F" || bad "comment kept"
h1=$(grep ^alice: "$F")
expect 0 "change a password" "$P" -f "$F" alice <<<"other"
[ "$(grep ^alice: "$F")" != "$h1" ] || bad "hash changed"
expect 0 "add with SHA-512" "$P" -f "$F" -m sha512 bob <<<"pw"
grep -q '^bob:\$6\$' "$F" || bad "SHA-512 hash written"
expect 0 "lock" "$P" -f "$F" -l alice
grep -q '^alice:!\$y\$' "$F" || bad "lock marks the hash"
expect 1 "lock twice is an error" "$P" -f "$F" -l alice
expect 0 "unlock" "$P" -f "$F" -u alice
grep -q '^alice:\$y\$' "$F" || bad "unlock restores the hash"
expect 0 "delete" "$P" -f "$F" -d bob
grep -q '^bob:' "$F" && bad "bob deleted"
expect 1 "delete a missing user" "$P" -f "$F" -d bob
grep -q "no such user 'bob'" "$T/out" || bad "message names the user"
expect 1 "empty password refused" "$P" -f "$F" carol <<<""
expect 2 "bad user name" "$P" -f "$F" "-x"
expect 2 "no file" "$P" alice
# Groups: the third field; a user in the file keeps the password.
expect 0 "add a user with groups" "$P" -f "$F" -g staff,eng dave <<<"pw"
grep -q '^dave:\$y\$[^:]*:staff,eng$' "$F" || bad "groups written: $(grep ^dave: "$F")"
h1=$(grep ^alice: "$F")
expect 0 "set groups only" "$P" -f "$F" -g ops alice </dev/null
[ "$(grep ^alice: "$F")" = "$h1:ops" ] || bad "alice's hash kept and group added: $(grep ^alice: "$F")"
expect 0 "a new password keeps the groups" "$P" -f "$F" alice <<<"third"
grep -q '^alice:\$y\$[^:]*:ops$' "$F" || bad "alice keeps ops: $(grep ^alice: "$F")"
expect 0 "lock keeps the groups" "$P" -f "$F" -l alice
grep -q '^alice:!\$y\$[^:]*:ops$' "$F" || bad "locked alice keeps ops"
expect 0 "no groups" "$P" -f "$F" -g "" alice
grep -q '^alice:!\$y\$[^:]*$' "$F" || bad "alice's groups removed: $(grep ^alice: "$F")"
expect 2 "a bad group list" "$P" -f "$F" -g "a,,b" alice
expect 2 "-g with -d" "$P" -f "$F" -d -g x alice

echo "$passes passed, $fails failed"
[ $fails = 0 ]
