#!/bin/sh
# Every code block of README.md announced by `<!-- excerpt: FILE -->` occurs
# in FILE line for line (a contiguous run of lines), so that README's
# examples are code the suite builds and runs, not pseudo-code that drifts.
set -eu
src="${top_srcdir:-.}"
exec awk -v src="$src" '
function check(file, n,    lines, m, i, j, ok, l) {
    m = 0
    while ((getline l < (src "/" file)) > 0)
        lines[++m] = l
    close(src "/" file)
    if (m == 0) { printf "README.md:%d: %s is missing or empty\n", start, file; bad++; return }
    for (i = 1; i + n - 1 <= m; i++) {
        ok = 1
        for (j = 1; j <= n; j++)
            if (lines[i + j - 1] != block[j]) { ok = 0; break }
        if (ok) { found++; return }
    }
    printf "README.md:%d: the block does not occur in %s as it is\n", start, file
    bad++
}
/^<!-- excerpt: .* -->$/ { want = $3; next }
want != "" && /^```c$/ { inblock = 1; n = 0; start = NR; next }
inblock && /^```$/ { check(want, n); inblock = 0; want = ""; next }
inblock { block[++n] = $0; next }
want != "" { want = "" }
END {
    if (found + bad == 0) { print "README.md has no excerpt blocks"; exit 1 }
    if (bad) exit 1
    printf "readme excerpts: %d blocks match their files\n", found
}' "$src/README.md"
