#!/bin/bash
# Cross-implementation matrix: the echo_server of every dtlskit build against
# the echo_client of every build, and each build against the real peers
# `openssl s_server/s_client -dtls1_2` and `gnutls-serv/gnutls-cli --udp`.
# Each cell is a verified handshake (test CA, host name "localhost") and three
# echoed messages; a dtlskit client then connects again and must resume its
# session with the server's ticket (RFC 5077), except with a server that
# issues none (the gnutls backend's: GnuTLS has no hook to seal tickets with
# the core's keys), where the second connection completes either way and
# the cell reads "ok/full" when it was a full handshake. A dtlskit
# echo_server is stopped with SIGTERM after each cell and must exit 0 with
# no sanitizer report, as must echo_client; the openssl and gnutls tools
# run under `timeout` and are killed and reaped (their exit status is not
# checked). Prints the matrix as a table; exits 1 when a cell fails.
#
# With --psk every cell authenticates with a pre-shared key instead (RFC
# 4279): PSK-only servers (`s_server -nocert -psk`, `gnutls-serv
# --pskpasswd`), PSK clients (`s_client -psk`, `gnutls-cli --pskusername`,
# plain PSK only: gnutls-cli 3.7.9 crashes after an ECDHE-PSK handshake).
#
#   tests/interop_matrix.sh [--psk] build/openssl build/mbedtls build/wolfssl build/gnutls
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
certs="$root/tests/certs"
psk=no
[ "${1:-}" = --psk ] && { psk=yes; shift; }
psk_id=matrix-dev
psk_key=8f1e2d3c4b5a69788796a5b4c3d2e1f0
builds=("$@")
[ ${#builds[@]} -gt 0 ] || { echo "usage: $0 BUILD_DIR..."; exit 2; }
work=$(mktemp -d)
pids=()  # third-party servers and coprocess readers: killed and reaped
dk_srv="" # the dtlskit echo_server of the current cell
# reap PID...: SIGTERM, then wait (each is bounded by `timeout`).
reap() {
    local p
    for p in "$@"; do kill "$p" 2>/dev/null; done
    for p in "$@"; do wait "$p" 2>/dev/null; done
}
cleanup() {
    exec 3>&- 4<&- 5>&-
    reap "${pids[@]}" $dk_srv
    rm -rf "$work"
}
trap cleanup EXIT
sanitized() { grep -qE '(ERROR|SUMMARY): [A-Za-z]*Sanitizer|runtime error:' "$1"; }

have_openssl=no; command -v openssl >/dev/null && have_openssl=yes
have_gnutls=no; command -v gnutls-serv >/dev/null && command -v gnutls-cli >/dev/null && have_gnutls=yes

wait_for() { # file pattern tries
    local i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ "$i" -lt "$3" ] || return 1
        sleep 0.05
    done
}
free_port() { echo $((20000 + (RANDOM * 7 + $$) % 40000)); }

# issues_tickets SERVER: whether the server of this cell sends RFC 5077
# tickets: the tools do; a dtlskit echo_server says in its log whether its
# backend can (DK_CAP_TICKETS; tickets_in in interop_lib.sh).
issues_tickets() {
    case "$1" in
    s_server | gnutls-serv) return 0 ;;
    esac
    grep -q 'session tickets: supported$' "$work/server.log"
}

