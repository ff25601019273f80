#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cisco Secure Client / AnyConnect compatibility (FIELD.md section 2), with
# no Cisco client here: the stock openconnect with a Cisco User-Agent gets
# what Cisco's client gets, and a replay (curl) plays a Cisco-style login
# and CONNECT and fetches the URLs Cisco's downloader asks for.
#  - legacy DTLS: a resumed DTLS 1.2 session from X-DTLS-Master-Secret and
#    our X-DTLS-Session-ID, with a suite from the client's own list;
#  - X-CSTP-Rekey-Method: ssl (never none), X-CSTP-DNS-IP6, 2000::/3;
#  - the XML profile (cisco.profile), downloaded and checked by SHA-1;
#  - the "optimizing" reconnect right after tunnel-up keeps the address;
#  - every Cisco URL answers 200 or 404 at once, never a 5xx or a hang;
#  - BYE 0x91 keeps the session, BYE 0xb0 ends it.
#  openconnect without the Cisco User-Agent keeps PSK-NEGOTIATE and plain DNS.
#
#   client c1 (openconnect "AnyConnect Linux_64") --> tunneld --- lan
#   client c2 (openconnect, stock) and curl
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need jq curl
export LAB_SCRIPT_ENVDUMP=1
lab_init cisco
lab_make_cert
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass bob:bob-pass
cat >"$LAB_DIR/corp.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<AnyConnectProfile xmlns="http://schemas.xmlsoap.org/encoding/">
<ServerList><HostEntry><HostName>Lab</HostName><HostAddress>198.18.0.1</HostAddress></HostEntry></ServerList>
</AnyConnectProfile>
XML
TD_EXTRA="cisco = { profile = \"$LAB_DIR/corp.xml\"; };" td_config
# IPv6 DNS, and no routes: a full tunnel both ways.
sed -i 's|dns = \["198.18.100.1"\];|dns = ["198.18.100.1", "fd00:100::1"];|; s|routes = .*|routes = [];|' \
	"$LAB_DIR/tunneld.conf"
td_start
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
channel_of() {
	"$CTL" -s "$LAB_DIR/control.sock" --json list |
		jq -r --arg u "$1" '.sessions[] | select(.user == $u) | .channel'
}
UA="AnyConnect Linux_64 4.10.07061"

# 1. openconnect as a Cisco client.
lab_start_client c1 alice alice-pass --useragent "$UA" --dump-http-traffic \
	--xmlconfig "$LAB_DIR/got.xml"
lab_wait_client c1 20 || td_fail "Cisco-style client did not connect"
log=$LAB_DIR/c1.oc.log
grep -q "^X-CSTP-Rekey-Method: ssl" "$log" || td_fail "no X-CSTP-Rekey-Method: ssl"
grep -q "^X-CSTP-Rekey-Method: none" "$log" && td_fail "Rekey-Method none"
grep -qE "^X-DTLS-Session-ID: [0-9a-f]{64}$" "$log" || td_fail "no 64-hex X-DTLS-Session-ID"
suite=$(sed -n 's/^X-DTLS12-CipherSuite: //p' "$log" | tail -1)
offered=$(sed -n 's/^> X-DTLS12-CipherSuite: //p' "$log" | head -1)
case ":$offered:" in *":$suite:"*) ;; *) td_fail "chose '$suite', not in the offer '$offered'" ;; esac
grep -q "^X-CSTP-DNS-IP6: fd00:100::1" "$log" || td_fail "no X-CSTP-DNS-IP6"
grep -q "^X-CSTP-DNS: fd00:100::1" "$log" && td_fail "IPv6 DNS in X-CSTP-DNS for a Cisco client"
grep -q "^X-CSTP-Split-Include-IP6: 2000::/3" "$log" || td_fail "no 2000::/3 for the full IPv6 tunnel"
grep -q "^X-CSTP-Split-Include-IP6: fc00::/7" "$log" || td_fail "no fc00::/7 for the full IPv6 tunnel"
td_pass "CONNECT answer for Cisco: rekey ssl, Session-ID, $suite, DNS-IP6, 2000::/3"

for t in $(seq 50); do [ "$(channel_of alice)" = dtls ] && break; sleep 0.1; done
[ "$(channel_of alice)" = dtls ] || td_fail "legacy DTLS not up"
grep -q "Established DTLS connection .*(DTLS1.2)" "$log" || td_fail "the client says no DTLS"
lab_ping_ok c1 198.18.1.2 3 || td_fail "ping over legacy DTLS"
lab_ping_ok c1 fd00:1::2 3 || td_fail "IPv6 ping over legacy DTLS"
td_pass "legacy DTLS 1.2 resumption up, traffic both families"

