#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Logins through Debian's FreeRADIUS (tests/e2e/lib/radius.sh), each promise
# checked from FreeRADIUS's own records: its detail files (every
# Access-Request and Accounting-Request it took) and sqlippool's table.
#
#   c1 alice (Framed-IP, IPv6, route, Class, interim 2 s)
#   c2 bob (wrong password)              tunneld                FreeRADIUS
#   c3, c4 carol, at once, behind one  ==========  198.18.1.1 ---- 198.18.1.2
#      NAT (198.18.0.99): sqlippool      (1 worker)   (lan0)       (lan ns)
#   c5 dave (Session-Timeout 8 s)
#
# Then SIGTERM: every session that had a Start gets exactly one Stop.
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/radius.sh"
lab_init radlogin
lab_need nft
lab_make_cert
for c in c1 c2 c3 c4 c5; do lab_add_client "$c"; done
rad_start 'alice Cleartext-Password := "alice-pass"
	Framed-IP-Address = 198.18.100.77,
	Framed-IPv6-Address = fd00:100::4d,
	Class = "OU=staff;admins",
	Framed-Route = "198.18.9.0/24 0.0.0.0 1",
	Acct-Interim-Interval = 2
bob Cleartext-Password := "bob-pass"
carol Cleartext-Password := "carol-pass", Pool-Name := "main"
dave Cleartext-Password := "dave-pass"
	Framed-IP-Address = 198.18.100.90,
	Session-Timeout = 8'
TD_AUTH='' TD_EXTRA=$(rad_td_extra) td_config
td_start || td_fail "tunneld did not start"
now() { date +%s; }

# 1. Accept with attributes: the addresses, the route, the groups.
lab_start_client c1 alice alice-pass
t_alice=$(now)
lab_wait_client c1 20 || td_fail "alice did not connect"
[ "$(lab_client_state c1 ip4)" = 198.18.100.77 ] || td_fail "alice: IPv4 not the Framed-IP-Address"
[ "$(lab_client_state c1 ip6)" = fd00:100::4d ] || td_fail "alice: IPv6 not the Framed-IPv6-Address"
lab_cli c1 ip route show 198.18.9.0/24 | grep -q tun-c1 || td_fail "alice: no route for the Framed-Route"
td_log_wait "user 'alice' logged in .*RADIUS Acct-Session-Id [0-9a-f]{16}, groups 'staff,admins'" 5 ||
	td_fail "Class did not become the groups"
lab_ping_ok c1 198.18.1.2 || td_fail "alice: no traffic"
sid=$(rad_sid_of alice)
[[ $sid =~ ^[0-9a-f]{16}$ ]] || td_fail "alice: Access-Request Acct-Session-Id '$sid'"
[ "$(rad_auth_attr alice Calling-Station-Id)" = 198.18.0.10 ] || td_fail "Calling-Station-Id"
[ "$(rad_auth_attr alice NAS-Identifier)" = tunneld-lab ] || td_fail "NAS-Identifier"
[ "$(rad_auth_attr alice NAS-IP-Address)" = 198.18.1.1 ] || td_fail "NAS-IP-Address"
rad_wait_acct Start "$sid" 1 10 || td_fail "alice: no Start with the Access-Request's Acct-Session-Id"
[ "$(rad_acct_attr Start "$sid" Framed-IP-Address)" = 198.18.100.77 ] || td_fail "Start: Framed-IP-Address"
# Class is echoed as it came: "OU=staff;admins".
[ "$(rad_acct_attr Start "$sid" Class)" = 0x4f553d73746166663b61646d696e73 ] ||
	td_fail "Start: Class not echoed: $(rad_acct_attr Start "$sid" Class)"
rad_wait_acct Interim-Update "$sid" 2 15 || td_fail "alice: no Interim-Update every 2 s"
td_pass "alice: Framed-IP $(lab_client_state c1 ip4), route, groups; Start and Interims as $sid"

# 2. A reconnect is the same session: no new login, no new Start, and
# Session-Time keeps counting from the login.
lab_client_signal c1 USR2
lab_wait_event c1 reconnect 1 30 || td_fail "alice did not reconnect"
lab_wait_client c1 20 || td_fail "alice not up after the reconnect"
[ "$(lab_client_state c1 ip4)" = 198.18.100.77 ] || td_fail "reconnect changed the address"
n=$(rad_acct_count Interim-Update "$sid")
rad_wait_acct Interim-Update "$sid" $((n + 1)) 15 || td_fail "no Interim after the reconnect"
elapsed=$(($(now) - t_alice))
st=$(rad_acct_attr Interim-Update "$sid" Acct-Session-Time | tail -n 1)
[ "$st" -le $((elapsed + 1)) ] && [ "$st" -ge $((elapsed - 4)) ] ||
	td_fail "Session-Time $st after ${elapsed}s since the login"
[ "$(rad_acct_count Start "$sid")" = 1 ] || td_fail "a reconnect sent another Start"
[ "$(td_log_count "user 'alice' logged in")" = 1 ] || td_fail "alice logged in again"
td_pass "reconnect: same session, one Start, Session-Time $st s after ${elapsed}s"

# 3. Access-Reject: the client's usual failure.
lab_start_client c2 bob wrong-pass
rc=$(lab_client_exited c2 20) || td_fail "bob's client did not exit"
[ "$rc" != 0 ] || td_fail "bob: a wrong password was accepted"
td_log_wait "login failed for user 'bob'" 5 || td_fail "no log line for bob"
grep -q "Login incorrect.*bob" "$RAD_DIR/freeradius.out" "$RAD_DIR/log/radius.log" 2>/dev/null ||
	td_fail "FreeRADIUS did not reject bob"
