#!/bin/sh
# The shared library exports the public API (dk_ names) and nothing else.
set -eu
so="${top_builddir:-.}/.libs/libdtlskit.so"
[ -f "$so" ] || { echo "no $so"; exit 1; }
syms=$(nm -D --defined-only "$so" | awk '{print $3}')
bad=$(printf '%s\n' "$syms" | grep -v '^dk_[a-z0-9]' || true)
internal=$(printf '%s\n' "$syms" | grep '^dk__' || true)
if [ -n "$bad$internal" ]; then
    echo "unexpected exported symbols:"; printf '%s\n' "$bad" "$internal"; exit 1
fi
# Every function any public header declares is exported.
hdrs="${top_srcdir:-.}/include/dtlskit"
missing=0
for f in $(cat "$hdrs"/*.h |
           tr '\n' ' ' | grep -o 'DK_API [^;]*(' | grep -o 'dk_[a-z0-9_]*(' | tr -d '('); do
    printf '%s\n' "$syms" | grep -qx "$f" || { echo "declared but not exported: $f"; missing=1; }
done
[ $missing -eq 0 ] || exit 1
echo "exports: $(printf '%s\n' "$syms" | wc -l) dk_ symbols, nothing else"
