#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every tunnelctl --json command's reply against the JSON schema in the tree
# (tests/schema/tunnelctl.schema.json), validated with Debian's
# python3-jsonschema: status, list and show idle and with a session (TLS
# and DTLS counters moving), disconnect, bans with a ban in it, unban,
# reload, stop, and the error replies.  The schema requires every key and
# allows no other, so a change of shape fails here.  Also checks that the
# validator refuses a reply with a key missing, one too many, and a wrong
# type (so the test can fail).
#
#   tunnelctl --> control socket [server: tunneld, ban after 2 failures]
#   client c1 (alice), c2 (wrong passwords) --br0-- [server] --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init schema
lab_need jq
PY=/usr/bin/python3
SCHEMA=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/schema
"$PY" -c 'import jsonschema' 2>/dev/null || {
	echo "SKIP: Debian's python3-jsonschema is not installed (tools/deps/observability.list)" >&2
	exit 77
}
CTL=$TD_TOP/tunnelctl
n=0
# check DEF WANT_RC ARGS...: run tunnelctl --json ARGS, want exit WANT_RC,
# validate the reply as $defs/DEF.
check() {
	local def=$1 want=$2 rc=0 f
	shift 2
	n=$((n + 1))
	f=$LAB_DIR/reply.$n.json
	"$CTL" -s "$LAB_DIR/control.sock" --json "$@" >"$f" || rc=$?
	[ "$rc" = "$want" ] || td_fail "tunnelctl $*: exit $rc, want $want: $(cat "$f")"
	"$PY" "$SCHEMA/validate.py" "$SCHEMA/tunnelctl.schema.json" "$def" "$f" >"$LAB_DIR/v.out" ||
		td_fail "tunnelctl $*: $(cat "$LAB_DIR/v.out")"
}

# The validator itself: a good reply passes, a broken one does not.
good='{"ok":true,"disconnected":1}'
for bad in '{"ok":true}' '{"ok":true,"disconnected":1,"extra":2}' '{"ok":true,"disconnected":"1"}' \
	'{"ok":false,"disconnected":1}'; do
	echo "$bad" >"$LAB_DIR/bad.json"
	! "$PY" "$SCHEMA/validate.py" "$SCHEMA/tunnelctl.schema.json" disconnect "$LAB_DIR/bad.json" \
		>/dev/null || td_fail "the validator took $bad"
done
echo "$good" >"$LAB_DIR/good.json"
"$PY" "$SCHEMA/validate.py" "$SCHEMA/tunnelctl.schema.json" disconnect "$LAB_DIR/good.json" ||
	td_fail "the validator refused $good"
td_pass "the validator refuses a missing key, an extra key and a wrong type"

lab_make_cert
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass bob:bob-pass
td_config
sed -i 's|^\(auth = { password-file = "[^"]*";\) };$|\1 ban-failures = 2; ban-window = 60; ban-time = 600; };|' \
	"$LAB_DIR/tunneld.conf"
grep -q 'ban-failures = 2;' "$LAB_DIR/tunneld.conf" || td_fail "could not set auth.ban-failures"
td_start

check status 0 status
check list 0 list
check bans 0 bans
check services 0 services
td_pass "idle: status, list, bans, services"

lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
lab_ping_ok c1 "$LAB_LAN_IP" 5 || td_fail "ping"
id=$("$CTL" -s "$LAB_DIR/control.sock" --json list | jq '.sessions[0].id')
deadline=$(($(lab__now_ms) + 20000))
until [ "$("$CTL" -s "$LAB_DIR/control.sock" --json show "$id" | jq '.session.rx_pkts > 0')" = true ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "no counters after 20 s"
	sleep 0.5
done
check status 0 status
check list 0 list
check show 0 show "$id"
td_pass "with a session: status, list, show $id"

# Two wrong passwords from c2 ban its address.
for _ in 1 2; do
	lab_start_client c2 bob wrong-pass
	lab_client_exited c2 30 >/dev/null || td_fail "c2 did not give up"
done
deadline=$(($(lab__now_ms) + 10000))
until [ "$("$CTL" -s "$LAB_DIR/control.sock" --json bans | jq '.bans | length')" -ge 1 ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "no ban after two failures"
	sleep 0.2
done
check bans 0 bans
check unban 0 unban 198.18.0.11
td_pass "bans with one, unban"

check error 1 show 4000000000
check error 1 disconnect nobody
check error 1 unban 198.18.0.99
check done 0 reload
td_log_wait "reloaded " 10 || td_fail "no reload"
check disconnect 0 disconnect "$id"
lab_client_exited c1 15 >/dev/null || td_fail "client still running after disconnect"
check status 0 status
td_pass "errors, reload, disconnect"

check done 0 stop
deadline=$(($(lab__now_ms) + 10000))
while lab_alive "$TD_PID"; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "tunneld still running 10 s after stop"
	sleep 0.1
done
TD_PID=""
td_pass "stop; $n replies valid against tests/schema/tunnelctl.schema.json"
