"""The benchmark kernels: one C file, one .wasm and one Python twin each, with their sizes.

Each kernel exports one function of the same name taking a size and returning a checksum.
`size` is the benchmark size, chosen so pywasm, the slowest engine, takes about two seconds a
run; every engine runs at that size. `quick` is for `--quick` (a tenth of the work or less),
`tiny` for the correctness test.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent


class Kernel(NamedTuple):
    name: str  # the C file, the .wasm, the export and the twin in twins.py
    result: str  # the Wasm result type: "i32", "i64" or "f64"
    size: int
    quick: int
    tiny: int
    about: str

    @property
    def wasm_path(self) -> Path:
        return HERE / "wasm" / f"{self.name}.wasm"

    def checksum(self, value: int | float) -> int | float:
        """`value` in one canonical form: ints signed at the result's width, floats as is."""
        if self.result == "f64":
            return float(value)
        bits = 32 if self.result == "i32" else 64
        value &= (1 << bits) - 1
        return value - (1 << bits) if value >> (bits - 1) else value


KERNELS = (
    Kernel("fib", "i32", 24, 18, 12, "calls and recursion"),
    Kernel("sieve", "i32", 50_000, 5_000, 500, "integer loops over bytes"),
    Kernel("matmul", "f64", 40, 18, 6, "f64 matrix multiply"),
    Kernel("nbody", "f64", 1_000, 100, 20, "f64 n-body with sqrt"),
    Kernel("hash", "i32", 30_000, 3_000, 257, "FNV-1a and Murmur3 over a buffer"),
    Kernel("lcg", "i64", 60_000, 6_000, 300, "64-bit LCG"),
    Kernel("quicksort", "i32", 5_000, 600, 300, "recursive quicksort of ints in memory"),
    Kernel("mandel", "i32", 48, 16, 12, "f32 Mandelbrot"),
    Kernel("interp", "i32", 2_000, 200, 50, "bytecode interpreter (br_table)"),
    Kernel("indirect", "i32", 60_000, 6_000, 500, "calls through function pointers"),
)

BY_NAME = {kernel.name: kernel for kernel in KERNELS}
