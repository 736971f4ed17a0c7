#!/bin/bash
# Session resumption (RFC 5077 tickets) against other implementations:
# `openssl s_client -sess_out` then `-sess_in` and `gnutls-cli --resume`
# against echo_server (they must report a resumed session, and the server
# must see one); echo_client --resume against `openssl s_server` and
# `gnutls-serv`; echo_client --session-out / --session-in across two runs.
# echo_server is stopped with SIGTERM and must exit 0; echo_client must exit
# 0; no sanitizer report. Third-party tools run under `timeout`.
set -u
command -v openssl >/dev/null || { echo "SKIP: no openssl command"; exit 77; }
b="${top_builddir:-.}/examples"
certs="${top_srcdir:-.}/tests/certs"
# shellcheck source=tests/interop_lib.sh
. "${top_srcdir:-.}/tests/interop_lib.sh"
resumed_count() { grep -c '^handshake done: .*, resumed$' "$work/server.out"; }

timeout --foreground -k 10 90 "$b/echo_server" --port 0 --bind 127.0.0.1 --seconds 80 \
    --cert "$certs/server-chain.pem" --key "$certs/server.key" >"$work/server.out" 2>&1 &
srv=$!
pids+=("$srv")
wait_for "$work/server.out" '^listening on port' 200 || fail "echo_server did not start"
port=$(sed -n 's/^listening on port //p' "$work/server.out")
TICKETS=$(tickets_in "$work/server.out") || exit 1

s_client() { # OUT ARGS...
    local out=$1
    shift
    timeout -k 5 15 openssl s_client -dtls1_2 -connect "127.0.0.1:$port" -CAfile "$certs/ca.pem" \
        -verify_return_error -verify_hostname localhost -servername localhost "$@" \
        </dev/null >"$work/$out" 2>&1
}
client() { # OUT ARGS...
    local out=$1 rc
    shift
    timeout --foreground -k 5 60 "$b/echo_client" --host 127.0.0.1 --ca "$certs/ca.pem" \
        --hostname localhost --count 2 --timeout 15 "$@" >"$work/$out" 2>&1
    rc=$?
    [ $rc -eq 0 ] || fail "echo_client $*: exit status $rc"
    sanitized "$work/$out" && fail "sanitizer report from echo_client"
    return 0
}

if [ "$TICKETS" = no ]; then
    # Parts 1-3 need echo_server to issue tickets; what it must do instead
    # is a full handshake for a client that offers a session.
    echo "SKIP: resumption by echo_server: its backend lacks DK_CAP_TICKETS"
    s_client s_client1.out -sess_out "$work/sess.pem"
    grep -q '^New, ' "$work/s_client1.out" || fail "s_client: first handshake"
    if [ -s "$work/sess.pem" ]; then
        s_client s_client2.out -sess_in "$work/sess.pem"
        grep -q '^New, ' "$work/s_client2.out" || fail "s_client resumed without tickets"
    fi
    client run1.out --port "$port" --resume
    grep -q '^resumed$' "$work/run1.out" && fail "echo_client resumed without tickets"
    grep -q ', resumed$' "$work/server.out" && fail "echo_server resumed without tickets"
    echo "openssl s_client -sess_in, echo_client --resume -> echo_server: full handshakes"
else
# 1. openssl s_client: a full handshake saving the session, then one resuming it.
s_client s_client1.out -sess_out "$work/sess.pem"
grep -q '^New, ' "$work/s_client1.out" || fail "s_client: first handshake"
[ -s "$work/sess.pem" ] || fail "s_client wrote no session"
s_client s_client2.out -sess_in "$work/sess.pem"
grep -q '^Reused, ' "$work/s_client2.out" || fail "s_client -sess_in did not resume"
wait_for "$work/server.out" ', resumed$' 100 || fail "echo_server saw no resumed session"
echo "openssl s_client -sess_out, -sess_in -> echo_server: Reused"

# 2. gnutls-cli --resume (connects twice, the second time with the ticket).
if command -v gnutls-cli >/dev/null; then
    before=$(resumed_count)
    timeout -k 5 20 gnutls-cli --udp --resume --x509cafile "$certs/ca.pem" -p "$port" localhost \
        </dev/null >"$work/gnutls-cli.out" 2>&1
    grep -q 'This is a resumed session' "$work/gnutls-cli.out" || fail "gnutls-cli did not resume"
    [ "$(resumed_count)" -gt "$before" ] || fail "echo_server saw no resumed gnutls session"
    echo "gnutls-cli --resume -> echo_server: resumed"
else
    echo "SKIP: gnutls-cli not installed"
fi

# 3. echo_client --session-out, then --session-in in a second run.
client run1.out --port "$port" --session-out "$work/session.bin"
[ "$(stat -c %a "$work/session.bin")" = 600 ] || fail "session file is not mode 0600"
client run2.out --port "$port" --session-in "$work/session.bin"
grep -q '^resumed$' "$work/run2.out" || fail "echo_client --session-in did not resume"
echo "echo_client --session-out, --session-in -> echo_server: resumed"
client resume.out --port "$port" --resume
grep -q '^resumed$' "$work/resume.out" || fail "echo_client --resume did not resume"
echo "echo_client --resume -> echo_server: resumed"
fi

kill "$srv" 2>/dev/null
wait "$srv"
rc=$?
pids=()
[ $rc -eq 0 ] || fail "echo_server exited with status $rc"
sanitized "$work/server.out" && fail "sanitizer report from echo_server"

# 4. echo_client --resume -> openssl s_server (echoing through a coprocess).
start_s_server -cert "$certs/server.pem" -cert_chain "$certs/int.pem" -key "$certs/server.key"
client s_server.client.out --port "$sport" --resume --message "echo me" --newline
grep -q '^resumed$' "$work/s_server.client.out" || fail "no resumption with s_server"
# The saved session file across two runs, also for a backend whose own
# servers issue no tickets (part 3 then did not run).
client s_server.run1.out --port "$sport" --session-out "$work/s_server.session" \
    --message "echo me" --newline
[ "$(stat -c %a "$work/s_server.session")" = 600 ] || fail "session file is not mode 0600"
client s_server.run2.out --port "$sport" --session-in "$work/s_server.session" \
    --message "echo me" --newline
grep -q '^resumed$' "$work/s_server.run2.out" || fail "--session-in did not resume with s_server"
stop_third_party
echo "echo_client --resume -> openssl s_server: resumed"

# 5. echo_client --resume -> gnutls-serv.
if command -v gnutls-serv >/dev/null; then
    start_gnutls_serv --x509certfile "$certs/server-chain.pem" --x509keyfile "$certs/server.key"
    client gnutls-serv.client.out --port "$gport" --resume
    grep -q '^resumed$' "$work/gnutls-serv.client.out" || fail "no resumption with gnutls-serv"
    stop_third_party
    echo "echo_client --resume -> gnutls-serv: resumed"
else
    echo "SKIP: gnutls-serv not installed"
fi
