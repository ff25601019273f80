#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TLS stream services: gnutls-cli, openssl s_client and curl through a
# service to an HTTP server on the lan; SHA-checked bulk both ways
# (SVC_MB, default 1024 MB: the whole test takes about 70 s on the shared
# 2-core machine; SVC_MB=200 for a quick run); half-close (the
# destination answers only after the client's close_notify); a dead
# destination (clean close, a log line with the reason, counted); client
# certificates (right one in, none or a wrong one out); the PROXY v2
# header as the destination sees it; a service's own key in the key
# process only; a reload that adds one service and removes another (and
# the one with its own key) while a stream through a third runs on.
#
#   client c1 ---TLS:8443..8449---> tunneld (198.18.0.1) ---TCP---> lan 198.18.1.2
#                                    workers relay           8080 http.server
#                                                            9000 sha (svcpeer.py)
#                                                            9001 proxy (svcpeer.py)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/keyscan.sh"
lab_need curl python3 sha256sum jq openssl gnutls-cli certtool promtool
lab_init svcs
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
PEER=$LAB_LIB_DIR/svcpeer.py
CLI=$LAB_LIB_DIR/svctls.py
MB=${SVC_MB:-1024}
S=198.18.0.1
ctl() { "$CTL" -s "$LAB_DIR/control.sock" --json services; }
field() { ctl | jq -r ".services[] | select(.name == \"$1\") | .$2"; }

# A CA and a client certificate it signed; a self-signed one it did not.
mkcert() { # mkcert NAME [CA]
	printf 'cn = "%s"\nserial = %s\nexpiration_days = 30\n%s\n' "$1" "$RANDOM" \
		"${3:-tls_www_client}" >"$LAB_DIR/$1.tmpl"
	certtool --generate-privkey --key-type=ecdsa --no-text --outfile "$LAB_DIR/$1.key" 2>/dev/null
	if [ -n "${2:-}" ]; then
		certtool --generate-certificate --load-privkey "$LAB_DIR/$1.key" \
			--load-ca-certificate "$LAB_DIR/$2.pem" --load-ca-privkey "$LAB_DIR/$2.key" \
			--template "$LAB_DIR/$1.tmpl" --no-text --outfile "$LAB_DIR/$1.pem" 2>/dev/null
	else
		certtool --generate-self-signed --load-privkey "$LAB_DIR/$1.key" \
			--template "$LAB_DIR/$1.tmpl" --no-text --outfile "$LAB_DIR/$1.pem" 2>/dev/null
	fi
}
mkcert ca "" "ca
cert_signing_key"
mkcert good ca
mkcert wrong
mkcert own "" "tls_www_server
signing_key"

mkdir -p "$LAB_DIR/www"
echo "hello through a service" >"$LAB_DIR/www/hello"
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/www/down.bin"
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/up.bin"
lab_bg lan "$LAB_DIR/http.log" python3 -m http.server -d "$LAB_DIR/www" -b 198.18.1.2 8080 >/dev/null
lab_bg lan "$LAB_DIR/sha.log" python3 "$PEER" sha 198.18.1.2 9000 >/dev/null
lab_bg lan "$LAB_DIR/proxy.log" python3 "$PEER" proxy 198.18.1.2 9001 >/dev/null
for p in 8080 9000 9001; do lab_wait_listen lan $p 10 || td_fail "lan port $p"; done

svc() { # svc NAME PORT DEST [more fields]
	printf '{ name = "%s"; listen = "%s:%s"; connect = "%s"; certificate = "%s"; key = "%s";%s }' \
		"$1" "$S" "$2" "$3" "$LAB_CERT" "$LAB_KEY" "${4:-}"
}
services() { echo "services = ( $(IFS=,; echo "$*") );"; }
WEB=$(svc web 8443 198.18.1.2:8080)
SHA=$(svc sha 8444 198.18.1.2:9000)
DEAD=$(svc dead 8445 198.18.1.2:9999 ' connect-timeout = 2;')
MTLS=$(svc mtls 8446 198.18.1.2:8080 " ca = \"$LAB_DIR/ca.pem\";")
PP=$(svc pp 8447 198.18.1.2:9001 ' proxy-protocol = true;')
OWN=$(printf '{ name = "own"; listen = "%s:8449"; connect = "198.18.1.2:8080"; certificate = "%s"; key = "%s"; }' \
	$S "$LAB_DIR/own.pem" "$LAB_DIR/own.key")
MET='metrics = { listen = "127.0.0.1:9611"; };'
TD_EXTRA="$(services "$WEB" "$SHA" "$DEAD" "$MTLS" "$PP" "$OWN") $MET" TD_WORKERS=2 TD_LOG_LEVEL=info td_config
td_start

