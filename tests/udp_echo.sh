#!/bin/sh
# The UDP echo example: server and client over loopback, IPv4 and IPv6. The
# server is stopped with SIGTERM and must exit 0; no program may end with a
# sanitizer report or a signal.
set -u
b="${top_builddir:-.}/examples"
server_name=udp_echo_server
# shellcheck source=tests/echo_lib.sh
. "${top_srcdir:-.}/tests/echo_lib.sh"

# `timeout` bounds the server's life (SIGKILL 10 s after a SIGTERM) and
# passes on its exit status; --foreground: it signals the server alone, not
# its process group (LeakSanitizer's tracer would die of a SIGTERM).
timeout --foreground -k 10 60 "$b/udp_echo_server" --port 0 --seconds 20 >"$out" 2>&1 &
srv=$!
i=0
until grep -q '^listening on port' "$out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "server did not start"
    sleep 0.05
done
port=$(sed -n 's/^listening on port //p' "$out")
for host in 127.0.0.1 ::1; do
    timeout --foreground -k 5 30 "$b/udp_echo_client" --host $host --port "$port" --count 5 --timeout 5 \
        >"$work/client.out" 2>&1
    rc=$?
    cat "$work/client.out"
    [ $rc -eq 0 ] || fail "udp_echo_client to $host exited with status $rc"
    sanitized "$work/client.out" && fail "sanitizer report from udp_echo_client"
done
kill "$srv" 2>/dev/null
wait "$srv"
rc=$?
srv=""
[ $rc -eq 0 ] || fail "udp_echo_server exited with status $rc"
sanitized "$out" && fail "sanitizer report from udp_echo_server"
[ "$(grep -c "peer connected" "$out")" -eq 2 ] || fail "expected 2 peers"
echo "udp echo: ok"
