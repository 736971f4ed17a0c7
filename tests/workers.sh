#!/bin/bash
# echo_server --workers 2: two processes on one port (SO_REUSEPORT) with one
# master secret the parent drew. 20 clients (tests/cluster_client, direct)
# echo; both workers must get clients. At the clients' halfway mark the
# worker with the most clients is killed with SIGKILL: the parent must say
# so and restart it, the clients of that worker, and only those (the
# parent's copies of the sockets keep the SO_REUSEPORT group unchanged),
# must resume their sessions on a worker (a new socket: the kernel places
# its new port anew) and finish. Then SIGTERM to the parent: it and every worker must be gone
# within 5 s, the parent exiting 0; no sanitizer report.
set -u
SECONDS=0
# shellcheck source=tests/cluster_lib.sh
. "${top_srcdir:-.}/tests/cluster_lib.sh"

# alive PID: running (a zombie waiting for its parent counts as gone).
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null; }
worker_pids() { sed -n 's/^worker [0-9]* (pid \([0-9]*\)) started$/\1/p' "$work/workers.out"; }

"$b/echo_server" --workers 2 --port 0 --bind 127.0.0.1 --seconds 90 \
    --cert "$certs/server-chain.pem" --key "$certs/server.key" >"$work/workers.out" 2>&1 &
parent=$!
pids+=("$parent")
wait_for "$work/workers.out" '^listening on port' 200 || fail "echo_server --workers did not start"
port=$(sed -n 's/^listening on port //p' "$work/workers.out")
[ "$(worker_pids | wc -l)" -eq 2 ] || fail "the parent did not report 2 workers"

start_clients clients.out --port "$port" --clients 20 --messages 20
wait_for "$work/clients.out" '^cluster: halfway' 600 || fail "the clients did not get halfway"
h1=$(full_count "$work/workers.out" "worker 1: ") h2=$(full_count "$work/workers.out" "worker 2: ")
# The kernel hashes each client's address and port: with 20 clients, one
# worker getting none has a probability of 2^-19.
{ [ "$h1" -gt 0 ] && [ "$h2" -gt 0 ]; } || fail "one worker got every client ($h1 / $h2)"
if [ "$h1" -ge "$h2" ]; then k=1 most=$h1; else k=2 most=$h2; fi
victim=$(sed -n "s/^worker $k (pid \([0-9]*\)) started\$/\1/p" "$work/workers.out")
kill -9 "$victim"
echo "halfway: workers had $h1 and $h2 clients; killed worker $k (pid $victim) with SIGKILL"
wait_for "$work/workers.out" "^worker $k (pid $victim) died (signal 9), restarting\$" 100 ||
    fail "the parent did not report the dead worker"
i=0
until [ "$(grep -c "^worker $k: listening on port $port\$" "$work/workers.out")" -eq 2 ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "worker $k was not restarted"
    sleep 0.05
done
grep "^worker $k (pid [0-9]*) died\|^worker $k (pid [0-9]*) started" "$work/workers.out" |
    tail -2 | sed 's/^/  parent: /'
finish_clients clients.out

echo "clients per worker (full handshakes / resumed handshakes; worker $k: both lives):"
resumed=0
for w in 1 2; do
    f=$(full_count "$work/workers.out" "worker $w: ") r=$(resumed_count "$work/workers.out" "worker $w: ")
    resumed=$((resumed + r))
    echo "  worker $w: $f full, $r resumed"
done
echo "$summary"
TICKETS=$(tickets_in "$work/workers.out") || exit 1
check_failover "$most" "$resumed"
# The parent keeps every worker's socket, so the group never changed: only
# the dead worker's clients lost their sessions.
[ "$(field failovers)" -eq "$most" ] ||
    fail "$(field failovers) clients failed over; the dead worker had $most (others moved)"

all=$(worker_pids | tr '\n' ' ')
kill "$parent"
i=0
any_alive() {
    local p
    for p in "$@"; do alive "$p" && return 0; done
    return 1
}
# shellcheck disable=SC2086
while any_alive "$parent" $all; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "the parent or a worker still runs 5 s after SIGTERM"
    sleep 0.05
done
wait "$parent"
rc=$?
[ $rc -eq 0 ] || fail "echo_server --workers exited with status $rc"
grep -q '^workers stopped$' "$work/workers.out" || fail "the parent did not stop its workers"
sanitized "$work/workers.out" && fail "sanitizer report from echo_server --workers"
echo "SIGTERM: the parent and workers ${all% } exited within $(((i + 1) * 50)) ms"
echo "workers.sh: ${SECONDS} s"
