#!/bin/bash
# make-test-pki.sh <outdir> [server-name ...]
#
# Makes a throw-away PKI for the integration tests and the demo, with the
# openssl CLI (OpenSSL 1.1.1 or 3.x). EC P-256 keys everywhere.
#
#   ca.pem / ca.key                    test root CA (10 years)
#   server.pem / server.key            leaf for the server names, signed by the
#                                      root: SAN DNS entries (IP SANs for IP
#                                      literals), EKU serverAuth, 397 days
#   server.pin                         "sha256:<hex>" of server.pem's DER, the
#                                      profile's `pin =` value
#   other-ca.pem / other-ca.key        an unrelated root CA
#   other-server.pem / other-server.key  the same names, signed by other-ca
#                                      (the "certificate from another CA" case)
#   wrong-name.pem / wrong-name.key    signed by the test root, for
#                                      wrong-name.invalid only
#
# Server names default to vpn.example.test. "[::1]" is accepted for an IPv6
# literal. The files are overwritten on each run (nothing else in <outdir> is
# touched). Prints one `key=value` line per file, then the pin.
set -euo pipefail

usage() {
  echo "usage: $0 <outdir> [server-name ...]" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
outdir=$1
shift
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(vpn.example.test)

command -v openssl >/dev/null || { echo "$0: openssl not found" >&2; exit 1; }
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# subjectAltName entries: IP literals become iPAddress, the rest dNSName.
san=()
for raw in "${names[@]}"; do
  name=${raw#[}
  name=${name%]}
  if [[ $name =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || $name == *:* ]]; then
    san+=("IP:$name")
  elif [[ $name =~ ^[A-Za-z0-9*]([A-Za-z0-9.*-]*[A-Za-z0-9])?$ ]]; then
    san+=("DNS:$name")
  else
    echo "$0: not a DNS name or IP literal: $raw" >&2
    exit 2
  fi
done
san_line=$(IFS=,; echo "${san[*]}")

cat >"$work/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = \${ENV::SAN}
EOF

new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# make_ca <basename> <common name>
make_ca() {
  new_key "$outdir/$1.key"
  SAN=unused openssl req -x509 -new -key "$outdir/$1.key" -sha256 -days 3650 \
    -subj "/CN=$2" -config "$work/openssl.cnf" -extensions v3_ca -out "$outdir/$1.pem"
}

# make_leaf <basename> <ca basename> <common name> <subjectAltName>
make_leaf() {
  new_key "$outdir/$1.key"
  SAN=$4 openssl req -new -key "$outdir/$1.key" -subj "/CN=$3" -config "$work/openssl.cnf" \
    -out "$work/$1.csr"
  SAN=$4 openssl x509 -req -in "$work/$1.csr" -CA "$outdir/$2.pem" -CAkey "$outdir/$2.key" \
    -set_serial "0x$(openssl rand -hex 12)" -days 397 -sha256 \
    -extfile "$work/openssl.cnf" -extensions v3_leaf -out "$outdir/$1.pem" 2>/dev/null
}

# The subject CN is informative only (clients match the SAN); keep it within
# the 64-character limit.
cn=${names[0]#[}
cn=${cn%]}
[[ ${#cn} -le 64 ]] || cn="sstp-ktls test server"

make_ca ca "sstp-ktls test root CA"
make_ca other-ca "sstp-ktls unrelated CA"
make_leaf server ca "$cn" "$san_line"
make_leaf other-server other-ca "$cn" "$san_line"
make_leaf wrong-name ca "wrong-name.invalid" "DNS:wrong-name.invalid"
chmod 644 "$outdir"/*.pem

pin=$(openssl x509 -in "$outdir/server.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
echo "sha256:$pin" >"$outdir/server.pin"
chmod 644 "$outdir/server.pin"

for file in ca other-ca server other-server wrong-name; do
  key=${file//-/_}
  echo "${key}_cert=$outdir/$file.pem"
  echo "${key}_key=$outdir/$file.key"
done
echo "server_pin=sha256:$pin"
