#!/bin/bash
# Interoperability with OpenSSL's own tools: `openssl s_client -dtls1_2`
# against echo_server, and echo_client against `openssl s_server -dtls1_2`.
# echo_server is stopped with SIGTERM and must exit 0; echo_client must exit
# 0; neither may print a sanitizer report. The openssl tools are bounded by
# `timeout`, killed when done and reaped; their exit status is not checked.
set -u
command -v openssl >/dev/null || { echo "SKIP: no openssl command"; exit 77; }
b="${top_builddir:-.}/examples"
certs="${top_srcdir:-.}/tests/certs"
# shellcheck source=tests/interop_lib.sh
. "${top_srcdir:-.}/tests/interop_lib.sh"

# 1. openssl s_client -> echo_server (admission mode, verified chain), once
# per AEAD suite: OpenSSL's record layer opens what the core sealed and the
# other way round. --foreground: timeout signals echo_server alone, not its
# process group (LeakSanitizer's tracer would die of a SIGTERM).
timeout --foreground -k 10 60 "$b/echo_server" --port 0 --seconds 40 \
    --cert "$certs/server-chain.pem" --key "$certs/server.key" >"$work/server.out" 2>&1 &
srv=$!
pids+=("$srv")
wait_for "$work/server.out" '^listening on port' 200 || fail "echo_server did not start"
port=$(sed -n 's/^listening on port //p' "$work/server.out")
n=0
for cipher in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 \
    ECDHE-ECDSA-CHACHA20-POLY1305; do
    n=$((n + 1))
    rm -f "$work/in"
    mkfifo "$work/in"
    timeout -k 5 20 openssl s_client -dtls1_2 -connect "127.0.0.1:$port" -CAfile "$certs/ca.pem" \
        -verify_return_error -verify_hostname localhost -servername localhost -cipher "$cipher" \
        <"$work/in" >"$work/s_client$n.out" 2>&1 &
    cl=$!
    pids+=("$cl")
    exec 3>"$work/in"
    wait_for "$work/s_client$n.out" 'Verify return code: 0' 200 || fail "s_client handshake ($cipher)"
    grep -q "Cipher is $cipher" "$work/s_client$n.out" || fail "s_client did not get $cipher"
    for i in 1 2 3; do
        printf 'ping %d from s_client %d\n' "$n" "$i" >&3
        wait_for "$work/s_client$n.out" "^ping $n from s_client $i" 100 || fail "echo $i ($cipher)"
    done
    if [ $n -eq 1 ]; then
        # "R" asks s_client to renegotiate. The server ignores the encrypted
        # ClientHello (OpenSSL would end its side on a no_renegotiation
        # warning): the server's session must survive it.
        printf 'R\n' >&3
        wait_for "$work/s_client$n.out" RENEGOTIATING 100 || fail "s_client did not renegotiate"
        sleep 1
        grep -q 'peer disconnected' "$work/server.out" && fail "renegotiation ended the session"
    fi
    exec 3>&-
    reap "$cl"
done
grep -q "received 23 bytes: ping 3 from s_client 3" "$work/server.out" || fail "server log"
kill "$srv" 2>/dev/null
wait "$srv"
rc=$?
pids=()
[ $rc -eq 0 ] || fail "echo_server exited with status $rc"
sanitized "$work/server.out" && fail "sanitizer report from echo_server"
grep -q '^stats:' "$work/server.out" || fail "echo_server did not reach its cleanup"
echo "openssl s_client -> echo_server (3 suites, renegotiation ignored): ok"

# 2. echo_client -> openssl s_server, echoing lines back through a coprocess.
start_s_server -cert "$certs/server.pem" -cert_chain "$certs/int.pem" -key "$certs/server.key"
timeout --foreground -k 5 60 "$b/echo_client" --host 127.0.0.1 --port "$sport" --ca "$certs/ca.pem" \
    --hostname localhost --message "echo me" --newline --count 3 --timeout 15 \
    >"$work/client.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "echo_client -> s_server: exit status $rc"
sanitized "$work/client.out" && fail "sanitizer report from echo_client"
grep -q "3/3 replies matched" "$work/client.out" || fail "client summary"
stop_third_party
echo "echo_client -> openssl s_server: ok"
