# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/e2e/lib/pki.sh - client certificates for the lab (certtool), in
# $LAB_DIR/pki.  Source after lib.sh, once lab_init ran.
#
#   pki_ca NAME              a CA: NAME.key, NAME.pem
#   pki_client NAME CA [OU...]
#                            a client certificate of CA, CN = NAME, one
#                            organizational unit per OU: NAME.key, NAME.pem
#   pki_crl [PEM...]         CA "ca"'s CRL listing these certificates: crl.pem
#   pki_cert NAME            openconnect's arguments for it: -c ... -k ...

PKI_DIR=$LAB_DIR/pki
mkdir -p "$PKI_DIR"

pki_ca() {
	certtool --generate-privkey --key-type=ecdsa --no-text --outfile "$PKI_DIR/$1.key" 2>/dev/null
	printf 'cn = "%s"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 30\n' "$1" \
		>"$PKI_DIR/$1.tmpl"
	certtool --generate-self-signed --load-privkey "$PKI_DIR/$1.key" --template "$PKI_DIR/$1.tmpl" \
		--no-text --outfile "$PKI_DIR/$1.pem" 2>/dev/null
}

pki_client() {
	local n=$1 c=$2 ou
	shift 2
	certtool --generate-privkey --key-type=ecdsa --no-text --outfile "$PKI_DIR/$n.key" 2>/dev/null
	{
		printf 'cn = "%s"\ntls_www_client\nsigning_key\nexpiration_days = 30\n' "$n"
		printf 'serial = %d\n' "$((RANDOM * 32768 + RANDOM))"
		for ou in "$@"; do printf 'unit = "%s"\n' "$ou"; done
	} >"$PKI_DIR/$n.tmpl"
	certtool --generate-certificate --load-privkey "$PKI_DIR/$n.key" \
		--load-ca-certificate "$PKI_DIR/$c.pem" --load-ca-privkey "$PKI_DIR/$c.key" \
		--template "$PKI_DIR/$n.tmpl" --no-text --outfile "$PKI_DIR/$n.pem" 2>/dev/null
}

pki_crl() {
	local f
	printf 'crl_next_update = 30\ncrl_number = %d\n' "$(date +%s%N | cut -c1-12)" \
		>"$PKI_DIR/crl.tmpl"
	if [ $# -gt 0 ]; then
		cat "$@" >"$PKI_DIR/revoked.pem"
		f=(--load-certificate "$PKI_DIR/revoked.pem")
	else
		f=()
	fi
	certtool --generate-crl --load-ca-privkey "$PKI_DIR/ca.key" \
		--load-ca-certificate "$PKI_DIR/ca.pem" "${f[@]}" --template "$PKI_DIR/crl.tmpl" \
		--no-text --outfile "$PKI_DIR/crl.pem.new" 2>/dev/null
	mv "$PKI_DIR/crl.pem.new" "$PKI_DIR/crl.pem"
}

pki_cert() { echo "-c $PKI_DIR/$1.pem -k $PKI_DIR/$1.key"; }
