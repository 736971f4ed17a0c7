#!/bin/bash
# Pre-shared keys against other implementations: `openssl s_client -psk`
# (each PSK suite this build has, CoAP's PSK-AES128-CCM8 among them),
# `gnutls-cli --pskusername`, and libcoap's coap-client (its OpenSSL and
# GnuTLS builds, `-k KEY -u ID`) against echo_server --psk; echo_client --psk
# against `openssl s_server -nocert -psk` and `gnutls-serv --pskpasswd`.
# The CoAP exchange itself is not ours: for coap-client the handshake is
# asserted in echo_server's output. echo_server is stopped with SIGTERM and
# must exit 0; echo_client must exit 0; no sanitizer report. Third-party
# tools run under `timeout` and are killed and reaped.
set -u
command -v openssl >/dev/null || { echo "SKIP: no openssl command"; exit 77; }
b="${top_builddir:-.}/examples"
certs="${top_srcdir:-.}/tests/certs"
backend="${BACKEND:-}"
id=coap-dev
secret=secretPSK-1234567 # coap-client takes the key as text
key=$(printf '%s' "$secret" | od -An -tx1 | tr -d ' \n')
# shellcheck source=tests/interop_lib.sh
. "${top_srcdir:-.}/tests/interop_lib.sh"

# start_echo_server ARGS...: sets $srv and $port.
start_echo_server() {
    : >"$work/server.out"
    timeout --foreground -k 10 90 "$b/echo_server" --port 0 --bind 127.0.0.1 --seconds 80 "$@" \
        >"$work/server.out" 2>&1 &
    srv=$!
    pids+=("$srv")
    wait_for "$work/server.out" '^listening on port' 200 || fail "echo_server did not start"
    port=$(sed -n 's/^listening on port //p' "$work/server.out")
}

stop_echo_server() {
    kill "$srv" 2>/dev/null
    wait "$srv"
    local rc=$?
    pids=()
    [ $rc -eq 0 ] || fail "echo_server exited with status $rc"
    sanitized "$work/server.out" && fail "sanitizer report from echo_server"
    grep -q '^stats:' "$work/server.out" || fail "echo_server did not reach its cleanup"
}

# line_client N READY COMMAND...: three lines echoed through a line client.
line_client() {
    local n=$1 ready=$2 out="$work/client$1.out" i cl
    shift 2
    rm -f "$work/in"
    mkfifo "$work/in"
    timeout -k 5 20 "$@" <"$work/in" >"$out" 2>&1 &
    cl=$!
    exec 3>"$work/in"
    wait_for "$out" "$ready" 200 || { exec 3>&-; reap $cl; fail "handshake: $*"; }
    for i in 1 2 3; do
        printf 'psk %d line %d\n' "$n" "$i" >&3
        wait_for "$out" "^psk $n line $i" 100 || { exec 3>&-; reap $cl; fail "echo $i: $*"; }
    done
    exec 3>&-
    reap $cl
}

# 1. openssl s_client -psk -> echo_server --psk (PSK only), per suite. The
# wolfSSL build of Debian has no static-PSK suites (WOLFSSL_STATIC_PSK off):
# only the ECDHE-PSK and PSK-ChaCha20 ones.
ciphers="ECDHE-PSK-CHACHA20-POLY1305 PSK-CHACHA20-POLY1305 PSK-AES128-GCM-SHA256 PSK-AES128-CCM8"
[ "$backend" = wolfssl ] && ciphers="ECDHE-PSK-CHACHA20-POLY1305 PSK-CHACHA20-POLY1305"
start_echo_server --psk "$key" --psk-identity "$id"
n=0
for cipher in $ciphers; do
    n=$((n + 1))
    line_client $n "Cipher is $cipher" openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
        -psk "$key" -psk_identity "$id" -cipher "$cipher"
    grep -q "PSK identity \"$id\"" "$work/server.out" || fail "server did not report the identity"
done
echo "openssl s_client -psk -> echo_server --psk ($ciphers): ok"

# An unknown identity fails at once, with the reason in the server's log.
timeout -k 5 10 openssl s_client -dtls1_2 -connect "127.0.0.1:$port" -psk "$key" \
    -psk_identity stranger </dev/null >"$work/stranger.out" 2>&1
wait_for "$work/server.out" 'unknown PSK identity "stranger"' 100 ||
    fail "no unknown-identity reason on the server"