# start_server KIND -> sets $port (and $newline for line-oriented servers);
# returns non-zero when the server did not come up.
start_server() {
    local kind=$1 log="$work/server.log"
    : >"$log"
    newline=""
    case "$kind" in
    s_server)
        for _ in 1 2 3; do
            port=$(free_port)
            local auth=(-cert "$certs/server.pem" -cert_chain "$certs/int.pem" -key "$certs/server.key")
            [ $psk = yes ] && auth=(-nocert -psk "$psk_key" -psk_identity "$psk_id")
            coproc SRV { exec timeout -k 5 60 openssl s_server -dtls1_2 -accept "127.0.0.1:$port" \
                "${auth[@]}" 2>&1; }
            local spid=$SRV_PID rd
            exec 4<&"${SRV[0]}" 5>&"${SRV[1]}"
            ( while IFS= read -r line <&4; do
                  printf '%s\n' "$line" >>"$log"
                  case "$line" in *"interop #"*) printf 'interop #%s\n' "${line##*interop #}" >&5 ;; esac
              done ) &
            rd=$!
            newline="--newline"
            if wait_for "$log" ACCEPT 100; then pids+=("$spid" "$rd"); return 0; fi
            exec 4<&- 5>&-
            reap "$spid" "$rd"
        done
        return 1 ;;
    gnutls-serv)
        for _ in 1 2 3; do
            port=$(free_port)
            local auth=(--x509certfile "$certs/server-chain.pem" --x509keyfile "$certs/server.key")
            if [ $psk = yes ]; then
                printf '%s:%s\n' "$psk_id" "$psk_key" >"$work/pskpasswd"
                auth=(--pskpasswd "$work/pskpasswd" --priority 'NORMAL:+ECDHE-PSK:+PSK')
            fi
            timeout -k 5 60 gnutls-serv --udp --echo -p "$port" "${auth[@]}" >"$log" 2>&1 &
            local gpid=$!
            if wait_for "$log" "listening on IPv4" 100; then pids+=("$gpid"); return 0; fi
            reap "$gpid"
        done
        return 1 ;;
    *)
        # --foreground: timeout signals echo_server alone, not its process
        # group (LeakSanitizer's tracer would die of a SIGTERM).
        local auth=(--cert "$certs/server-chain.pem" --key "$certs/server.key")
        [ $psk = yes ] && auth=(--psk "$psk_key" --psk-identity "$psk_id")
        timeout --foreground -k 10 90 "$kind/examples/echo_server" --port 0 --seconds 60 \
            --bind 127.0.0.1 "${auth[@]}" >"$log" 2>&1 &
        dk_srv=$!
        wait_for "$log" '^listening on port' 200 || return 1
        port=$(sed -n 's/^listening on port //p' "$log") ;;
    esac
}

# stop_servers: kills and reaps the cell's servers; fails (with the reason
# at the end of the server log) when the dtlskit echo_server did not exit 0
# or printed a sanitizer report.
stop_servers() {
    local rc=0 log="$work/server.log"
    exec 4<&- 5>&-
    reap "${pids[@]}"
    pids=()
    [ -n "$dk_srv" ] || return 0
    kill "$dk_srv" 2>/dev/null
    wait "$dk_srv" || rc=$?
    dk_srv=""
    if [ $rc -ne 0 ]; then
        echo "echo_server exited with status $rc" >>"$log"
        return 1
    fi
    if sanitized "$log"; then
        echo "sanitizer report from echo_server" >>"$log"
        return 1
    fi
}

# line_client READY_PATTERN COMMAND...: runs a line-oriented client (stdin to
# the server, server data to stdout), waits for its handshake, then sends
# three lines and expects each echoed.
line_client() {
    local ready=$1 out="$work/client.log" i cl
    shift
    rm -f "$work/in"
    mkfifo "$work/in"
    timeout -k 5 20 "$@" <"$work/in" >"$out" 2>&1 &
    cl=$!
    exec 3>"$work/in"
    local ok=0
    if wait_for "$out" "$ready" 200; then
        ok=1
        for i in 0 1 2; do
            printf 'interop #%d\n' "$i" >&3
            wait_for "$out" "^interop #$i" 100 || { ok=0; break; }
        done
    fi
    exec 3>&-
    [ $ok = 1 ] || kill $cl 2>/dev/null
    wait $cl 2>/dev/null
    [ $ok = 1 ]
}

