"""Write kernels.c for the toolbox program: many small, different numeric functions.

Each kernel mixes i32/i64/float/double arithmetic, shifts, rotations, conversions (guarded so
they never trap), a small array, switches and branches in a loop, and returns a 64-bit digest
of its state; `run_kernels` prints every digest. The output depends only on SEED and COUNT.
Usage: python gen_kernels.py > kernels.c
"""

from __future__ import annotations

import random
import sys

SEED = 20240601
COUNT = 180
STATEMENTS = (28, 44)

U32 = [f"a{i}" for i in range(4)]
U64 = [f"b{i}" for i in range(4)]
S32 = [f"s{i}" for i in range(2)]
F64 = [f"d{i}" for i in range(4)]
F32 = [f"f{i}" for i in range(2)]


def pair(r: random.Random, names: list) -> tuple:
    """Two different variables (comparing one with itself would be folded away)."""
    return tuple(r.sample(names, 2))


def u32_expr(r: random.Random) -> str:
    x, y = pair(r, U32)
    return r.choice(
        [
            f"{x} + {y}",
            f"{x} - {y} * {r.randrange(3, 1 << 16)}u",
            f"{x} * {y}",
            f"{x} & {y}",
            f"{x} | ({y} >> {r.randrange(1, 31)})",
            f"{x} ^ ({y} << ({x} & 31))",
            f"{x} >> ({y} & 31)",
            f"{x} / ({y} | 1u)",
            f"{x} % ({y} | 1u)",
            f"({x} << {r.randrange(1, 31)}) | ({x} >> (32 - {r.randrange(1, 31)}))",
            f"(uint32_t)({r.choice(U64)} >> {r.randrange(0, 33)})",
            f"(uint32_t)((int32_t){x} >> ({y} & 31))",
            f"(uint32_t)((int32_t){x} < (int32_t){y})",
            f"{x} > {y} ? {x} - {y} : {y} - {x}",
            f"(uint32_t)__builtin_popcount({x}) + (uint32_t)({y} ? __builtin_clz({y}) : 32)",
            f"(uint32_t)(isfinite({r.choice(F64)}) ? (int32_t)fmod({r.choice(F64)} * 1.0, 1e9) : 7)",
            f"(uint32_t)(isfinite({r.choice(F32)}) ? (int32_t)fmodf({r.choice(F32)}, 1e8f) : 11)",
            f"arr[{x} & 15] ^ {y}",
        ]
    )


def u64_expr(r: random.Random) -> str:
    x, y = pair(r, U64)
    return r.choice(
        [
            f"{x} + {y}",
            f"{x} * {y} + {r.randrange(1, 1 << 40)}ull",
            f"{x} - ((uint64_t){r.choice(U32)} << {r.randrange(0, 33)})",
            f"{x} ^ ({y} >> ({r.choice(U32)} & 63))",
            f"{x} / ({y} | 1ull)",
            f"{x} % ({y} | 3ull)",
            f"(uint64_t)((int64_t){x} >> {r.randrange(1, 63)})",
            f"({x} << {r.randrange(1, 63)}) | ({y} >> {r.randrange(1, 63)})",
            f"(uint64_t)(int64_t)(int32_t){r.choice(U32)}",
            f"(uint64_t)__builtin_ctzll({x} | 1ull) * {y}",
            f"(uint64_t)(isfinite({r.choice(F64)}) ? (int64_t)fmod({r.choice(F64)}, 1e15) : 5)",
            f"(int64_t){x} < (int64_t){y} ? {x} : {y}",
        ]
    )


def f64_expr(r: random.Random) -> str:
    x, y = pair(r, F64)
    return r.choice(
        [
            f"{x} + {y}",
            f"{x} - {y} * {r.uniform(-4, 4):.6f}",
            f"{x} * {y}",
            f"{x} / (fabs({y}) + 1.0)",
            f"sqrt(fabs({x}))",
            f"sin({x}) * {r.randrange(1, 100)}.0",
            f"floor({x} * 0.5) + ceil({y} * 0.25)",
            f"(double){r.choice(U32)} * 1e-3",
            f"(double)(int64_t){r.choice(U64)} * 1e-12",
            f"(double){r.choice(F32)}",
            f"fmin({x}, {y}) - fmax({x}, -1.5)",
            f"copysign({x}, {y}) + trunc({y})",
            f"{x} < {y} ? {x} : {y} + 1.0",
        ]
    )


def f32_expr(r: random.Random) -> str:
    x, y = pair(r, F32)
    return r.choice(
        [
            f"{x} * {y} + (float){r.choice(U32)} * 1e-6f",
            f"{x} - {y}",
            f"{x} / (fabsf({y}) + 0.5f)",
            f"sqrtf(fabsf({x})) + {r.uniform(-2, 2):.4f}f",
            f"(float){r.choice(F64)}",
            f"rintf({x} * 3.0f) * 0.25f",
        ]
    )


