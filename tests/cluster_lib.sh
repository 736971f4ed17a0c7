# shellcheck shell=bash
# Shared by tests/cluster.sh and tests/workers.sh (sourced): interop_lib.sh's
# scratch folder and reaping, a failure report that shows the tail of every
# log, and cluster_client run in the background with a kill at its halfway
# mark. Every process started here is bounded by its own time limit
# (echo_server --seconds, cluster_client --max-seconds) or by `timeout`,
# and reaped at exit.
# shellcheck disable=SC2034 # used by the scripts that source this
b="${top_builddir:-.}/examples"
t="${top_builddir:-.}/tests"
certs="${top_srcdir:-.}/tests/certs"
# shellcheck source=tests/interop_lib.sh
. "${top_srcdir:-.}/tests/interop_lib.sh"

# The logs are long (every echo is a line): their ends say what happened.
fail() {
    local f
    echo "FAIL: $*"
    for f in "$work"/*.out "$work"/*.log; do
        [ -f "$f" ] || continue
        echo "--- last 40 lines of $f"
        tail -n 40 "$f"
    done
    exit 1
}

# The secret every server derives its cookie and ticket keys from: 32
# random bytes in hex, readable by its owner only (the library refuses it
# otherwise).
make_secret() { # FILE
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$1" && echo >>"$1")
}

# Handshakes in an echo_server log, lines starting with PREFIX ("" or
# "worker 1: "): full ones and resumed ones.
full_count() { grep "^$2handshake done: " "$1" | grep -vc ', resumed$'; }
resumed_count() { grep -c "^$2handshake done: .*, resumed\$" "$1"; }

# start_clients OUT ARGS...: cluster_client in the background, holding at
# its halfway mark until SIGUSR1 (or 20 s), with its own 60 s limit (not
# `timeout`, which SIGUSR1 would kill). Sets $cpid.
start_clients() {
    local out=$1
    shift
    "$t/cluster_client" --ca "$certs/ca.pem" --hostname localhost --hold-ms 20000 \
        --max-seconds 60 "$@" >"$work/$out" 2>&1 &
    cpid=$!
    pids+=("$cpid")
}

# finish_clients OUT: lets the clients go on after the halfway mark and
# waits for them; fails unless they exited 0. Sets $summary, the final line.
finish_clients() {
    local rc
    kill -USR1 "$cpid" 2>/dev/null
    wait "$cpid"
    rc=$?
    summary=$(grep '^cluster: clients=' "$work/$1")
    [ $rc -eq 0 ] || fail "cluster_client exited with status $rc: ${summary:-no summary}"
    sanitized "$work/$1" && fail "sanitizer report from cluster_client"
    return 0
}

# field NAME: a number of the clients' summary line ("resumed=17" -> 17).
field() { printf '%s\n' "$summary" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

# check_failover KILLED_SESSIONS SERVER_RESUMED: the clients' counts after
# a server with KILLED_SESSIONS clients died: each of those clients (at
# least) failed over, every reconnection completed and resumed, and the
# servers saw at least as many resumed handshakes (SERVER_RESUMED).
# KILLED_SESSIONS is what the server logged as completed; a client whose
# side of such a handshake timed out (a slow sanitizer build) gave it up and
# tried again, possibly on another server: each failed attempt the clients
# report may stand for one such session, which had no client to fail over.
# With TICKETS=no (a backend without DK_CAP_TICKETS, see tickets_in) every
# reconnection is a full handshake instead, and nobody resumed.
check_failover() {
    local failovers reconnected resumed full abandoned
    failovers=$(field failovers) reconnected=$(field reconnected) resumed=$(field resumed)
    full=$(field full_after_failover) abandoned=$(field failed_attempts)
    [ "$failovers" -ge $(($1 - abandoned)) ] ||
        fail "$failovers failovers, but the dead server had $1 clients ($abandoned attempts abandoned)"
    [ "$reconnected" -ge "$failovers" ] || fail "$failovers failovers, $reconnected reconnected"
    if [ "${TICKETS:-yes}" = no ]; then
        [ "$full" -eq "$reconnected" ] || fail "$reconnected reconnected, $full full handshakes"
        [ "$resumed" -eq 0 ] && [ "$2" -eq 0 ] ||
            fail "resumed without session tickets (clients $resumed, servers $2)"
        return 0
    fi
    [ "$full" -eq 0 ] || fail "$full reconnections were full handshakes, not resumptions"
    [ "$resumed" -eq "$reconnected" ] || fail "$reconnected reconnected, $resumed resumed"
    [ "$2" -ge "$resumed" ] || fail "the clients resumed $resumed times, the servers saw $2"
}