grep -q "Downloaded new XML profile" "$log" || td_fail "profile not downloaded"
cmp -s "$LAB_DIR/corp.xml" "$LAB_DIR/got.xml" || td_fail "downloaded profile differs"
env=$(ls "$LAB_DIR"/c1.env.*.connect | head -1)
grep -qE "^CISCO_IPV6_SPLIT_INC_[01]_ADDR=2000::$" "$env" || td_fail "script env: no 2000::/3 route"
td_pass "profile downloaded and identical; the script sees 2000::/3"

# 2. Cisco's "optimizing" reconnect right after tunnel-up: a new TLS
# connection with the cookie; same addresses, the old DTLS session dropped,
# DTLS back on the new one.
ip4=$(lab_client_state c1 ip4)
lab_client_signal c1 USR2
lab_wait_event c1 reconnect 1 30 || td_fail "no reconnect"
lab_wait_client c1 20 || td_fail "not up after the reconnect"
[ "$(lab_client_state c1 ip4)" = "$ip4" ] || td_fail "address changed on reconnect"
for t in $(seq 50); do [ "$(channel_of alice)" = dtls ] && break; sleep 0.1; done
[ "$(channel_of alice)" = dtls ] || td_fail "DTLS not back after the reconnect"
lab_ping_ok c1 198.18.1.2 3 || td_fail "ping after the reconnect"
[ "$(td_log_count "user 'alice' logged in")" = 1 ] || td_fail "logged in again"
td_pass "optimizing reconnect: same $ip4, DTLS back, no new login"

# 3. The stock client keeps the plain answers.
lab_start_client c2 bob bob-pass --dump-http-traffic
lab_wait_client c2 20 || td_fail "stock client did not connect"
log2=$LAB_DIR/c2.oc.log
grep -q "^X-DTLS-CipherSuite: PSK-NEGOTIATE" "$log2" || td_fail "stock client not in PSK mode"
grep -q "^X-CSTP-DNS: fd00:100::1" "$log2" || td_fail "stock client: IPv6 DNS not in X-CSTP-DNS"
grep -q "X-CSTP-DNS-IP6\|2000::/3" "$log2" && td_fail "stock client got Cisco extras"
td_pass "stock openconnect: PSK-NEGOTIATE, plain DNS"

# 4. A Cisco-style login replayed with curl, then the downloader's URLs.
PIN="sha256//${LAB_PIN#pin-sha256:}"
BASE=https://$LAB_SRV_IP:$LAB_PORT
ccurl() {
	lab_cli c2 curl -sS -k --pinnedpubkey "$PIN" --max-time 5 -A "AnyConnect Windows 5.0.04032" \
		-H "X-Transcend-Version: 1" -H "X-Aggregate-Auth: 1" "$@"
}
init='<?xml version="1.0" encoding="UTF-8"?><config-auth client="vpn" type="init" aggregate-auth-version="2"><version who="vpn">5.0.04032</version><device-id computer-name="win" device-type="VMware" platform-version="10.0.19044" unique-id="ABC">win</device-id><mac-address-list><mac-address public-interface="true">00-11-22-33-44-55</mac-address></mac-address-list><group-access>'$BASE'</group-access><capabilities><auth-method>single-sign-on-v2</auth-method></capabilities></config-auth>'
ccurl -X POST --data-binary "$init" -H "Content-Type: text/xml" "$BASE/" >"$LAB_DIR/r1" ||
	td_fail "Cisco init POST failed"
grep -q 'type="auth-request"' "$LAB_DIR/r1" || td_fail "no login form for the Cisco init"
reply='<?xml version="1.0" encoding="UTF-8"?><config-auth client="vpn" type="auth-reply" aggregate-auth-version="2"><version who="vpn">5.0.04032</version><device-id>win</device-id><session-token/><session-id/><opaque is-for="sg"><tunnel-group>x</tunnel-group></opaque><auth><username>alice</username><password>alice-pass</password></auth></config-auth>'
ccurl -X POST --data-binary "$reply" -H "Content-Type: text/xml" -D "$LAB_DIR/h2" "$BASE/auth" \
	>"$LAB_DIR/r2" || td_fail "Cisco auth-reply POST failed"
grep -q 'auth id="success"' "$LAB_DIR/r2" || td_fail "Cisco login refused"
grep -q "vpn-profile-manifest" "$LAB_DIR/r2" || td_fail "no profile manifest for a Cisco login"
cookie=$(sed -n 's/^Set-Cookie: webvpn=\([^;]*\);.*/\1/p' "$LAB_DIR/h2" | tr -d '\r')
[ -n "$cookie" ] || td_fail "no webvpn cookie"
td_pass "Cisco-style login replayed: form, success, profile manifest, cookie"

