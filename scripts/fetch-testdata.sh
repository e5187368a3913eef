#!/usr/bin/env bash
# Fetches the real test data sets from Debian's packages into .cache/testdata/<package>/.
# Nothing fetched here is committed: the folder is ignored by git.
# Usage: scripts/fetch-testdata.sh [package ...]   (default: all of them)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${EDGENOME_TESTDATA:-$root/.cache/testdata}
pkgs=("$@")
[[ ${#pkgs[@]} -gt 0 ]] || pkgs=(htslib-test python-pysam-tests abacas-examples gasic-examples)
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for p in "${pkgs[@]}"; do
  if [[ -f $dest/$p/.complete ]]; then continue; fi
  ( cd "$work" && apt-get download "$p" >/dev/null 2>&1 ) || {
    # apt's lists may be missing on a fresh machine; refresh once and retry.
    apt-get update >/dev/null 2>&1 || true
    ( cd "$work" && apt-get download "$p" )
  }
  rm -rf "${dest:?}/$p"
  mkdir -p "$dest/$p"
  dpkg -x "$work"/"$p"_*.deb "$dest/$p"
  touch "$dest/$p/.complete"
  echo "fetched $p into $dest/$p"
done
