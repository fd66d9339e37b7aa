#!/usr/bin/env bash
# Proves check_layering.sh catches a violation: algorithms/ including models/ must fail.
set -eu
here=$(dirname "$(readlink -f "$0")")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for l in core models algorithms distributed sandbox rewards agents trainer apps; do mkdir -p "$tmp/$l"; done
echo '#include "core/error.h"' > "$tmp/algorithms/ok.cpp"
"$here/check_layering.sh" "$tmp" >/dev/null || { echo "clean tree reported as violating"; exit 1; }
echo '#include "models/transformer.h"' > "$tmp/algorithms/bad.cpp"
if "$here/check_layering.sh" "$tmp"; then echo "violation not detected"; exit 1; fi
echo "violation detected as expected"
