#!/usr/bin/env bash
# Builds the WASI test programs: each *.c here becomes the *.wasm beside it. The .wasm files are
# committed, so the tests need no compiler; run this after changing a program.
#
# Toolchain (Debian bookworm; clang 14 targets wasm32-wasi and finds wasi-libc by itself):
#   apt-get update
#   apt-get install -y clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-clang}
# Debian's wasi-libc carries DWARF; strip it so the binaries hold only what runs.
CFLAGS=(--target=wasm32-wasi -O2 -Wall -Werror -Wl,--strip-debug)

for program in stdio args_env exit_code files clocks escape all_calls; do
    "$CC" "${CFLAGS[@]}" "$program.c" -o "$program.wasm"
done
"$CC" "${CFLAGS[@]}" -mexec-model=reactor reactor.c -o reactor.wasm

# The large program: toolbox.c plus generated numeric kernels (regenerated, not committed).
kernels=$(mktemp --suffix=.c)
trap 'rm -f "$kernels"' EXIT
python3 large/gen_kernels.py >"$kernels"
"$CC" "${CFLAGS[@]}" large/toolbox.c "$kernels" -lm -o large/toolbox.wasm
ls -l ./*.wasm large/*.wasm
