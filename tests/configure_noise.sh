#!/bin/sh
# configure prints no "rm: cannot remove 'core': Is a directory" (autoconf's
# and automake's `rm -f core ...` after each test meeting our core/ source
# folder; configure.ac's rm function skips it), leaves no confdefs.h behind,
# and leaves core/ alone. Checked in a copy of the source tree: configured
# in the tree, and out of it in a build folder that already has a core/
# folder (as after a first `make`: configure re-run by config.status
# --recheck or by hand).
set -u
sd=$(cd "${top_srcdir:-.}" && pwd)
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}
[ -x "$sd/configure" ] || fail "no $sd/configure"

# The sources without build products (an in-tree build, distcheck's _build and _inst,
# build/, .git); writable (distcheck's source tree is read-only).
src="$work/src"
mkdir "$src"
(cd "$sd" && tar -cf - --exclude=./build --exclude=./_build --exclude=./_inst --exclude=./.git \
    --exclude=./config.status --exclude=./config.log --exclude=./config.h \
    --exclude=./Makefile --exclude=./libtool --exclude=./stamp-h1 --exclude=./dtlskit.pc \
    --exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude=.libs --exclude=.deps \
    --exclude='dtlskit-*' .) | (cd "$src" && tar -xf -) || fail "copying the sources"
chmod -R u+w "$src"
ncore=$(ls "$src/core" | wc -l)
[ "$ncore" -gt 0 ] || fail "no core/ sources copied"
args="--with-backend=${BACKEND:-openssl}"

# check WHERE LOG: configure's output LOG, run in folder WHERE, is clean.
check() {
    if grep -n 'cannot remove\|Is a directory' "$2"; then
        fail "configure ($1) printed rm noise"
    fi
    [ ! -e "$3/confdefs.h" ] || fail "configure ($1) left confdefs.h behind"
    [ "$(ls "$src/core" | wc -l)" -eq "$ncore" ] || fail "configure ($1) touched core/"
    echo "configure ($1): no rm noise, no confdefs.h left"
}

mkdir -p "$work/o/core/.deps"
(cd "$work/o" && timeout 300 "$src/configure" $args) >"$work/oot.log" 2>&1 ||
    { tail -20 "$work/oot.log"; fail "out-of-tree configure"; }
check "out of tree, core/ present" "$work/oot.log" "$work/o"

(cd "$src" && timeout 300 ./configure $args) >"$work/in.log" 2>&1 ||
    { tail -20 "$work/in.log"; fail "in-tree configure"; }
check "in the source tree" "$work/in.log" "$src"
