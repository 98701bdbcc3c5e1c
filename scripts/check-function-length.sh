#!/bin/sh
# Lists every function in src/ and tools/ longer than 80 lines from its
# opening to its closing brace, and exits 1 if there is any (2 if pmccabe,
# Debian's package of the same name, is missing). pmccabe finds each
# function and its last line; the opening brace is the first "{" from the
# line pmccabe names, so a signature over several lines does not count.
# Usage: scripts/check-function-length.sh [MAX]   (MAX defaults to 80)
set -eu
max=${1:-80}
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v pmccabe >/dev/null 2>&1; then
  echo "check-function-length: pmccabe is not installed (apt-get install pmccabe)" >&2
  exit 2
fi
cd "$root"
files=$(find src tools -name '*.[ch]' | LC_ALL=C sort)
[ -n "$files" ] || { echo "check-function-length: no sources under src/ or tools/" >&2; exit 2; }

# pmccabe columns (tab-separated; see pmccabe -v): modified and plain
# cyclomatic complexity, statements, first line, lines, "file(line): name".
# shellcheck disable=SC2086
pmccabe $files | awk -F '\t' -v max="$max" '
function load(file,    line, n) {
    delete text
    n = 0
    while ((getline line < file) > 0) text[++n] = line
    close(file)
    loaded = file
}
{
    where = $6
    file = where; sub(/\([0-9]+\):.*$/, "", file)
    name = where; sub(/^[^:]*: */, "", name)
    first = $4 + 0; last = first + $5 - 1
    if (file != loaded) load(file)
    open = first
    while (open < last && index(text[open], "{") == 0) open++
    span = last - open + 1
    checked++
    if (span > max) {
        printf "%s:%d: %s is %d lines from { to } (limit %d)\n", file, open, name, span, max
        over++
    }
}
END {
    if (over) {
        printf "check-function-length: %d of %d functions exceed %d lines\n", over, checked, max
        exit 1
    }
    printf "check-function-length: all %d functions in src/ and tools/ within %d lines\n", checked, max
}'
