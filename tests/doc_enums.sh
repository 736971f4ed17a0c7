#!/bin/sh
# Every enumerator of the public headers carries a doc comment: a trailing
# `/**< ... */`, a `/** ... */` block just before it, or a `@var NAME` block
# in the same header. Doxygen documents enumerators without warning about
# the undocumented ones, so `make doc` (which runs this first) and the test
# suite check them here.
#
#   tests/doc_enums.sh [HEADER...]   default: include/dtlskit/*.h but backend.h
set -u
if [ $# -eq 0 ]; then
    src=${top_srcdir:-$(dirname "$0")/..}
    for h in "$src"/include/dtlskit/*.h; do
        [ "${h##*/}" = backend.h ] || set -- "$@" "$h"
    done
fi
[ $# -gt 0 ] || { echo "doc_enums: no headers" >&2; exit 1; }
status=0 total=0
for h in "$@"; do
    # The header is read twice: the first pass collects the @var names.
    out=$(awk '
    function scan(code,   c, tok) {
        while (length(code) > 0) {
            if (match(code, /^[ \t]+/)) { code = substr(code, RLENGTH + 1); continue }
            if (match(code, /^[A-Za-z_][A-Za-z0-9_]*/)) {
                tok = substr(code, 1, RLENGTH); code = substr(code, RLENGTH + 1)
                if (in_enum && expect) {
                    names[++n] = tok; where[tok] = FNR; last = tok; expect = 0
                    if (predoc) documented[tok] = 1
                } else if (tok == "enum") saw_enum = 1
                predoc = 0
                continue
            }
            c = substr(code, 1, 1); code = substr(code, 2)
            if (c == "{" && saw_enum) { in_enum = 1; expect = 1; saw_enum = 0 }
            else if (c == "}") { in_enum = 0; last = "" }
            else if (c == "," && in_enum) expect = 1
            else if (c == ";") saw_enum = 0
            predoc = 0
        }
    }
    FNR == NR {
        s = $0
        while (match(s, /@var[ \t]+[A-Za-z_][A-Za-z0-9_]*/)) {
            v = substr(s, RSTART, RLENGTH); sub(/^@var[ \t]+/, "", v); var[v] = 1
            s = substr(s, RSTART + RLENGTH)
        }
        next
    }
    {
        line = $0
        while (length(line) > 0) {
            if (incomment) {
                p = index(line, "*/")
                if (p == 0) break
                line = substr(line, p + 2); incomment = 0
                if (cdoc) predoc = 1
                continue
            }
            p = index(line, "/*")
            if (p == 0) { scan(line); break }
            scan(substr(line, 1, p - 1))
            rest = substr(line, p)
            if (substr(rest, 1, 4) == "/**<") { if (last != "") documented[last] = 1; cdoc = 0 }
            else cdoc = (substr(rest, 1, 3) == "/**")
            incomment = 1; line = substr(rest, 3)
        }
    }
    END {
        bad = 0
        for (i = 1; i <= n; i++)
            if (!documented[names[i]] && !var[names[i]]) {
                printf "%s:%d: enumerator %s has no doc comment\n", FILENAME, where[names[i]], names[i]
                bad++
            }
        printf "total %d %d\n", n, bad
    }' "$h" "$h")
    printf '%s\n' "$out" | grep -v '^total ' || true
    n=$(printf '%s\n' "$out" | sed -n 's/^total \([0-9]*\) [0-9]*$/\1/p')
    bad=$(printf '%s\n' "$out" | sed -n 's/^total [0-9]* \([0-9]*\)$/\1/p')
    [ -n "$n" ] || { echo "doc_enums: $h: awk failed" >&2; status=1; continue; }
    total=$((total + n))
    [ "$bad" -eq 0 ] || status=1
done
if [ $status -eq 0 ]; then
    echo "doc_enums: $total enumerators, every one documented"
else
    echo "doc_enums: undocumented enumerators (add /**< ... */ after each)" >&2
fi
exit $status
