#!/bin/bash
# Three echo_servers behind nginx's UDP load balancer, sharing one master
# secret file: 50 clients (tests/cluster_client) echo through nginx; when
# every client is halfway, the server with the most clients is killed with
# SIGKILL. Its clients must notice (no echo), reconnect through nginx from
# new sockets, land on the survivors, resume their sessions there with the
# shared ticket keys (every completed reconnection a resumption, and the
# survivors' logs show the resumed handshakes) and finish their messages.
# Prints how the clients spread over the servers and what nginx did. The
# survivors are stopped with SIGTERM and must exit 0; no sanitizer report.
set -u
SECONDS=0
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "SKIP: nginx not installed"; exit 77; }
# Debian builds the stream module as a module (libnginx-mod-stream).
module=/usr/lib/nginx/modules/ngx_stream_module.so
if [ -f "$module" ]; then
    load_module="load_module $module;"
elif "$nginx" -V 2>&1 | grep -q -- '--with-stream '; then
    load_module=""
else
    echo "SKIP: nginx has no stream module (Debian: libnginx-mod-stream)"
    exit 77
fi
# shellcheck source=tests/cluster_lib.sh
. "${top_srcdir:-.}/tests/cluster_lib.sh"

make_secret "$work/secret.hex"
nodes=(127.0.0.2 127.0.0.3 127.0.0.4)
declare -A port srvpid
for n in "${nodes[@]}"; do
    "$b/echo_server" --port 0 --bind "$n" --behind-proxy --seconds 90 --cert "$certs/server-chain.pem" \
        --key "$certs/server.key" --secret-file "$work/secret.hex" >"$work/node-$n.out" 2>&1 &
    srvpid[$n]=$!
    pids+=("$!")
done
for n in "${nodes[@]}"; do
    wait_for "$work/node-$n.out" '^listening on port' 200 || fail "echo_server on $n did not start"
    port[$n]=$(sed -n 's/^listening on port //p' "$work/node-$n.out")
done

# nginx in the foreground of its own scratch prefix; its worker runs as the
# default user (nobody) when we are root and needs nothing writable: the
# master opens the logs. `hash $remote_addr$remote_port consistent` keeps
# each client (address and port) on one server, and when a server is
# marked down only its clients move. nginx notices a dead server passively:
# a send that fails with "connection refused" (the ICMP answer to an
# earlier datagram) counts as a failure, and max_fails=1 takes the server
# out of the hash for fail_timeout. proxy_timeout ends nginx's mapping of a
# client that has been silent that long; the next datagram then reaches
# the server from a new nginx port, which the server does not know, so
# the session is lost: in production it must exceed the longest silence of
# a client (the keepalive interval; the server's idle timeout is 5 minutes,
# so 5 to 10 minutes there). Here clients never pause for more than a
# second, and 5 s lets nginx forget them soon after the test.
mkdir -p "$work/nginx"
start_nginx() {
    local _ npid
    for _ in 1 2 3 4 5; do
        nport=$((30000 + RANDOM % 20000))
        cat >"$work/nginx/nginx.conf" <<EOF
$load_module
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx.log info;
events { worker_connections 1024; }
stream {
    upstream echo_servers {
        hash \$remote_addr\$remote_port consistent;
        server 127.0.0.2:${port[127.0.0.2]} max_fails=1 fail_timeout=10s;
        server 127.0.0.3:${port[127.0.0.3]} max_fails=1 fail_timeout=10s;
        server 127.0.0.4:${port[127.0.0.4]} max_fails=1 fail_timeout=10s;
    }
    server {
        listen 127.0.0.1:$nport udp;
        proxy_pass echo_servers;
        proxy_timeout 5s;
    }
}
EOF
        : >"$work/nginx.log"
        timeout -k 5 90 "$nginx" -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx.log" \
            >"$work/nginx.out" 2>&1 &
        npid=$!
        # It binds before it starts its worker; a port in use ends it.
        for _ in $(seq 100); do
            grep -q 'start worker process' "$work/nginx.log" && { pids+=("$npid"); return 0; }
            kill -0 "$npid" 2>/dev/null || break
            sleep 0.05
        done
        reap "$npid"
    done
    fail "nginx did not start"
}
start_nginx

start_clients clients.out --port "$nport" --clients 50 --messages 20
wait_for "$work/clients.out" '^cluster: halfway' 600 || fail "the clients did not get halfway"
victim="" most=-1
for n in "${nodes[@]}"; do
    c=$(full_count "$work/node-$n.out" "")
    [ "$c" -gt "$most" ] && { victim=$n most=$c; }
done
kill -9 "${srvpid[$victim]}"
{ wait "${srvpid[$victim]}"; } 2>/dev/null # (no "Killed" notice)
echo "halfway: killed the echo_server on $victim (SIGKILL), which had $most of the 50 clients"
finish_clients clients.out

echo "clients per server (full handshakes / resumed handshakes):"
survivors_resumed=0
for n in "${nodes[@]}"; do
    f=$(full_count "$work/node-$n.out" "") r=$(resumed_count "$work/node-$n.out" "")
    [ "$n" = "$victim" ] && note=" (killed)" || survivors_resumed=$((survivors_resumed + r)) note=""
    echo "  $n: $f full, $r resumed$note"
done
echo "$summary"
TICKETS=$(tickets_in "$work/node-${nodes[0]}.out") || exit 1
check_failover "$most" "$survivors_resumed"
[ "$TICKETS" = no ] || [ "$survivors_resumed" -gt 0 ] || fail "no survivor saw a resumed handshake"

# What nginx made of the dead server.
refused=$(grep -c 'failed (111: Connection refused)' "$work/nginx.log")
disabled=$(grep -c 'upstream server temporarily disabled' "$work/nginx.log")
echo "nginx: $refused \"connection refused\" errors, marked the server down $disabled times"
grep -m1 'upstream server temporarily disabled' "$work/nginx.log" | sed 's/^/  /'

for n in "${nodes[@]}"; do
    [ "$n" = "$victim" ] && continue
    kill "${srvpid[$n]}" 2>/dev/null
    wait "${srvpid[$n]}"
    rc=$?
    [ $rc -eq 0 ] || fail "echo_server on $n exited with status $rc"
    sanitized "$work/node-$n.out" && fail "sanitizer report from echo_server on $n"
    grep -q '^stats:' "$work/node-$n.out" || fail "echo_server on $n did not reach its cleanup"
done
echo "cluster.sh: ${SECONDS} s"
