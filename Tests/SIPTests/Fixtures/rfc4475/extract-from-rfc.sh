#!/usr/bin/env bash
# Extracts the bit-exact RFC 4475 test messages (Appendix B: a base64-encoded gzip'ed tar)
# from the RFC's text into this folder, replacing the transcribed files.
# Usage: extract-from-rfc.sh rfc4475.txt
set -euo pipefail
rfc=${1:?usage: $0 rfc4475.txt}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The archive lines sit between the "begin" marker paragraph of Appendix B and the end of
# the appendix; they are the only lines made of base64 characters alone, 60+ long.
awk '/^Appendix B/ {on=1} on && /^ *[A-Za-z0-9+\/=]{60,} *$/ {gsub(/ /, ""); print}' "$rfc" >"$work/archive.b64"
base64 -d "$work/archive.b64" >"$work/archive.tgz"
tar -xzf "$work/archive.tgz" -C "$work"
find "$work" -name '*.dat' -exec cp {} "$here"/ \;
ls "$here"/*.dat | wc -l