# run_client KIND SERVER: three verified echoes against 127.0.0.1:$port;
# sets $resumed (yes, no, or "" for a client that does not try).
run_client() {
    resumed=""
    if [ $psk = yes ]; then
        case "$1" in
        s_client)
            line_client 'Cipher is ' openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
                -psk "$psk_key" -psk_identity "$psk_id" ;;
        gnutls-cli)
            line_client 'Handshake was completed' gnutls-cli --udp --priority 'NORMAL:+PSK' \
                --pskusername "$psk_id" --pskkey "$psk_key" -p "$port" 127.0.0.1 ;;
        *)
            timeout --foreground -k 5 60 "$1/examples/echo_client" --host 127.0.0.1 --port "$port" \
                --psk "$psk_key" --psk-identity "$psk_id" --message interop $newline --count 3 \
                --timeout 15 >"$work/client.log" 2>&1 || return 1
            ! sanitized "$work/client.log" ;;
        esac
        return
    fi
    case "$1" in
    s_client)
        line_client 'Verify return code: 0' openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
            -CAfile "$certs/ca.pem" -verify_return_error -verify_hostname localhost \
            -servername localhost ;;
    gnutls-cli)
        line_client 'Handshake was completed' gnutls-cli --udp --x509cafile "$certs/ca.pem" \
            -p "$port" localhost ;;
    *)
        # Twice: the second connection resumes the first one's session (a
        # ticket is opaque to the client: any server may have issued it).
        timeout --foreground -k 5 60 "$1/examples/echo_client" --host 127.0.0.1 --port "$port" \
            --ca "$certs/ca.pem" --hostname localhost --message interop $newline --count 3 \
            --timeout 15 --resume >"$work/client.log" 2>&1 || return 1
        if grep -q '^resumed$' "$work/client.log"; then
            resumed=yes
        elif ! issues_tickets "$2" && grep -q '^full handshake$' "$work/client.log"; then
            resumed=no
        else
            echo "no resumption" >>"$work/client.log"
            return 1
        fi
        ! sanitized "$work/client.log" ;;
    esac
}

label() {
    case "$1" in
    s_server | s_client | gnutls-serv | gnutls-cli) echo "$1" ;;
    *) basename "$1" ;;
    esac
}

servers=("${builds[@]}")
clients=("${builds[@]}")
[ $have_openssl = yes ] && { servers+=(s_server); clients+=(s_client); }
[ $have_gnutls = yes ] && { servers+=(gnutls-serv); clients+=(gnutls-cli); }
external() { case "$1" in s_server | s_client | gnutls-serv | gnutls-cli) return 0 ;; esac; return 1; }

failures=0 cells=0
declare -A result
for s in "${servers[@]}"; do
    for c in "${clients[@]}"; do
        if external "$s" && external "$c"; then
            result["$s|$c"]="-"; continue
        fi
        cells=$((cells + 1))
        ok=yes resumed=""
        start_server "$s" && run_client "$c" "$s" || ok=no
        stop_servers || ok=no
        if [ $ok = yes ]; then
            result["$s|$c"]="ok"
            [ "$resumed" = no ] && result["$s|$c"]="ok/full"
        else
            result["$s|$c"]="FAIL"
            failures=$((failures + 1))
            echo "--- FAIL: server $(label "$s") / client $(label "$c")"
            tail -n 15 "$work/server.log" "$work/client.log" 2>/dev/null
        fi
    done
done

echo
printf '%-14s' 'server\client'
for c in "${clients[@]}"; do printf ' %-11s' "$(label "$c")"; done
echo
for s in "${servers[@]}"; do
    printf '%-14s' "$(label "$s")"
    for c in "${clients[@]}"; do printf ' %-11s' "${result["$s|$c"]}"; done
    echo
done
[ $have_openssl = yes ] || echo "SKIP: openssl command not installed"
[ $have_gnutls = yes ] || echo "SKIP: gnutls-bin not installed"
echo "interop$([ $psk = yes ] && echo ' (PSK)'): $((cells - failures)) passed, $failures failed"
[ $failures -eq 0 ]
