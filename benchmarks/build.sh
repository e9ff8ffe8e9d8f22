#!/usr/bin/env bash
# Compile every benchmarks/c/NAME.c to benchmarks/wasm/NAME.wasm exporting the function NAME.
# No libc: memory is the module's own static arrays; bulk memory lets clang lower the loops it
# turns into memset/memcpy to memory.fill/memory.copy instead of calling a missing libc.
# The .wasm files are committed, so running the benchmarks needs no compiler.
set -euo pipefail
cd "$(dirname "$0")"
CC="${CC:-clang}"
mkdir -p wasm
for source in c/*.c; do
    name="$(basename "$source" .c)"
    "$CC" --target=wasm32 -O2 -nostdlib -mbulk-memory \
        -Wl,--no-entry -Wl,--export="$name" -Wl,--strip-all \
        -o "wasm/$name.wasm" "$source"
    echo "wasm/$name.wasm"
done
