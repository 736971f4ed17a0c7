#!/bin/sh
# The fixed keys (fixed-*.key; gen.sh never regenerates them) and how the
# values pinned in tests/check_cryptoops.c were made with the openssl
# command. Run it to see them again; the RSA signature must come out
# identical (PKCS#1 v1.5 is deterministic), the ECDSA signatures and the
# ciphertext differ at each run (random nonce, random padding) and any of
# them must verify or decrypt.
#   fixed-rsa.key        RSA-2048 (a copy of rsa.key)
#   fixed-rsa-other.key  another RSA-2048 key: the wrong key
#   fixed-p256.key       P-256 (a copy of server.key)
#   fixed-p384.key       P-384
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; echo; }
printf 'dtlskit crypto ops' >"$tmp/msg"
echo "RSA-2048 SHA-256:"; openssl dgst -sha256 -sign fixed-rsa.key -out "$tmp/s" "$tmp/msg"; hex "$tmp/s"
echo "P-256 SHA-256:"; openssl dgst -sha256 -sign fixed-p256.key -out "$tmp/s" "$tmp/msg"; hex "$tmp/s"
echo "P-256 SHA-384:"; openssl dgst -sha384 -sign fixed-p256.key -out "$tmp/s" "$tmp/msg"; hex "$tmp/s"
echo "P-384 SHA-512:"; openssl dgst -sha512 -sign fixed-p384.key -out "$tmp/s" "$tmp/msg"; hex "$tmp/s"
printf 'secret message' >"$tmp/pt"
echo "RSA-2048 PKCS#1 v1.5 encryption of 'secret message':"
openssl pkeyutl -encrypt -inkey fixed-rsa.key -pkeyopt rsa_padding_mode:pkcs1 -in "$tmp/pt" \
    -out "$tmp/c"
hex "$tmp/c"
