#!/bin/sh
# The seed's example in C: echo_server and echo_client over loopback, with a
# verified chain, IPv4 and IPv6, unsafe mode, Godot's cookie mode, and a
# hostname mismatch that must say "hostname".
set -u
b="${top_builddir:-.}/examples"
certs="${top_srcdir:-.}/tests/certs"
fail() { echo "FAIL: $*"; [ -n "${out:-}" ] && cat "$out"; exit 1; }

# start_server [args]: sets $srv and $port
start_server() {
    out=$(mktemp)
    "$b/echo_server" --port 0 --seconds 60 "$@" >"$out" 2>&1 &
    srv=$!
    i=0
    until grep -q '^listening on port' "$out"; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "server did not start"
        sleep 0.05
    done
    port=$(sed -n 's/^listening on port //p' "$out")
}
stop_server() { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; rm -f "$out"; }
trap 'kill $srv 2>/dev/null' EXIT

start_server --cert "$certs/server-chain.pem" --key "$certs/server.key"
"$b/echo_client" --host 127.0.0.1 --port "$port" --ca "$certs/ca.pem" --hostname localhost \
    --count 5 --timeout 10 || fail "IPv4 verified echo"
"$b/echo_client" --host ::1 --port "$port" --ca "$certs/ca.pem" --hostname localhost \
    --count 3 --timeout 10 || fail "IPv6 verified echo"
"$b/echo_client" --host 127.0.0.1 --port "$port" --insecure --count 2 --timeout 10 ||
    fail "unsafe client"
msg=$("$b/echo_client" --host 127.0.0.1 --port "$port" --ca "$certs/ca.pem" \
    --hostname wrong.example --timeout 5 2>&1) && fail "hostname mismatch accepted"
echo "$msg" | grep -q hostname || fail "mismatch message lacks 'hostname': $msg"
msg=$("$b/echo_client" --host 127.0.0.1 --port "$port" --timeout 5 2>&1) &&
    fail "server accepted by the system CA store"
sleep 0.2
grep -q "peer connected" "$out" || fail "server printed no connect"
grep -q "peer disconnected" "$out" || fail "server printed no disconnect"
stop_server

# Godot's cookie mode (half the take_connection calls fail) still serves.
start_server --godot-cookies
"$b/echo_client" --host 127.0.0.1 --port "$port" --insecure --count 3 --timeout 10 ||
    fail "godot cookie mode"
stop_server

# Client certificates required by the server.
start_server --cert "$certs/server-chain.pem" --key "$certs/server.key" --ca "$certs/ca.pem"
"$b/echo_client" --port "$port" --ca "$certs/ca.pem" --hostname localhost --timeout 5 >/dev/null &&
    fail "client without certificate accepted"
"$b/echo_client" --port "$port" --ca "$certs/ca.pem" --hostname localhost \
    --cert "$certs/client-chain.pem" --key "$certs/client.key" --count 2 --timeout 10 ||
    fail "client certificate"
stop_server
echo "dtls echo: ok"
