#!/bin/sh
# The public ABI of the library just built equals the baseline committed for
# its soname (abi/<soname>.abi, written by `make abi-baseline`). Any
# difference fails: an incompatible one (a function removed or changed, a
# type changed) needs a new soname and a new baseline (docs/RELEASING.md);
# any other (functions added, an enum value changed) needs the baseline
# refreshed in the same change, so that the next incompatible change is
# measured against what was really released.
#
#   tests/abi.sh            the check (in TESTS)
#   tests/abi.sh --write    writes the baseline instead (make abi-baseline)
set -eu
so="${top_builddir:-.}/.libs/libdtlskit.so"
src="${top_srcdir:-.}"
[ -f "$so" ] || { echo "no $so"; exit 1; }
command -v abidw >/dev/null 2>&1 && command -v abidiff >/dev/null 2>&1 ||
    { echo "SKIP: abigail-tools (abidw, abidiff) not installed"; exit 77; }
soname=$(objdump -p "$so" | sed -n 's/^ *SONAME *//p')
[ -n "$soname" ] || { echo "no SONAME in $so"; exit 1; }
base="$src/abi/$soname.abi"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Exported interfaces only, types outside the public headers opaque, no
# source locations, ids from type hashes: the file changes only when the
# interface does, and is the same for every backend.
abidw --no-corpus-path --no-comp-dir-path --no-show-locs --type-id-style hash \
    --exported-interfaces-only --headers-dir "$src/include/dtlskit" --drop-private-types \
    --out-file "$tmp/built.abi" "$so"
if [ "${1:-}" = "--write" ]; then
    cp "$tmp/built.abi" "$base"
    echo "wrote abi/$soname.abi"
    exit 0
fi

# abidiff's exit status is a bit set: 1 error, 2 usage, 4 ABI change,
# 8 incompatible ABI change. Prints the verdict; returns 0 only for "same".
verdict() {
    set +e
    abidiff "$1" "$2" >"$3" 2>&1
    rc=$?
    set -e
    if [ $((rc & 3)) -ne 0 ]; then
        echo "abidiff failed ($rc)"; return 2
    elif [ $((rc & 8)) -ne 0 ]; then
        echo "incompatible"; return 1
    elif [ $((rc & 4)) -ne 0 ]; then
        echo "changed"; return 1
    fi
    echo "same"
}

# The check itself must notice an incompatible change: a copy of the
# baseline that still has a function this build lacks (as if it had been
# removed since the release) has to come out "incompatible".
if [ -f "$base" ]; then
    sed -e "s/name='dk_free'/name='dk_zz_removed'/g" \
        -e "s/mangled-name='dk_free'/mangled-name='dk_zz_removed'/g" \
        -e "s/elf-symbol-id='dk_free'/elf-symbol-id='dk_zz_removed'/g" \
        -e "s/id='dk_free'/id='dk_zz_removed'/g" "$base" >"$tmp/copy.abi"
    # Both the real dk_free and the fake one: put the real entries back.
    grep -q "dk_zz_removed" "$tmp/copy.abi" || { echo "self-test: could not edit the copy"; exit 1; }
    awk -v base="$base" 'BEGIN { while ((getline l < base) > 0) if (l ~ /name=.dk_free./) keep[++n] = l }
        { print } /<elf-function-symbols>/ { for (i = 1; i <= n; i++) if (keep[i] ~ /elf-symbol /) print keep[i] }' \
        "$tmp/copy.abi" >"$tmp/copy2.abi"
    v=$(verdict "$tmp/copy2.abi" "$tmp/built.abi" "$tmp/self.txt") || true
    if [ "$v" != "incompatible" ]; then
        echo "self-test: a removed function was not reported as incompatible (got: $v)"
        cat "$tmp/self.txt"
        exit 1
    fi
fi

if [ ! -f "$base" ]; then
    echo "no ABI baseline for $soname (abi/$soname.abi): a new soname needs one;"
    echo "run 'make abi-baseline' and commit it (docs/RELEASING.md)"
    exit 1
fi
v=$(verdict "$base" "$tmp/built.abi" "$tmp/diff.txt") || true
case $v in
same) echo "abi: $soname matches abi/$soname.abi ($(grep -c '<elf-symbol ' "$tmp/built.abi") symbols)" ;;
incompatible)
    cat "$tmp/diff.txt"
    echo "INCOMPATIBLE ABI change against abi/$soname.abi: bump -version-info current (age 0) in"
    echo "configure.ac, then 'make abi-baseline' for the new soname, in the same change (docs/RELEASING.md)"
    exit 1 ;;
changed)
    cat "$tmp/diff.txt"
    echo "ABI changed against abi/$soname.abi (abidiff does not call it incompatible, but it"
    echo "calls a renumbered enum value compatible too: read the report). Added only: refresh the"
    echo "baseline with 'make abi-baseline' in the same change. Anything a program built against"
    echo "the baseline would now misread: handle it as incompatible (docs/RELEASING.md)."
    exit 1 ;;
*) cat "$tmp/diff.txt"; exit 1 ;;
esac
