#!/usr/bin/env bash
# Rebuild the committed C-to-Wasm test programs in tests/programs/.
#
# Toolchain: Debian's clang and lld (bookworm: clang 14, wasm-ld 14), installed with
#   apt-get update && apt-get install -y clang lld
# clang drives wasm-ld (from lld) for --target=wasm32; no libc, no WASI sysroot.
#
# Outputs (committed, so the tests need no compiler):
#   many_functions.wasm  ~3000 generated functions (gen_many_functions.py), with the
#                        bulk-memory, sign-ext and nontrapping-fptoint features
#   sort.wasm            sort.c, MVP features only
#   hash.wasm            hash.c, with bulk-memory
#   interp.wasm          interp.c, with bulk-memory and sign-ext
# The generated C goes to out/programs/ (ignored by git). Usage: tests/programs/build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
gen_dir="$root/out/programs"
python="${PYTHON:-$root/../venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"
CC="${CC:-clang}"

command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (apt-get install -y clang lld)" >&2; exit 1; }
if ! command -v wasm-ld >/dev/null; then
  echo "build.sh: wasm-ld not found (apt-get install -y lld)" >&2
  exit 1
fi

common=(--target=wasm32 -O2 -ffreestanding -nostdlib -Wall -Wno-unused-function
        -Wl,--no-entry)

mkdir -p "$gen_dir"
"$python" "$here/gen_many_functions.py" "$gen_dir/many_functions.c"
"$CC" "${common[@]}" -mbulk-memory -msign-ext -mnontrapping-fptoint \
  -w \
  -o "$here/many_functions.wasm" "$gen_dir/many_functions.c"

"$CC" "${common[@]}" -o "$here/sort.wasm" "$here/sort.c"
"$CC" "${common[@]}" -mbulk-memory -o "$here/hash.wasm" "$here/hash.c"
"$CC" "${common[@]}" -mbulk-memory -msign-ext -o "$here/interp.wasm" "$here/interp.c"

chmod -x "$here"/*.wasm
ls -l "$here"/*.wasm
