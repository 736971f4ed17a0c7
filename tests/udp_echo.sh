#!/bin/sh
# The UDP echo example: server and client over loopback, IPv4 and IPv6.
set -eu
b="${top_builddir:-.}/examples"
out=$(mktemp)
"$b/udp_echo_server" --port 0 --seconds 20 > "$out" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true; rm -f "$out"' EXIT
i=0
while ! grep -q listening "$out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "server did not start"; cat "$out"; exit 1; }
    sleep 0.05
done
port=$(sed -n 's/^listening on port //p' "$out")
"$b/udp_echo_client" --host 127.0.0.1 --port "$port" --count 5 --timeout 5
"$b/udp_echo_client" --host ::1 --port "$port" --count 5 --timeout 5
kill $srv; wait $srv 2>/dev/null || true
grep -c "peer connected" "$out" | grep -qx 2
echo "udp echo: ok"
