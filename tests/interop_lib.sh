# shellcheck shell=bash
# Shared by tests/interop_openssl.sh, interop_psk.sh, interop_resume.sh and
# cluster_lib.sh (sourced): a scratch folder, third-party servers and
# readers that are killed and reaped at exit, failing with every output
# shown, and the openssl s_server / gnutls-serv start-up each script needs.
work=$(mktemp -d)
pids=() # third-party processes and coprocess readers: killed and reaped
# reap PID...: SIGTERM, then wait (each is bounded by `timeout`).
reap() {
    local p
    for p in "$@"; do kill "$p" 2>/dev/null; done
    for p in "$@"; do wait "$p" 2>/dev/null; done
}
cleanup() {
    exec 3>&- 4<&- 5>&-
    reap "${pids[@]}"
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.out; do echo "--- $f"; cat "$f"; done; exit 1; }
sanitized() { grep -qE '(ERROR|SUMMARY): [A-Za-z]*Sanitizer|runtime error:' "$1"; }
wait_for() { # file pattern tries
    local i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ "$i" -lt "$3" ] || return 1
        sleep 0.05
    done
}

# start_s_server ARGS...: `openssl s_server -dtls1_2` with ARGS (its
# credentials) on a random port of 127.0.0.1, which takes no port 0: a few
# ports are tried, each failed attempt killed and reaped. A reader echoes
# the lines "echo me #N" it prints back through the coprocess (s_server
# writes what it receives and sends what it reads). Sets $sport; its output
# goes to $work/s_server.out. stop_third_party ends it.
start_s_server() {
    local _ spid rd
    for _ in 1 2 3 4 5; do
        sport=$((30000 + RANDOM % 20000))
        : >"$work/s_server.out"
        coproc SRV { exec timeout -k 5 30 openssl s_server -dtls1_2 -accept "127.0.0.1:$sport" \
            "$@" 2>&1; }
        spid=$SRV_PID
        exec 4<&"${SRV[0]}" 5>&"${SRV[1]}"
        (
            while IFS= read -r line <&4; do
                printf '%s\n' "$line" >>"$work/s_server.out"
                case "$line" in *"echo me #"*) printf '%s\n' "${line##*echo me}" | sed 's/^/echo me/' >&5 ;; esac
            done
        ) &
        rd=$!
        pids=("$spid" "$rd")
        wait_for "$work/s_server.out" ACCEPT 100 && return 0
        exec 4<&- 5>&-
        reap "$spid" "$rd"
        pids=()
    done
    fail "s_server did not start"
}

# start_gnutls_serv ARGS...: `gnutls-serv --udp --echo` with ARGS on a
# random port; sets $gport; output in $work/gnutls-serv.out.
start_gnutls_serv() {
    local _ gpid
    for _ in 1 2 3; do
        gport=$((30000 + RANDOM % 20000))
        timeout -k 5 30 gnutls-serv --udp --echo -p "$gport" "$@" >"$work/gnutls-serv.out" 2>&1 &
        gpid=$!
        pids=("$gpid")
        # "listening on IPv4 ... port P...done", or "...bind() failed" when
        # the random port is taken (it is in the kernel's ephemeral range,
        # where other tests' sockets live): then another port.
        wait_for "$work/gnutls-serv.out" 'listening on IPv4.*\(done\|failed\)' 100 &&
            grep -q 'listening on IPv4.*done' "$work/gnutls-serv.out" && return 0
        reap "$gpid"
        pids=()
    done
    fail "gnutls-serv did not start"
}

stop_third_party() {
    exec 4<&- 5>&-
    reap "${pids[@]}"
    pids=()
}

# tickets_in LOG: "yes" when the echo_server that wrote LOG says its backend
# seals session tickets (DK_CAP_TICKETS), "no" when it says it cannot; fails
# when LOG says neither.
tickets_in() {
    if grep -q 'session tickets: supported$' "$1"; then
        echo yes
    elif grep -q 'session tickets: not supported by this backend$' "$1"; then
        echo no
    else
        fail "$1 does not say whether the server has session tickets"
    fi
}