td_pass "Access-Reject: bob's client exits $rc"

# 4. One user twice at once from behind one NAT: sqlippool keys each lease by
# its session's Acct-Session-Id, so the addresses differ.
lab_srv nft -f - <<'NFT'
table ip radnat {
	chain in {
		type nat hook input priority 100; policy accept;
		ip saddr { 198.18.0.12, 198.18.0.13 } snat to 198.18.0.99
	}
}
NFT
lab_start_client c3 carol carol-pass
lab_start_client c4 carol carol-pass
lab_wait_client c3 20 || td_fail "carol (c3) did not connect"
lab_wait_client c4 20 || td_fail "carol (c4) did not connect"
a3=$(lab_client_state c3 ip4)
a4=$(lab_client_state c4 ip4)
[ "$a3" != "$a4" ] || td_fail "carol got $a3 twice"
for a in "$a3" "$a4"; do
	[[ $a =~ ^198\.18\.100\.(1[0-4][0-9])$ ]] || td_fail "carol's $a is not from sqlippool"
done
[ "$(rad_auth_attr carol Calling-Station-Id | sort -u)" = 198.18.0.99 ] ||
	td_fail "carol's requests did not come through the NAT"
csids=$(rad_auth_attr carol Acct-Session-Id | sort -u)
[ "$(echo "$csids" | wc -l)" = 2 ] || td_fail "carol's sessions share an Acct-Session-Id"
leases=$(sqlite3 "$RAD_DIR/radius.db" "SELECT framedipaddress || ' ' || pool_key FROM radippool \
	WHERE username = 'carol' AND expiry_time > datetime('now') ORDER BY pool_key")
[ "$(echo "$leases" | cut -d' ' -f2)" = "$csids" ] || td_fail "radippool keys: $leases"
[ "$(echo "$leases" | cut -d' ' -f1 | sort | tr '\n' ' ')" = "$(printf '%s\n' "$a3" "$a4" | sort | tr '\n' ' ')" ] ||
	td_fail "radippool leases $leases, clients $a3 $a4"
td_pass "carol twice behind 198.18.0.99: $a3 and $a4, one lease per Acct-Session-Id"

# 5. Session-Timeout ends the session on time (counted from the login).
lab_start_client c5 dave dave-pass
t_dave=$(now)
lab_wait_client c5 20 || td_fail "dave did not connect"
rc=$(lab_client_exited c5 20) || td_fail "dave's session did not end"
took=$(($(now) - t_dave))
dsid=$(rad_sid_of dave)
rad_wait_acct Stop "$dsid" 1 10 || td_fail "dave: no Stop"
[ "$(rad_acct_attr Stop "$dsid" Acct-Terminate-Cause)" = Session-Timeout ] ||
	td_fail "dave: Acct-Terminate-Cause $(rad_acct_attr Stop "$dsid" Acct-Terminate-Cause)"
dst=$(rad_acct_attr Stop "$dsid" Acct-Session-Time)
[ "$dst" -ge 8 ] && [ "$dst" -le 10 ] || td_fail "dave: Session-Time $dst for a Session-Timeout of 8"
[ "$took" -le 14 ] || td_fail "dave's client left only after ${took}s"
td_pass "Session-Timeout 8: ended after ${dst}s (client gone in ${took}s, exit $rc)"

# 6. SIGTERM: a Stop for every session that started, exactly once each.
lab_ping_ok c1 198.18.1.2 5 || td_fail "alice: no traffic before the stop"
elapsed=$(($(now) - t_alice))
td_stop || td_fail "unclean stop"
starts=$(rad_records | grep -F '| Acct-Status-Type = Start |' |
	grep -o '| Acct-Session-Id = "[0-9a-f]*"' | cut -d'"' -f2 | sort)
[ "$(echo "$starts" | sort -u | wc -l)" = 4 ] || td_fail "Starts: $(echo "$starts" | tr '\n' ' ')"
[ "$(echo "$starts" | uniq -d)" = "" ] || td_fail "a session started twice"
for s in $starts; do
	[ "$(rad_acct_count Stop "$s")" = 1 ] || td_fail "session $s: $(rad_acct_count Stop "$s") Stops"
done
[ "$(rad_acct_attr Stop "$sid" Acct-Terminate-Cause)" = Admin-Reboot ] ||
	td_fail "alice: Acct-Terminate-Cause $(rad_acct_attr Stop "$sid" Acct-Terminate-Cause)"
[ "$(rad_acct_attr Stop "$sid" Acct-Input-Packets)" -ge 8 ] ||
	td_fail "alice: Stop counts $(rad_acct_attr Stop "$sid" Acct-Input-Packets) packets in"
[ "$(rad_acct_attr Stop "$sid" Acct-Output-Octets)" -gt 0 ] || td_fail "alice: no octets out"
st=$(rad_acct_attr Stop "$sid" Acct-Session-Time)
[ "$st" -le $((elapsed + 2)) ] || td_fail "alice: Session-Time $st after ${elapsed}s"
[ "$(sqlite3 "$RAD_DIR/radius.db" "SELECT count(*) FROM radippool WHERE username = 'carol' \
	AND expiry_time > datetime('now')")" = 0 ] || td_fail "carol's leases not released by the Stops"
td_pass "SIGTERM: one Stop for each of the 4 sessions, alice's Admin-Reboot, ${st}s"
