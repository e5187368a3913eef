#!/bin/sh
# Regenerates the hand-written test modules from their WAT sources (needs wabt's wat2wasm).
set -e
cd "$(dirname "$0")"
wat2wasm --debug-names features.wat -o features.wasm
wat2wasm --debug-names --enable-tail-call tailcall.wat -o tailcall.wasm
wat2wasm bare.wat -o bare.wasm
wat2wasm env.wat -o env.wasm
