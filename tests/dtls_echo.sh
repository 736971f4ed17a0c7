#!/bin/sh
# The seed's example in C: echo_server and echo_client over loopback, with a
# verified chain, IPv4 and IPv6, unsafe mode, Godot's cookie mode, and a
# hostname mismatch that must say "hostname". Every echo_server is stopped
# with SIGTERM and must exit 0 having printed its stats; every program must
# end without a sanitizer report (ASan, LeakSanitizer, UBSan) or a signal.
set -u
b="${top_builddir:-.}/examples"
certs="${top_srcdir:-.}/tests/certs"
server_name=echo_server
# shellcheck source=tests/echo_lib.sh
. "${top_srcdir:-.}/tests/echo_lib.sh"

# start_server [args]: sets $srv and $port. `timeout` bounds the server's
# life (SIGTERM at 90 s, SIGKILL 10 s after any SIGTERM) and passes on its
# exit status; --foreground so that it signals the server only, not its
# process group, where LeakSanitizer's tracer would die of a SIGTERM and
# leave the exiting server hanging.
start_server() {
    : >"$out"
    timeout --foreground -k 10 90 "$b/echo_server" --port 0 --seconds 60 "$@" >"$out" 2>&1 &
    srv=$!
    i=0
    until grep -q '^listening on port' "$out"; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "server did not start"
        sleep 0.05
    done
    port=$(sed -n 's/^listening on port //p' "$out")
}

# stop_server: SIGTERM, then the server must exit 0, cleanly.
stop_server() {
    kill "$srv" 2>/dev/null
    wait "$srv"
    rc=$?
    srv=""
    [ $rc -eq 0 ] || fail "echo_server exited with status $rc"
    sanitized "$out" && fail "sanitizer report from echo_server"
    grep -q '^stats:' "$out" || fail "echo_server did not reach its cleanup"
}

# client ARGS...: runs echo_client (output in $work/client.out and this log);
# returns its status, 0 or 1; anything else (a signal, a sanitizer report, a
# usage error) fails the test.
client() {
    timeout --foreground -k 5 60 "$b/echo_client" "$@" >"$work/client.out" 2>&1
    crc=$?
    cat "$work/client.out"
    sanitized "$work/client.out" && fail "sanitizer report from echo_client $*"
    [ $crc -le 1 ] || fail "echo_client $* exited with status $crc"
    return $crc
}

start_server --cert "$certs/server-chain.pem" --key "$certs/server.key"
client --host 127.0.0.1 --port "$port" --ca "$certs/ca.pem" --hostname localhost \
    --count 5 --timeout 10 || fail "IPv4 verified echo"
client --host ::1 --port "$port" --ca "$certs/ca.pem" --hostname localhost \
    --count 3 --timeout 10 || fail "IPv6 verified echo"
client --host 127.0.0.1 --port "$port" --insecure --count 2 --timeout 10 ||
    fail "unsafe client"
client --host 127.0.0.1 --port "$port" --ca "$certs/ca.pem" \
    --hostname wrong.example --timeout 5 && fail "hostname mismatch accepted"
grep -q hostname "$work/client.out" ||
    fail "mismatch message lacks 'hostname': $(cat "$work/client.out")"
client --host 127.0.0.1 --port "$port" --timeout 5 &&
    fail "server accepted by the system CA store"
sleep 0.2
grep -q "peer connected" "$out" || fail "server printed no connect"
grep -q "peer disconnected" "$out" || fail "server printed no disconnect"
stop_server

# Godot's cookie mode (half the take_connection calls fail) still serves.
start_server --godot-cookies
client --host 127.0.0.1 --port "$port" --insecure --count 3 --timeout 10 ||
    fail "godot cookie mode"
stop_server

# Client certificates required by the server.
start_server --cert "$certs/server-chain.pem" --key "$certs/server.key" --ca "$certs/ca.pem"
client --port "$port" --ca "$certs/ca.pem" --hostname localhost --timeout 5 &&
    fail "client without certificate accepted"
client --port "$port" --ca "$certs/ca.pem" --hostname localhost \
    --cert "$certs/client-chain.pem" --key "$certs/client.key" --count 2 --timeout 10 ||
    fail "client certificate"
stop_server
echo "dtls echo: ok"