for url in / /auth /VPN /VPNManifest.xml /1/VPNManifest.xml /1/index.html /1/Linux \
	/1/Linux_64 /1/Windows /1/Windows_ARM64 /1/Darwin_i386 /1/binaries/update.txt \
	/1/binaries/vpndownloader.sh "/+CSCOT+/translation-table?type=mst&textdomain=AnyConnect" \
	"/+CSCOT+/oem-customization?app=AnyConnect&type=oem&platform=linux&resource=x" \
	/logout /profiles/corp.xml /profiles/nothing.xml /CACHE/stc/profiles/x; do
	code=$(ccurl -o /dev/null -w '%{http_code}' -b "webvpn=$cookie" "$BASE$url") ||
		td_fail "GET $url: no answer within 5 s"
	case $code in 200 | 404) ;; *) td_fail "GET $url answered $code" ;; esac
	echo "$url $code" >>"$LAB_DIR/urls"
done
grep -q "^/profiles/corp.xml 200" "$LAB_DIR/urls" || td_fail "profile not served"
grep -q "^/1/binaries/update.txt 200" "$LAB_DIR/urls" || td_fail "update.txt not served"
grep -q "^/profiles/nothing.xml 404" "$LAB_DIR/urls" || td_fail "unknown profile not 404"
td_pass "Cisco URLs: $(tr '\n' ' ' <"$LAB_DIR/urls")"

# The replayed CONNECT with Cisco's headers: 200 CONNECTED with the Cisco
# answer (curl only reads the head; the tunnel is left to time out).
ccurl -X CONNECT -b "webvpn=$cookie" -H "X-CSTP-Version: 1" -H "X-CSTP-Base-MTU: 1500" \
	-H "X-CSTP-Address-Type: IPv6,IPv4" -H "X-CSTP-Full-IPv6-Capability: true" \
	-H "X-DTLS-Master-Secret: $(printf '%096d' 7)" \
	-H "X-DTLS12-CipherSuite: ECDHE-ECDSA-AES256-GCM-SHA384:AES256-GCM-SHA384" \
	-H "X-DTLS-CipherSuite: AES256-SHA:AES128-SHA" \
	--max-time 2 -D "$LAB_DIR/h3" "$BASE/CSCOSSLC/tunnel" >/dev/null 2>&1 || true
grep -q "^HTTP/1.1 200 CONNECTED" "$LAB_DIR/h3" || td_fail "replayed CONNECT: $(head -1 "$LAB_DIR/h3")"
grep -q "^X-DTLS12-CipherSuite: ECDHE-ECDSA-AES256-GCM-SHA384" "$LAB_DIR/h3" ||
	td_fail "replayed CONNECT: suite not taken from the client's list"
grep -q "^X-CSTP-Rekey-Method: ssl" "$LAB_DIR/h3" || td_fail "replayed CONNECT: rekey"
td_pass "replayed Cisco CONNECT: 200, the client's own DTLS 1.2 suite"

# 5. BYE 0x91 ("Reconnecting the VPN tunnel.") keeps the session; 0xb0
# (the user quit) ends it: the next CONNECT with the cookie gets 401.
bye() {
	{
		printf 'CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: %s\r\nCookie: webvpn=%s\r\n' \
			"$LAB_SRV_IP" "$cookie"
		printf 'User-Agent: %s\r\nX-CSTP-Version: 1\r\n\r\n' "$UA"
		sleep 1
		printf 'STF\001\000\035\005\000\'"$1"'Reconnecting the VPN tunnel.'
		sleep 1
	} | lab_cli c2 timeout 5 gnutls-cli --insecure --logfile=/dev/null -p "$LAB_PORT" "$LAB_SRV_IP" \
		2>/dev/null | head -1 | tr -d '\r' || true
}
[ "$(bye 221)" = "HTTP/1.1 200 CONNECTED" ] || td_fail "CONNECT before BYE 0x91 refused"
td_log_wait "client disconnected \(reason 0x91\)" 5 || td_fail "no BYE 0x91 seen"
[ "$(bye 260)" = "HTTP/1.1 200 CONNECTED" ] || td_fail "BYE 0x91 ended the session"
td_log_wait 'session-end id=[0-9]+ user=alice peer=[^ ]+ reason="client logged out"' 5 || td_fail "BYE 0xb0 did not end the session"
[ "$(bye 260)" = "HTTP/1.1 401 Cookie is not valid" ] || td_fail "the cookie outlived BYE 0xb0"
td_pass "BYE 0x91 keeps the session, BYE 0xb0 ends it"

lab_client_signal c1 INT
lab_client_signal c2 INT
lab_client_exited c1 10 >/dev/null || td_fail "c1 did not exit"
lab_client_exited c2 10 >/dev/null || td_fail "c2 did not exit"
td_stop || td_fail "unclean stop"
td_pass "clean stop"
