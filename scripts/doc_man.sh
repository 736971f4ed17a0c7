#!/bin/sh
# Makes the man pages Doxygen wrote into DIR (doc/man/man3, `make doc`) fit
# a shared man3 folder.
#
#   scripts/doc_man.sh DIR
set -u
# Doxygen names the headers' pages after the bare file name (error.h.3) and
# links every struct member's name (x.3, size.3) to its struct's page: names
# that would clash with other packages' pages. The headers' pages become
# dtlskit_<header>.3 (the links follow), and the links and pages whose name
# does not start with dk_ or DK_ are removed (struct members stay documented
# in their struct's page; docs/*.md are in the HTML).
dir=${1:?usage: scripts/doc_man.sh DIR}
[ -d "$dir" ] || { echo "doc_man: no folder $dir" >&2; exit 1; }
for f in "$dir"/*.h.3; do
    [ -f "$f" ] || continue
    mv "$f" "$dir/dtlskit_${f##*/}" || exit 1
done
for f in "$dir"/*.3; do
    n=${f##*/}
    case $n in
    dk_* | DK_* | dtlskit_*.h.3) ;;
    *) rm -f "$f"; continue ;;
    esac
    if head -1 "$f" | grep -q '^\.so man3/[^/]*\.h\.3$'; then
        sed '1s|^\.so man3/|.so man3/dtlskit_|' "$f" >"$f.tmp" && mv "$f.tmp" "$f" || exit 1
    fi
done
