# shellcheck shell=sh
# Shared by tests/uv_echo.sh and tests/epoll_echo.sh (sourced, with
# $server_name set): the event-loop echo server over loopback serves
# several echo_clients at once (verified chain, IPv4 and IPv6 where
# available), then, with no traffic, must sleep: its CPU time over one
# second (utime+stime from /proc/PID/stat) stays under IDLE_CPU_MAX_MS and
# its main thread wakes up at most IDLE_WAKEUPS_MAX times (voluntary context
# switches from /proc/PID/status). SIGTERM then ends it with status 0 after
# its stats. Prints "SKIP: ..." when the server was not built (libuv absent).
set -u
b="${top_builddir:-.}/examples"
certs="${top_srcdir:-.}/tests/certs"
# shellcheck source=tests/echo_lib.sh
. "${top_srcdir:-.}/tests/echo_lib.sh"
CLIENTS=6
IDLE_CPU_MAX_MS=50
IDLE_WAKEUPS_MAX=5

if [ ! -x "$b/$server_name" ]; then
    echo "SKIP: $server_name not built (${skip_reason:-not available on this system})"
    exit 0
fi
[ -r /proc/self/stat ] || { echo "SKIP: no /proc: cannot measure the idle server"; exit 0; }

# The server's life is bounded by `timeout` (SIGTERM at 90 s) and by
# --seconds 80; --foreground so that only the server gets the signal.
timeout --foreground -k 10 90 "$b/$server_name" --port 0 --bind "${bind:-127.0.0.1}" \
    --seconds 80 --cert "$certs/server-chain.pem" --key "$certs/server.key" >"$out" 2>&1 &
srv=$!
i=0
until grep -q '^listening on port' "$out"; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "server did not start"
    kill -0 "$srv" 2>/dev/null || fail "server exited"
    sleep 0.05
done
port=$(sed -n 's/^listening on port //p' "$out")
pid=$(sed -n 's/^pid //p' "$out")
[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || fail "no pid line, or no /proc/$pid"

# Several clients at once, each bounded by its --timeout and by `timeout`.
hosts="127.0.0.1"
[ "${bind:-127.0.0.1}" = "*" ] && hosts="127.0.0.1 ::1"
cpids=""
n=0
for host in $hosts; do
    c=0
    while [ $c -lt $CLIENTS ]; do
        c=$((c + 1)) n=$((n + 1))
        timeout --foreground -k 5 60 "$b/echo_client" --host "$host" --port "$port" \
            --ca "$certs/ca.pem" --hostname localhost --count 20 --timeout 30 \
            --message "client $n" >"$work/client$n.out" 2>&1 &
        cpids="$cpids $!"
    done
done
n=0
for p in $cpids; do
    n=$((n + 1))
    wait "$p"
    crc=$?
    [ $crc -eq 0 ] || { cat "$work/client$n.out"; fail "echo_client $n failed (status $crc)"; }
    sanitized "$work/client$n.out" && fail "sanitizer report from echo_client $n"
done
handshakes=$(grep -c '^handshake done' "$out")
[ "$handshakes" -ge "$n" ] || fail "$handshakes handshakes for $n clients"

# The clients closed their sessions: wait (bounded) until the server has
# dropped them all, then measure a quiet second.
i=0
until [ "$(grep -c '^peer disconnected' "$out")" -ge "$n" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "sessions not closed after the clients' close_notify"
    sleep 0.05
done
sleep 0.2
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status"; }
hz=$(getconf CLK_TCK)
t0=$(ticks) w0=$(wakeups)
sleep 1
t1=$(ticks) w1=$(wakeups)
cpu_ms=$(((t1 - t0) * 1000 / hz))
woke=$((w1 - w0))
echo "$server_name idle for 1 s: ${cpu_ms} ms CPU (tick ${hz} Hz), $woke wake-ups"
[ "$cpu_ms" -lt "$IDLE_CPU_MAX_MS" ] || fail "idle server used ${cpu_ms} ms CPU in 1 s"
[ "$woke" -le "$IDLE_WAKEUPS_MAX" ] || fail "idle server woke up $woke times in 1 s"

# And it still serves after sleeping.
timeout --foreground -k 5 30 "$b/echo_client" --host 127.0.0.1 --port "$port" \
    --ca "$certs/ca.pem" --hostname localhost --count 3 --timeout 10 >"$work/late.out" 2>&1 ||
    { cat "$work/late.out"; fail "echo after the idle second"; }

kill "$srv" 2>/dev/null
wait "$srv"
rc=$?
srv=""
[ $rc -eq 0 ] || fail "$server_name exited with status $rc"
sanitized "$out" && fail "sanitizer report from $server_name"
grep -q '^stats:' "$out" || fail "$server_name did not reach its cleanup"
grep '^stats:' "$out"
echo "$server_name: ok"