grep -qi 'unknown psk identity' "$work/stranger.out" || fail "s_client did not get the alert"
echo "openssl s_client with an unknown identity: refused (unknown_psk_identity): ok"

# 2. gnutls-cli. Plain PSK only: gnutls-cli 3.7.9 crashes after an ECDHE-PSK
# handshake whatever the server (against gnutls-serv as well).
if command -v gnutls-cli >/dev/null; then
    line_client 10 'Handshake was completed' gnutls-cli --udp --priority 'NORMAL:+PSK' \
        --pskusername "$id" --pskkey "$key" -p "$port" 127.0.0.1
    echo "gnutls-cli --pskusername -> echo_server --psk: ok"
else
    echo "SKIP: gnutls-cli not installed"
fi

# 3. libcoap's coap-client, both of its TLS builds: the handshake, seen by
# the server (the CoAP request is echoed back, which is not CoAP).
for coap in coap-client-openssl coap-client-gnutls; do
    if ! command -v $coap >/dev/null; then
        echo "SKIP: $coap not installed (Debian libcoap3-bin)"
        continue
    fi
    before=$(grep -c '^handshake done' "$work/server.out")
    timeout -k 5 15 $coap -B 5 -k "$secret" -u "$id" "coaps://127.0.0.1:$port/" \
        >"$work/$coap.out" 2>&1
    i=0
    until [ "$(grep -c "^handshake done: .*PSK identity \"$id\"" "$work/server.out")" -gt "$before" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "$coap: no handshake on the server"
        sleep 0.05
    done
    echo "$coap -k -u -> echo_server --psk: handshake ok ($(grep '^handshake done' "$work/server.out" | tail -1 | sed 's/.*, \(TLS_[A-Z0-9_]*\).*/\1/'))"
done
stop_echo_server

# 4. One server, both kinds of client: certificate and PSK.
start_echo_server --cert "$certs/server-chain.pem" --key "$certs/server.key" \
    --psk "$key" --psk-identity "$id"
line_client 20 'Cipher is ECDHE-PSK' openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
    -psk "$key" -psk_identity "$id" -cipher 'ECDHE-PSK-CHACHA20-POLY1305'
line_client 21 'Verify return code: 0' openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
    -CAfile "$certs/ca.pem" -verify_return_error -verify_hostname localhost -servername localhost
grep -q 'Cipher is ECDHE-ECDSA' "$work/client21.out" || fail "certificate client got no ECDSA suite"
stop_echo_server
echo "echo_server --cert --key --psk: PSK and certificate clients: ok"

# 5. echo_client --psk -> openssl s_server -nocert -psk, echoing lines back.
start_s_server -nocert -psk "$key" -psk_identity "$id"
timeout --foreground -k 5 60 "$b/echo_client" --host 127.0.0.1 --port "$sport" --psk "$key" \
    --psk-identity "$id" --message "echo me" --newline --count 3 --timeout 15 \
    >"$work/client.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "echo_client -> s_server: exit status $rc"
sanitized "$work/client.out" && fail "sanitizer report from echo_client"
grep -q "3/3 replies matched" "$work/client.out" || fail "client summary"
stop_third_party
echo "echo_client --psk -> openssl s_server -psk: ok ($(sed -n 's/^connected (\(.*\))/\1/p' "$work/client.out"))"

# 6. echo_client --psk -> gnutls-serv --pskpasswd.
if command -v gnutls-serv >/dev/null; then
    printf '%s:%s\n' "$id" "$key" >"$work/pskpasswd"
    start_gnutls_serv --pskpasswd "$work/pskpasswd" --priority 'NORMAL:+ECDHE-PSK:+PSK'
    timeout --foreground -k 5 60 "$b/echo_client" --host 127.0.0.1 --port "$gport" --psk "$key" \
        --psk-identity "$id" --message "echo me" --count 3 --timeout 15 >"$work/gclient.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] || fail "echo_client -> gnutls-serv: exit status $rc"
    sanitized "$work/gclient.out" && fail "sanitizer report from echo_client"
    stop_third_party
    echo "echo_client --psk -> gnutls-serv --pskpasswd: ok ($(sed -n 's/^connected (\(.*\))/\1/p' "$work/gclient.out"))"
else
    echo "SKIP: gnutls-serv not installed"
fi
