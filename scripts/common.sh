# shellcheck shell=sh
# Shared by scripts/demo, scripts/check and scripts/bench: dependency
# installation and the autotools bootstrap. Sourced, not run.

# Debian/Ubuntu packages the project builds and tests with. nginx's UDP
# proxy is tests/cluster.sh's load balancer (the test runs its own
# instance; on a machine with systemd the package also starts the system's
# nginx on port 80). libuv1-dev builds examples/uv_echo_server; cmake builds
# tests/cmake_consumer.sh's consumer of the installed CMake package;
# doxygen the reference documentation (`make doc`).
DK_PACKAGES="build-essential autoconf automake libtool pkg-config check \
libssl-dev openssl libmbedtls-dev libwolfssl-dev libgnutls28-dev gnutls-bin valgrind \
clang libclang-rt-14-dev iproute2 libcoap3-bin nginx libnginx-mod-stream \
libuv1-dev cmake abigail-tools doxygen"

# Backends whose implementation passes the conformance suite; scripts/check
# tests each of them whose library is installed.
export DK_BACKENDS="openssl mbedtls wolfssl gnutls"

dk_root=$(cd "$(dirname "$0")/.." && pwd)
dk_jobs=$(nproc 2>/dev/null || echo 2)

dk_log() { printf '==> %s\n' "$*"; }
dk_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs whatever of DK_PACKAGES is missing, with apt-get, as root or
# through sudo. Without either, prints the command and stops.
dk_install_deps() {
    missing=""
    for p in $DK_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    command -v apt-get >/dev/null 2>&1 ||
        dk_die "missing packages:$missing — this script installs them with apt-get (Debian or Ubuntu); install them by hand elsewhere"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo="sudo"
    else
        dk_die "missing packages:$missing
run as root (or with sudo rights):  apt-get install -y$missing"
    fi
    dk_log "installing:$missing"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        dk_die "apt-get update failed"
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        dk_die "apt-get install failed for:$missing"
}

# Runs autoreconf when configure is missing or older than its sources.
dk_bootstrap() {
    cd "$dk_root" || exit 1
    if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
        dk_log "autoreconf"
        autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; dk_die "autoreconf failed"; }
    fi
}

# True when the TLS library for backend $1 is installed.
dk_backend_available() {
    case "$1" in
    openssl) pkg-config --exists 'libssl >= 3.0' ;;
    mbedtls) [ -f /usr/include/mbedtls/ssl.h ] ;;
    wolfssl) pkg-config --exists wolfssl ;;
    gnutls) pkg-config --exists 'gnutls >= 3.7' ;;
    *) return 1 ;;
    esac
}

# Configures and builds into build/$1 with backend $2 and extra configure
# arguments after that; returns non-zero (after printing the end of the
# log) when configure or make fails. A build configured with other
# arguments (CFLAGS...) is removed first: objects do not depend on the flags.
dk_try_build() {
    dir="$dk_root/build/$1"
    bname=$1 backend=$2
    shift 2
    args="--enable-werror --with-backend=$backend $*"
    if [ -d "$dir" ] && [ "$(cat "$dir/.dk-configure-args" 2>/dev/null)" != "$args" ]; then
        rm -rf "$dir"
    fi
    mkdir -p "$dir"
    if ! (cd "$dir" &&
        { { [ -f Makefile ] && [ config.status -nt "$dk_root/configure" ]; } ||
            { "$dk_root/configure" --enable-werror --with-backend="$backend" "$@" &&
                printf '%s\n' "$args" >.dk-configure-args; }; } &&
        make -j"$dk_jobs") >"$dir/build.log" 2>&1; then
        tail -40 "$dir/build.log"
        echo "build of $bname ($backend) failed; full log: $dir/build.log"
        return 1
    fi
}

# dk_try_build, or stop the script.
dk_build() {
    dk_try_build "$@" || dk_die "build of $1 failed"
}
