#!/bin/sh
# Runs every fuzz test of the module for FUZZTIME each (default 30s); the
# seed corpora alone already run in `make test`. Stops at the first failure,
# whose input Go saves under the package's testdata/fuzz.
set -e
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
	dir=$(dirname "$file")
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "== $dir $name ($FUZZTIME)"
		go test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "$dir"
	done
done