# gnutls-cli and openssl s_client: a request and its answer.
out=$( (printf 'GET /hello HTTP/1.0\r\n\r\n'; sleep 2) |
	lab_cli c1 timeout 10 gnutls-cli --insecure --port 8443 $S 2>/dev/null || true)
grep -q "hello through a service" <<<"$out" || td_fail "gnutls-cli: no answer: $out"
td_pass "gnutls-cli through the service"
out=$( (printf 'GET /hello HTTP/1.0\r\n\r\n'; sleep 2) |
	lab_cli c1 timeout 10 openssl s_client -quiet -connect $S:8443 2>/dev/null || true)
grep -q "hello through a service" <<<"$out" || td_fail "openssl s_client: no answer: $out"
td_pass "openssl s_client through the service"

# Bulk, SHA-checked: down with curl, up with a half-close client.
t0=$(date +%s.%N)
lab_cli c1 curl -sSk -m 300 -o "$LAB_DIR/down.recv" https://$S:8443/down.bin ||
	td_fail "curl download failed"
t1=$(date +%s.%N)
[ "$(sha256sum <"$LAB_DIR/down.recv" | cut -d' ' -f1)" = \
	"$(sha256sum <"$LAB_DIR/www/down.bin" | cut -d' ' -f1)" ] || td_fail "download SHA-256 mismatch"
td_pass "download $MB MB intact ($(awk -v a="$t0" -v b="$t1" -v m="$MB" 'BEGIN { printf "%.0f", m * 8.388608 / (b - a) }') Mbit/s)"
rm -f "$LAB_DIR/down.recv"
want="$(sha256sum <"$LAB_DIR/up.bin" | cut -d' ' -f1) $((MB << 20))"
got=$(lab_cli c1 timeout 300 python3 "$CLI" send $S 8444 "$LAB_DIR/up.bin") ||
	td_fail "upload failed"
[ "$got" = "$want" ] || td_fail "upload / half-close: destination saw '$got', want '$want'"
td_pass "upload $MB MB intact, and the answer after the client's close_notify came back"

# A dead destination: a quick, clean close, a log line, a counter.
t0=$(date +%s)
if lab_cli c1 curl -sSk -m 20 -o /dev/null https://$S:8445/ 2>"$LAB_DIR/dead.err"; then
	td_fail "curl through a dead destination succeeded"
fi
[ $(($(date +%s) - t0)) -le 5 ] || td_fail "the dead destination took $(($(date +%s) - t0)) s"
td_log_wait 'service dead: .*destination 198.18.1.2:9999: Connection refused' 5 ||
	td_fail "no log line naming the refused destination"
td_pass "dead destination: closed at once ($(tr -d '\n' <"$LAB_DIR/dead.err")), logged"

# Client certificates.
lab_cli c1 curl -sSk -m 10 --cert "$LAB_DIR/good.pem" --key "$LAB_DIR/good.key" \
	https://$S:8446/hello | grep -q "hello through" || td_fail "the right client certificate was refused"
if lab_cli c1 curl -sSk -m 10 https://$S:8446/hello >/dev/null 2>&1; then
	td_fail "no client certificate, but let in"
fi
if lab_cli c1 curl -sSk -m 10 --cert "$LAB_DIR/wrong.pem" --key "$LAB_DIR/wrong.key" \
	https://$S:8446/hello >/dev/null 2>&1; then
	td_fail "a certificate of another CA, but let in"
fi
td_pass "client certificates: the CA's in, none and another CA's out"