def statement(r: random.Random, depth: int = 0) -> str:
    kind = r.randrange(10 if depth < 1 else 8)
    if kind < 3:
        return f"{r.choice(U32)} = {u32_expr(r)};"
    if kind < 5:
        return f"{r.choice(U64)} = {u64_expr(r)};"
    if kind == 5:
        d = r.choice(F64)
        return f"{d} = {f64_expr(r)}; if (!isfinite({d}) || fabs({d}) > 1e12) {d} = (double)({r.choice(U32)} & 0xFFFF);"
    if kind == 6:
        f = r.choice(F32)
        return f"{f} = {f32_expr(r)}; if (!isfinite({f}) || fabsf({f}) > 1e6f) {f} = 0.5f;"
    if kind == 7:
        s = r.choice(S32)
        return r.choice(
            [
                f"{s} = (int32_t){r.choice(U32)} / (({s} & 7) + 1);",
                f"{s} += {r.choice(S32)} < 0 ? -{r.randrange(1, 9)} : {r.randrange(1, 9)};",
                f"arr[(uint32_t){s} & 15] += (uint32_t){s};",
                f"{s} = {s} > {r.randrange(-100, 100)} ? {s} - {r.randrange(1, 1000)} : {s} + (int32_t)({r.choice(U32)} & 1023);",
            ]
        )
    if kind == 8:
        cases = r.randrange(3, 7)
        body = " ".join(f"case {c}: {statement(r, depth + 1)} break;" for c in range(cases))
        return f"switch ({r.choice(U32)} % {cases + 1}u) {{ {body} default: {statement(r, depth + 1)} }}"
    cond = r.choice(
        [
            f"{r.choice(U32)} & {1 << r.randrange(0, 8)}",
            "{} < {}".format(*pair(r, F64)),
            f"(int64_t){r.choice(U64)} > 0",
            f"{r.choice(S32)} == {r.randrange(-3, 3)}",
        ]
    )
    return f"if ({cond}) {{ {statement(r, depth + 1)} }} else {{ {statement(r, depth + 1)} }}"


def kernel(k: int, r: random.Random) -> str:
    lines = [f"static uint64_t kernel_{k}(uint64_t seed, int rounds) {{"]
    lines.append("    uint32_t arr[16];")
    lines.append(
        "    for (int i = 0; i < 16; i++) arr[i] = (uint32_t)(seed >> (i & 31)) * (i + 1);"
    )
    for i, v in enumerate(U32):
        lines.append(f"    uint32_t {v} = (uint32_t)seed * {r.randrange(1, 1 << 31)}u + {i};")
    for i, v in enumerate(U64):
        lines.append(f"    uint64_t {v} = seed ^ {r.randrange(1, 1 << 63)}ull ^ {i};")
    for v in S32:
        lines.append(f"    int32_t {v} = (int32_t)(seed >> {r.randrange(0, 32)});")
    for v in F64:
        lines.append(
            f"    double {v} = (double)(seed % {r.randrange(2, 1000)}) * {r.uniform(-3, 3):.5f};"
        )
    for v in F32:
        lines.append(f"    float {v} = (float)(seed & 255) * {r.uniform(-1, 1):.4f}f;")
    lines.append(f"    for (int round = 0; round < rounds + {r.randrange(0, 6)}; round++) {{")
    for _ in range(r.randrange(*STATEMENTS)):
        lines.append("        " + statement(r))
    lines.append("    }")
    lines.append("    uint64_t h = 1469598103934665603ull;")
    for v in U32 + U64 + S32:
        lines.append(f"    h = (h ^ (uint64_t){v}) * 1099511628211ull;")
    for v in F64:
        lines.append(f"    h = (h ^ bits64({v})) * 1099511628211ull;")
    for v in F32:
        lines.append(f"    h = (h ^ bits32({v})) * 1099511628211ull;")
    lines.append("    for (int i = 0; i < 16; i++) h = (h ^ arr[i]) * 1099511628211ull;")
    lines.append("    return h;")
    lines.append("}")
    return "\n".join(lines)


def main() -> None:
    r = random.Random(SEED)
    out = [
        "/* Generated by gen_kernels.py; do not edit. */",
        "#include <math.h>",
        "#include <stdint.h>",
        "#include <stdio.h>",
        "#include <string.h>",
        "",
        "static uint64_t bits64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }",
        "static uint64_t bits32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }",
        "",
    ]
    out.extend(kernel(k, r) for k in range(COUNT))
    out.append("")
    out.append("typedef uint64_t (*kernel_fn)(uint64_t, int);")
    out.append("static const kernel_fn kernels[] = {")
    out.extend(f"    kernel_{k}," for k in range(COUNT))
    out.append("};")
    out.append(
        """
void run_kernels(int scale) {
    uint64_t total = 0;
    int n = (int)(sizeof kernels / sizeof *kernels);
    for (int k = 0; k < n; k++) {
        uint64_t h = kernels[k]((uint64_t)k * 0x9E3779B97F4A7C15ull, 4 * scale);
        total ^= h + (total << 6) + (total >> 2);
        printf("%016llx%c", (unsigned long long)h, k % 6 == 5 || k == n - 1 ? '\\n' : ' ');
    }
    printf("kernels: %d, combined digest %016llx\\n", n, (unsigned long long)total);
}"""
    )
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
