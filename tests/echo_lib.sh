# shellcheck shell=sh
# Shared by tests/dtls_echo.sh and tests/udp_echo.sh (sourced): a scratch
# folder, the server's output file, failing with that output shown, and
# stopping the server (if still running) at exit. Set $server_name first.
work=$(mktemp -d)
out="$work/server.out"
srv=""
fail() {
    echo "FAIL: $*"
    [ -f "$out" ] && { echo "--- ${server_name:-server} output"; cat "$out"; }
    exit 1
}
cleanup() {
    [ -n "$srv" ] && { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; }
    rm -rf "$work"
}
trap cleanup EXIT

# sanitized FILE: true when FILE holds a sanitizer report.
sanitized() { grep -qE '(ERROR|SUMMARY): [A-Za-z]*Sanitizer|runtime error:' "$1"; }
