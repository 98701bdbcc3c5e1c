#!/bin/sh
# No dependency cycles between the files of src/: builds the file-level
# call graph from the symbols each object file defines and uses (nm), and
# fails on any cycle, printing it. A file may call itself; two files that
# call each other, directly or through others, are a cycle.
# Usage: sh scripts/check-deps.sh OBJECT_FILE...
#    or: sh scripts/check-deps.sh "A.o;B.o;..."   (CMake's $<TARGET_OBJECTS:mlp>)
#    or: sh scripts/check-deps.sh OBJECT_FOLDER   (its *.o)
# ctest runs it as no_dependency_cycles on the objects of libmlp.so.
set -eu

if [ "$#" -eq 1 ] && [ -d "$1" ]; then
    set -- "$1"/*.o
elif [ "$#" -eq 1 ]; then
    list=$1
    IFS=';'
    set -f
    set -- $list
    set +f
    unset IFS
fi
if [ "$#" -lt 2 ] || [ ! -f "$1" ]; then
    echo "check-deps.sh: give the library's object files (or their folder)" >&2
    exit 2
fi
command -v nm > /dev/null || { echo "check-deps.sh: nm (binutils) is missing" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlp-deps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# One line per symbol: "D file symbol" where the file defines it, "U file
# symbol" where it uses one it does not define. The file is the source
# name (network.c for network.c.o).
for o in "$@"; do
    f=$(basename "$o" .o)
    nm -P "$o" | awk -v f="$f" '
        $2 == "U" { print "U", f, $1 }
        $2 ~ /^[TDBRVWCiu]$/ { print "D", f, $1 }'
done > "$tmp/symbols"

# Edges "user definer", each once, without self-edges; then a depth-first
# search that reports the first cycle it meets.
awk '
    $1 == "D" { def[$3] = $2; next }
    { use[++n] = $2 " " $3 }
    END {
        for (i = 1; i <= n; i++) {
            split(use[i], u, " ")
            if ((u[2] in def) && def[u[2]] != u[1]) {
                e = u[1] " " def[u[2]]
                if (!(e in seen)) { seen[e] = 1; print e }
            }
        }
    }' "$tmp/symbols" | sort > "$tmp/edges"

awk '
    { nodes[$1] = 1; nodes[$2] = 1; adj[$1] = adj[$1] " " $2 }
    function visit(v,    k, i, j, w, path, out) {
        state[v] = 1
        stack[++depth] = v
        k = split(adj[v], out, " ")
        for (i = 1; i <= k; i++) {
            w = out[i]
            if (state[w] == 1) {
                for (j = depth; stack[j] != w; j--) ;
                path = stack[j]
                for (j++; j <= depth; j++) path = path " -> " stack[j]
                print "cycle: " path " -> " w
                found = 1
            } else if (state[w] == 0) {
                visit(w)
            }
        }
        depth--
        state[v] = 2
    }
    END {
        for (v in nodes) if (state[v] == 0) visit(v)
        exit found ? 1 : 0
    }' "$tmp/edges" && status=0 || status=$?

files=$#
edges=$(wc -l < "$tmp/edges")
if [ "$status" -ne 0 ]; then
    echo "check-deps.sh: the files of src/ call each other in a cycle (above); break it" >&2
    exit 1
fi
echo "check-deps.sh: $files object files, $edges file-to-file calls, no cycle"
