"""Hand-written Python twins of the C kernels in benchmarks/c/: the same algorithm, written the
way a Python programmer would (lists, bytearrays, ints masked where the C wraps, f32 rounded
after every operation), returning the same checksum. Runs on CPython 3.9+ and PyPy.
"""

from __future__ import annotations

import math
import struct

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------- calls and recursion


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


# ---------------------------------------------------------------- integer loops


def sieve(n: int) -> int:
    composite = bytearray(n + 1)
    root = math.isqrt(n)
    count = total = 0
    for i in range(2, n + 1):
        if composite[i]:
            continue
        count += 1
        total += i
        if i <= root:
            for j in range(i * i, n + 1, i):
                composite[j] = 1
    return (total ^ (count << 20)) & M32


# ---------------------------------------------------------------- f64


def matmul(n: int) -> float:
    a = [[float(i - j) / float(i + j + 1) for j in range(n)] for i in range(n)]
    b = [[float((i * j) % 7) * 0.25 + 1.0 for j in range(n)] for i in range(n)]
    columns = list(zip(*b))
    c = []
    for row in a:
        out = []
        for column in columns:
            s = 0.0
            for x, y in zip(row, column):
                s += x * y
            out.append(s)
        c.append(out)
    total = 0.0
    for row in c:
        for value in row:
            total += value
    return total


PI = 3.141592653589793
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24


def _planets() -> list[list[float]]:
    """[x, y, z, vx, vy, vz, mass] for the sun, Jupiter, Saturn, Uranus and Neptune."""
    d, m = DAYS_PER_YEAR, SOLAR_MASS
    return [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, m],
        [4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01,
         1.66007664274403694e-03 * d, 7.69901118419740425e-03 * d,
         -6.90460016972063023e-05 * d, 9.54791938424326609e-04 * m],
        [8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01,
         -2.76742510726862411e-03 * d, 4.99852801234917238e-03 * d,
         2.30417297573763929e-05 * d, 2.85885980666130812e-04 * m],
        [1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01,
         2.96460137564761618e-03 * d, 2.37847173959480950e-03 * d,
         -2.96589568540237556e-05 * d, 4.36624404335156298e-05 * m],
        [1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01,
         2.68067772490389322e-03 * d, 1.62824170038242295e-03 * d,
         -9.51592254519715870e-05 * d, 5.15138902046611451e-05 * m],
    ]  # fmt: skip


def nbody(n: int) -> float:
    bodies = _planets()
    px = py = pz = 0.0
    for b in bodies:
        px += b[3] * b[6]
        py += b[4] * b[6]
        pz += b[5] * b[6]
    sun = bodies[0]
    sun[3] = -px / SOLAR_MASS
    sun[4] = -py / SOLAR_MASS
    sun[5] = -pz / SOLAR_MASS
    pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]
    dt = 0.01
    for _ in range(n):
        for b, b2 in pairs:
            dx = b[0] - b2[0]
            dy = b[1] - b2[1]
            dz = b[2] - b2[2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * math.sqrt(d2))
            m1 = b[6]
            m2 = b2[6]
            b[3] -= dx * m2 * mag
            b[4] -= dy * m2 * mag
            b[5] -= dz * m2 * mag
            b2[3] += dx * m1 * mag
            b2[4] += dy * m1 * mag
            b2[5] += dz * m1 * mag
        for b in bodies:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]
    e = 0.0
    for i, b in enumerate(bodies):
        e += 0.5 * b[6] * (b[3] * b[3] + b[4] * b[4] + b[5] * b[5])
        for b2 in bodies[i + 1 :]:
            dx = b[0] - b2[0]
            dy = b[1] - b2[1]
            dz = b[2] - b2[2]
            e -= (b[6] * b2[6]) / math.sqrt(dx * dx + dy * dy + dz * dz)
    return e


# ---------------------------------------------------------------- 32- and 64-bit integers


def hash(n: int) -> int:
    buf = bytearray(n)
    x = 2463534242
    for i in range(n):
        x ^= (x << 13) & M32
        x ^= x >> 17
        x ^= (x << 5) & M32
        buf[i] = x >> 24
    h = 2166136261
    for byte in buf:
        h = ((h ^ byte) * 16777619) & M32
    for (k,) in struct.iter_unpack("<I", buf[: n - n % 4]):
        k = (k * 0xCC9E2D51) & M32
        k = ((k << 15) | (k >> 17)) & M32
        k = (k * 0x1B873593) & M32
        h ^= k
        h = ((h << 13) | (h >> 19)) & M32
        h = (h * 5 + 0xE6546B64) & M32
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def lcg(n: int) -> int:
    x = 42
    acc = 14695981039346656037
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & M64
        acc = ((acc ^ (x >> 29)) * 1099511628211) & M64
        acc ^= acc >> 32
    return acc


# ---------------------------------------------------------------- memory and recursion


