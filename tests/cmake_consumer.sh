#!/bin/sh
# The installed library works for a program that only has the installed
# tree: `make install DESTDIR=<scratch>`, then tests/cmake_consumer/ (a
# CMakeLists.txt with find_package(dtlskit) and dtlskit::dtlskit, and a
# main.c making a few API calls) is built against the staged tree:
#   1. CMake with CMAKE_PREFIX_PATH into the staged prefix; the package must
#      be found there, and the program run with LD_LIBRARY_PATH into the
#      staged libdir must load the staged library;
#   2. the same after the staged tree is moved elsewhere (dtlskit_DIR): the
#      package's paths are relative to its own location;
#   3. find_package(dtlskit 99) must fail (the version file);
#   4. pkg-config: the staged dtlskit.pc with PKG_CONFIG_SYSROOT_DIR and
#      with --define-prefix in the moved tree, compiled with the build's
#      compiler and flags, run the same way.
# Everything is compiled with the build's CC, CFLAGS and LDFLAGS, so that a
# sanitizer build links its runtime. Prints "SKIP: ..." for the CMake steps
# when cmake is not installed (the pkg-config step still runs).
set -u
bd=$(cd "${top_builddir:-.}" && pwd)
sd=$(cd "${top_srcdir:-.}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}
# A variable of the build's Makefile as configure substituted it.
mkvar() { sed -n "s/^$1 = //p" "$bd/Makefile" | head -1; }
cc=$(mkvar CC) cflags=$(mkvar CFLAGS) ldflags=$(mkvar LDFLAGS)

# The outer make's flags and jobserver are not this make's business.
stage="$work/stage"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL timeout 300 make -s -C "$bd" install \
    DESTDIR="$stage" >"$work/install.log" 2>&1 || {
    tail -30 "$work/install.log"
    fail "make install DESTDIR=$stage"
}
pc=$(find "$stage" -name dtlskit.pc -path '*/pkgconfig/*' | head -1)
cfg=$(find "$stage" -name dtlskitConfig.cmake -path '*/cmake/dtlskit/*' | head -1)
[ -n "$pc" ] || fail "no dtlskit.pc installed"
[ -n "$cfg" ] || fail "no dtlskitConfig.cmake installed"
[ -f "${cfg%/*}/dtlskitConfigVersion.cmake" ] || fail "no dtlskitConfigVersion.cmake installed"
libdir=${cfg%/cmake/dtlskit/dtlskitConfig.cmake}
prefix=$(PKG_CONFIG_PATH="${pc%/*}" pkg-config --variable=prefix dtlskit) # as configured
version=$(PKG_CONFIG_PATH="${pc%/*}" pkg-config --modversion dtlskit)
[ -d "$stage$prefix" ] || fail "staged prefix $stage$prefix missing"
ls "$libdir"/libdtlskit.so* >/dev/null 2>&1 || fail "no shared library in $libdir"

# run_consumer PROGRAM LIBDIR: runs it with LD_LIBRARY_PATH=LIBDIR; it must
# load libdtlskit from LIBDIR and succeed.
run_consumer() {
    LD_LIBRARY_PATH="$2" ldd "$1" >"$work/ldd.out" 2>&1
    grep -q "libdtlskit\.so.* => $2/libdtlskit\.so" "$work/ldd.out" ||
        { cat "$work/ldd.out"; fail "$1 does not load libdtlskit from $2"; }
    LD_LIBRARY_PATH="$2" timeout 30 "$1" >"$work/run.out" 2>&1 ||
        { cat "$work/run.out"; fail "$1 failed"; }
    cat "$work/run.out"
    grep -q "dtlskit $version, backend ${BACKEND:-}" "$work/run.out" ||
        fail "unexpected output from $1"
}

# cmake_build DIR ARGS...: configures and builds tests/cmake_consumer in DIR.
cmake_build() {
    dir=$1
    shift
    timeout 120 cmake -S "$sd/tests/cmake_consumer" -B "$dir" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
        -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON \
        -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON "$@" >"$dir.log" 2>&1 &&
        timeout 120 cmake --build "$dir" >>"$dir.log" 2>&1
}

moved="$work/moved"
if command -v cmake >/dev/null 2>&1; then
    cmake_build "$work/c1" -DCMAKE_PREFIX_PATH="$stage$prefix" ||
        { cat "$work/c1.log"; fail "CMake consumer against the staged tree"; }
    grep -q "from ${cfg%/*}\$" "$work/c1.log" ||
        { grep dtlskit "$work/c1.log"; fail "CMake found another dtlskit than the staged one"; }
    run_consumer "$work/c1/consumer" "$libdir"

    # The staged tree, moved: nothing may point back at the old place.
    mv "$stage" "$moved"
    mlibdir="$moved${libdir#"$stage"}"
    cmake_build "$work/c2" -Ddtlskit_DIR="$mlibdir/cmake/dtlskit" ||
        { cat "$work/c2.log"; fail "CMake consumer against the moved tree"; }
    run_consumer "$work/c2/consumer" "$mlibdir"
    mv "$moved" "$stage"

    cmake_build "$work/c3" -Ddtlskit_DIR="$libdir/cmake/dtlskit" -DDK_WANT_VERSION=99 &&
        fail "find_package(dtlskit 99) accepted version $version"
    grep -q 'compatible with requested version' "$work/c3.log" ||
        { cat "$work/c3.log"; fail "find_package(dtlskit 99) failed for another reason"; }
    echo "cmake: found, linked and ran against the staged and the moved tree; version 99 refused"
    cmake_skip=""
else
    cmake_skip="SKIP: cmake not installed: CMake package not tested"
fi

# pkg-config: the staged tree through a sysroot...
PKG_CONFIG_PATH="${pc%/*}" PKG_CONFIG_SYSROOT_DIR="$stage" \
    pkg-config --cflags --libs dtlskit >"$work/pc1" 2>&1 || { cat "$work/pc1"; fail "pkg-config (sysroot)"; }
grep -q -- "-I$stage" "$work/pc1" && grep -q -- "-L$stage" "$work/pc1" ||
    fail "pkg-config with PKG_CONFIG_SYSROOT_DIR does not point into the staged tree: $(cat "$work/pc1")"
# shellcheck disable=SC2046,SC2086
$cc $cflags -o "$work/pc_consumer" "$sd/tests/cmake_consumer/main.c" $(cat "$work/pc1") \
    $ldflags || fail "compiling with pkg-config --cflags --libs (sysroot)"
run_consumer "$work/pc_consumer" "$libdir"
# ... and moved, with the prefix guessed from the .pc file's place
# (--define-prefix: <prefix>/lib/pkgconfig/dtlskit.pc). Only for that
# layout: a libdir elsewhere (multiarch) cannot be guessed.
if [ "$libdir" = "$stage$prefix/lib" ]; then
    mv "$stage" "$moved"
    mpc="$moved${pc#"$stage"}"
    mlibdir="$moved${libdir#"$stage"}"
    PKG_CONFIG_PATH="${mpc%/*}" pkg-config --define-prefix --cflags --libs dtlskit \
        >"$work/pc2" 2>&1 || { cat "$work/pc2"; fail "pkg-config --define-prefix"; }
    grep -q -- "-L$mlibdir" "$work/pc2" ||
        fail "pkg-config --define-prefix does not point into the moved tree: $(cat "$work/pc2")"
    # shellcheck disable=SC2046,SC2086
    $cc $cflags -o "$work/pc_consumer2" "$sd/tests/cmake_consumer/main.c" $(cat "$work/pc2") \
        $ldflags || fail "compiling with pkg-config --define-prefix"
    run_consumer "$work/pc_consumer2" "$mlibdir"
    mv "$moved" "$stage"
fi
echo "pkg-config: compiled, linked and ran against the staged tree"
[ -z "$cmake_skip" ] || echo "$cmake_skip"
exit 0
