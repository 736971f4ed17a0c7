#!/bin/sh
# Regenerates the test certificates in this folder with the openssl command.
# The output is committed: tests do not depend on the openssl command, and
# every backend sees the same files. Validity: 100 years, except expired.pem.
#
#   root CA -> intermediate CA -> server (localhost), other (other.example),
#                                 expired (localhost, 2000-2001), client
#   untrusted: self-signed localhost, in no trust store
#   rsa: RSA-2048 server for localhost signed by the intermediate
#   big chain (MTU tests): RSA-4096 root -> int1 -> int2 -> leaf (localhost)
#   names: self-signed, a subject full of what name printing must handle
set -eu
cd "$(dirname "$0")"
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$2" -out "$1" 2>/dev/null; }

cat > "$tmp/ext.cnf" <<'CNF'
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[other]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF

# sign NAME SUBJECT ISSUER EXT [extra x509 args]: NAME.key must exist
sign() {
    openssl req -new -key "$1.key" -subj "$2" -out "$tmp/$1.csr"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
        -days $days -sha256 -extfile "$tmp/ext.cnf" -extensions "$4" -out "$1.pem" 2>/dev/null
}

ec ca.key
openssl req -x509 -new -key ca.key -subj "/CN=dtlskit test root CA" -days $days -sha256 \
    -config /dev/null -extensions ca -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem 2>/dev/null ||
openssl req -x509 -new -key ca.key -subj "/CN=dtlskit test root CA" -days $days -sha256 -out ca.pem
ec int.key;     sign int "/CN=dtlskit test intermediate CA" ca ca
ec server.key;  sign server "/CN=localhost" int server
ec other.key;   sign other "/CN=other.example" int other
ec client.key;  sign client "/CN=dtlskit test client" int client
rsa rsa.key 2048; sign rsa "/CN=localhost" int server
cat server.pem int.pem > server-chain.pem
cat rsa.pem int.pem > rsa-chain.pem
cat other.pem int.pem > other-chain.pem
cat client.pem int.pem > client-chain.pem

# Expired: `openssl ca` is the tool that takes explicit dates.
ec expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out "$tmp/expired.csr"
mkdir -p "$tmp/db"; : > "$tmp/db/index.txt"; echo 1000 > "$tmp/db/serial"
cat > "$tmp/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $tmp/db/index.txt
serial = $tmp/db/serial
new_certs_dir = $tmp/db
default_md = sha256
policy = p
copy_extensions = none
[p]
commonName = supplied
[server]
basicConstraints = critical,CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
openssl ca -batch -config "$tmp/ca.cnf" -cert int.pem -keyfile int.key -in "$tmp/expired.csr" \
    -startdate 20000101000000Z -enddate 20010101000000Z -extensions server -notext \
    -out expired.pem 2>/dev/null
cat expired.pem int.pem > expired-chain.pem

# Self-signed, trusted by nobody.
ec untrusted.key
openssl req -x509 -new -key untrusted.key -subj "/CN=localhost" -days $days -sha256 \
    -addext "subjectAltName=DNS:localhost" -out untrusted.pem 2>/dev/null

# Encrypted copies of server.key (password "secret"): PKCS#8 PEM and DER.
openssl pkcs8 -topk8 -in server.key -v2 aes-256-cbc -passout pass:secret -out server-enc.key
openssl pkcs8 -topk8 -in server.key -v2 aes-256-cbc -passout pass:secret -outform DER \
    -out server-enc.der
openssl pkcs8 -topk8 -nocrypt -in server.key -outform DER -out server.der
openssl x509 -in server.pem -outform DER -out server.crt.der

# A chain bigger than any MTU: RSA-4096 root, two intermediates, leaf.
rsa big-ca.key 4096
openssl req -x509 -new -key big-ca.key -subj "/CN=dtlskit big root CA" -days $days -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out big-ca.pem 2>/dev/null
rsa big-int1.key 4096; sign big-int1 "/CN=dtlskit big intermediate 1" big-ca ca
rsa big-int2.key 4096; sign big-int2 "/CN=dtlskit big intermediate 2" big-int1 ca
rsa big-server.key 4096; sign big-server "/CN=localhost" big-int2 server
cat big-server.pem big-int2.pem big-int1.pem > big-server-chain.pem
# names.pem (tests/check_x509): a self-signed certificate whose subject has
# what name printing must handle: RFC 4514 specials, leading and trailing
# spaces, a leading '#', UTF-8, a multi-valued RDN, an attribute without a
# short name (1.2.3.4, printed as #hex).
cat > "$tmp/names.cnf" <<'CNF'
oid_section = oids
[oids]
dkTestAttr = 1.2.3.4
[req]
distinguished_name = dn
string_mask = utf8only
[dn]
CNF
ec names.key
openssl req -x509 -new -key names.key -config "$tmp/names.cnf" -utf8 -multivalue-rdn -days $days \
    -sha256 -subj "/C=IT/ST=Lombardia/O=Acme, S.p.A./OU=R&D+OU=Ops/dkTestAttr=hello/emailAddress=a@b.example/CN= #lead \"q\" <a>;b\\\\c=d\\+e /CN=Zoë 日本" \
    -out names.pem
rm -f ./*.srl
echo "certificates written to $(pwd)"