def _sort(a: list[int], lo: int, hi: int) -> None:
    if lo >= hi:
        return
    pivot = a[lo + (hi - lo) // 2]
    i, j = lo, hi
    while i <= j:
        while a[i] < pivot:
            i += 1
        while a[j] > pivot:
            j -= 1
        if i <= j:
            a[i], a[j] = a[j], a[i]
            i += 1
            j -= 1
    _sort(a, lo, j)
    _sort(a, i, hi)


def quicksort(n: int) -> int:
    items = []
    x = 12345
    for _ in range(n):
        x = (x * 1103515245 + 12345) & M32
        items.append(x - (1 << 32) if x >= 1 << 31 else x)
    _sort(items, 0, n - 1)
    h = 0
    for value in items:
        h = (h * 31 + value) & M32
    return h


# ---------------------------------------------------------------- f32

_F32 = struct.Struct("<f")


def f32(x: float) -> float:
    """Round a double to single precision, as every Wasm f32 operation does."""
    return _F32.unpack(_F32.pack(x))[0]


def mandel(n: int) -> int:
    total = 0
    size = f32(n)
    for py in range(n):
        ci = f32(f32(f32(2.0 * f32(py)) / size) - 1.0)
        for px in range(n):
            cr = f32(f32(f32(3.0 * f32(px)) / size) - 2.0)
            zr = zi = 0.0
            it = 0
            while it < 64:
                zr2 = f32(zr * zr)
                zi2 = f32(zi * zi)
                if f32(zr2 + zi2) > 4.0:
                    break
                zi = f32(f32(f32(2.0 * zr) * zi) + ci)
                zr = f32(f32(zr2 - zi2) + cr)
                it += 1
            total += it
    return total & M32


# ---------------------------------------------------------------- dispatch

HALT, PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, DUP, LT, JNZ, JMP, AND = range(14)

# Registers: r0 = n, r1 = acc, r2 = i. The same program as interp.c.
PROGRAM = [
    PUSH, 0, STORE, 2,                                # 0: i = 0
    LOAD, 1, PUSH, 31, MUL, LOAD, 2, XOR, STORE, 1,   # 4: acc = acc * 31 ^ i
    LOAD, 1, SHR, 7, LOAD, 1, ADD, STORE, 1,          # 14: acc += acc >> 7
    LOAD, 2, PUSH, 1, ADD, DUP, STORE, 2,             # 23: i += 1
    LOAD, 0, LT, JNZ, 4,                              # 31: if i < n goto 4
    LOAD, 1, HALT,                                    # 36: return acc
]  # fmt: skip


def interp(n: int) -> int:
    code = PROGRAM
    stack: list[int] = []
    regs = [n & M32, 1, 0, 0]
    pc = 0
    while True:
        op = code[pc]
        pc += 1
        if op == HALT:
            return stack[-1]
        elif op == PUSH:
            stack.append(code[pc])
            pc += 1
        elif op == LOAD:
            stack.append(regs[code[pc]])
            pc += 1
        elif op == STORE:
            regs[code[pc]] = stack.pop()
            pc += 1
        elif op == ADD:
            b = stack.pop()
            stack.append((stack.pop() + b) & M32)
        elif op == SUB:
            b = stack.pop()
            stack.append((stack.pop() - b) & M32)
        elif op == MUL:
            b = stack.pop()
            stack.append((stack.pop() * b) & M32)
        elif op == XOR:
            b = stack.pop()
            stack.append(stack.pop() ^ b)
        elif op == SHR:
            stack.append(stack.pop() >> code[pc])
            pc += 1
        elif op == DUP:
            stack.append(stack[-1])
        elif op == LT:
            b = stack.pop()
            stack.append(int(stack.pop() < b))
        elif op == JNZ:
            pc = code[pc] if stack.pop() else pc + 1
        elif op == JMP:
            pc = code[pc]
        elif op == AND:
            b = stack.pop()
            stack.append(stack.pop() & b)


def _op_add(a: int, b: int) -> int:
    return (a + b) & M32


def _op_sub(a: int, b: int) -> int:
    return (a - b) & M32


def _op_xor(a: int, b: int) -> int:
    return a ^ ((b * 0x9E3779B9) & M32)


def _op_mul(a: int, b: int) -> int:
    return (a * (b | 1)) & M32


def _op_rotl(a: int, b: int) -> int:
    return ((a << (b & 31)) | (a >> ((32 - b) & 31))) & M32


def _op_mix(a: int, b: int) -> int:
    return ((a * 33) ^ b) & M32


def _op_shift(a: int, b: int) -> int:
    return (a + (b << 3) + (a >> 5)) & M32


def _op_not(a: int, b: int) -> int:
    return ~a & M32 ^ b


OPS = [_op_add, _op_sub, _op_xor, _op_mul, _op_rotl, _op_mix, _op_shift, _op_not]


def indirect(n: int) -> int:
    ops = OPS
    acc = 1
    for i in range(n):
        acc = ops[(acc ^ i) & 7](acc, i)
    return acc
