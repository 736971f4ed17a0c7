#!/bin/sh
# The shared library exports the public API (dk_ names) and nothing else,
# every symbol in a version node of abi/libdtlskit.map.
set -eu
so="${top_builddir:-.}/.libs/libdtlskit.so"
map="${top_srcdir:-.}/abi/libdtlskit.map"
[ -f "$so" ] || { echo "no $so"; exit 1; }
# nm -D prints versioned names as name@@NODE; the version-script
# definition of the node itself shows as an absolute symbol named NODE.
all=$(nm -D --defined-only "$so" | awk '$2 != "A" {print $3}')
syms=$(printf '%s\n' "$all" | sed 's/@.*//')
unversioned=$(printf '%s\n' "$all" | grep -v '@@DTLSKIT_[0-9][0-9.]*$' || true)
if [ -n "$unversioned" ]; then
    echo "exported without a DTLSKIT_ version node:"; printf '%s\n' "$unversioned"; exit 1
fi
# Names the map lists that the library does not export: a typo, or a
# function removed without the incompatible-change procedure.
for f in $(sed -n 's/^ *\(dk_[a-z0-9_]*\);.*/\1/p' "$map"); do
    printf '%s\n' "$syms" | grep -qx "$f" || { echo "abi/libdtlskit.map lists $f, which is not exported"; exit 1; }
done
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
    printf '%s\n' "$syms" | grep -qx "$f" ||
        { echo "declared but not exported: $f (DK_API, and a line in abi/libdtlskit.map)"; missing=1; }
done
[ $missing -eq 0 ] || exit 1
echo "exports: $(printf '%s\n' "$syms" | wc -l) dk_ symbols, nothing else"