# PROXY v2: the destination sees the client's address.
out=$(lab_cli c1 curl -sSk -m 10 https://$S:8447/)
[[ $out =~ ^src=198\.18\.0\.10:[0-9]+\ dst=198\.18\.0\.1:8447$ ]] || td_fail "PROXY v2: '$out'"
td_pass "PROXY v2 header: $out"

# A service's own key signs in the key process: after handshakes with it,
# it is in that process's memory, in no worker's nor the master's.
for _ in 1 2 3 4; do
	lab_cli c1 curl -sSk -m 10 https://$S:8449/hello | grep -q "hello through" ||
		td_fail "the service with its own key does not answer"
done
for p in $("$CTL" -s "$LAB_DIR/control.sock" --json status | jq -r '.workers[].pid') "$TD_PID"; do
	n=$(keyscan_count "$p" "$LAB_DIR/own.key")
	[ "$n" = 0 ] || td_fail "the service's key is in the memory of pid $p ($n times)"
done
kp=$(keyscan_named tunneld-key)
[ "$(wc -w <<<"$kp")" = 1 ] || td_fail "want one key process, got '$kp'"
n=$(keyscan_count "$kp" "$LAB_DIR/own.key")
[ "$n" -ge 1 ] || td_fail "the service's key is not in the key process: the search is blind"
td_pass "a service's own key: in the key process ($n), in no worker's memory nor the master's"

# Counters (reported once a second).
sleep 2
ctl >"$LAB_DIR/services.json"
[ "$(field web bytes_out)" -ge $((MB << 20)) ] || td_fail "web bytes_out: $(field web bytes_out)"
[ "$(field sha bytes_in)" -ge $((MB << 20)) ] || td_fail "sha bytes_in: $(field sha bytes_in)"
[ "$(field dead connect_failures)" -ge 1 ] || td_fail "dead connect_failures: $(field dead connect_failures)"
[ "$(field mtls handshake_failures)" -ge 2 ] || td_fail "mtls handshake_failures: $(field mtls handshake_failures)"
[ "$(field web open)" = 0 ] || td_fail "web: $(field web open) streams still open"
td_pass "tunnelctl services: bytes each way, connect and handshake failures, nothing left open"

# The same figures on /metrics, a row per service.
lab_srv curl -s -m 10 http://127.0.0.1:9611/metrics >"$LAB_DIR/metrics.txt" || td_fail "no /metrics"
promtool check metrics <"$LAB_DIR/metrics.txt" >"$LAB_DIR/promtool.out" 2>&1 ||
	td_fail "promtool: $(cat "$LAB_DIR/promtool.out")"
mval() { awk -v k="$1" '$1 == k { print $2 }' "$LAB_DIR/metrics.txt"; }
for n in web sha dead mtls pp own; do
	for f in open:open_streams accepted:accepted_total refused:refused_total \
		handshake_failures:handshake_failures_total connect_failures:connect_failures_total; do
		got=$(mval "tunneld_service_${f#*:}{service=\"$n\"}")
		[ -n "$got" ] && [ "$got" = "$(field $n "${f%%:*}")" ] ||
			td_fail "$n: tunneld_service_${f#*:} '$got', tunnelctl ${f%%:*} $(field $n "${f%%:*}")"
	done
	for d in in out; do
		got=$(mval "tunneld_service_bytes_total{service=\"$n\",direction=\"$d\"}")
		[ -n "$got" ] && [ "$got" = "$(field $n bytes_$d)" ] ||
			td_fail "$n: tunneld_service_bytes_total $d '$got', tunnelctl $(field $n bytes_$d)"
	done
done
[ "$(mval 'tunneld_service_accepted_total{service="web"}')" -ge 3 ] || td_fail "web accepted: too few"
td_pass "/metrics: each service's open streams, accepted, refused, failures and bytes = tunnelctl's"

# Reload with a stream open: add web2, remove web; the stream through
# sha goes on and arrives whole.
mkfifo "$LAB_DIR/slow.fifo"
(for _ in $(seq 16); do head -c 65536 /dev/urandom; sleep 0.5; done) | tee "$LAB_DIR/slow.sent" \
	>"$LAB_DIR/slow.fifo" &
lab__track $!
lab_cli c1 timeout 60 python3 "$CLI" send $S 8444 "$LAB_DIR/slow.fifo" >"$LAB_DIR/slow.got" &
slow=$!
sleep 1.5
TD_EXTRA="$(services "$SHA" "$DEAD" "$MTLS" "$PP" "$(svc web2 8448 198.18.1.2:8080)") $MET" \
	TD_WORKERS=2 TD_LOG_LEVEL=info td_config
kill -HUP "$TD_PID"
td_log_wait 'services: 5 serving' 10 || td_fail "reload not committed"
sleep 1
lab_cli c1 curl -sSk -m 10 https://$S:8448/hello | grep -q "hello through" || td_fail "the added service does not answer"
if lab_cli c1 curl -sSk -m 5 https://$S:8443/hello >/dev/null 2>&1; then
	td_fail "the removed service still answers"
fi
wait $slow || td_fail "the stream across the reload failed"
[ "$(cat "$LAB_DIR/slow.got")" = "$(sha256sum <"$LAB_DIR/slow.sent" | cut -d' ' -f1) $((16 << 16))" ] ||
	td_fail "the stream across the reload: '$(cat "$LAB_DIR/slow.got")'"
td_pass "reload added web2 and removed web; a stream through sha ran on across it, intact"
grep -q "seccomp" "$TD_LOG" && td_fail "seccomp: $(grep seccomp "$TD_LOG")"
td_stop || td_fail "unclean stop"
