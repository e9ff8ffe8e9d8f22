"""Counted loops of the shapes lower/strided.py rewrites, and near misses, against wasmtime.

lower/strided.py turns the unwrapped copy of a versioned counted loop (lower/versioning.py)
into (a) a `for` over zipped strided slices of the typed memory views when the loop only
reads memory, or (b) a slice assignment when its only memory effect is one store of a value
the loop does not change. Either is right only if the slices are exactly the elements the
loop would touch, in bounds exactly when the loop would not trap, and the pointers end where
the loop leaves them. test_pointer_loops.py rarely produces such loops, so this generates
them on purpose, in the shapes clang emits, and compares the translation (both lowering
strategies) with wasmtime: every call's results, whether it traps, and the whole exported
memory afterwards.

The generator (`StridedShapes`) covers:
- counters: `i != n` counted up by 1, 2 or 4 from 0, 1, 5, -16 or 0x7FFFFFF0; `n--` counted
  down to zero with `br_if (local.get $n)` or `br_if (local.tee $n ...)`; `i <=s n` and
  `i <s n` stepped by a positive constant or by a stride local (with and without the guard
  clang puts before a rotated loop); a pointer run to an end pointer with `!=`; a pointer
  that is its own counter against a signed bound (sieve's `for (j = s; j <= n; j += d)`);
- (a) 1 to 4 loads per iteration, of i32.load, i32.load8_u, i32.load16_u/_s, i64.load,
  i64.load32_u and f64.load (and now and then f32.load, i32.load8_s or i64.load8_s, which
  go through struct calls), from 1 to 3 pointers stepped by 1, 2, 4, 8, 12 or 56 bytes or
  by a stride local (0, small, huge, negative), at `p`, `p + k`, `p - k` and `p + o` (o an
  unchanged local), with memarg offsets, some read after the pointer's step, some at a
  fixed invariant address; their values mixed into i32, i64 and f64 accumulators;
- (b) one i32.store8/16, i32.store, i64.store or f64.store of a constant (negative, -0.0,
  NaNs, infinities) or of a parameter (raw or masked first) at a stepped pointer, before
  or after the pointers' steps;
- in either, sometimes a local stepped like a pointer but never used as an address;
- near misses that must not be rewritten wrongly: two stores, a store of a value the loop
  changes, loads beside a store into the same region, a call that stores into the region
  the loop reads, memory.grow in the loop, a pointer read as a value, a pointer stepped
  twice, a counter compared unsigned, a loop tested at the top, a pointer stepped
  downwards;
- starts that are aligned (shifted or masked parameters, constants, offsets from another
  pointer, `65536 - (n << k)`) or not, aimed by the argument generator inside the 1-page
  memory, at its very end (the last access on the last byte, or one past it), so that
  `p - k` is just below 0, near 2**32 (so pointers wrap), or anywhere in 32 bits; counts
  0..63; a page filled with varied bytes, f64s and i32s, and a per-module patch of bytes.

Every loop's trip count is simulated in Python before a call (`StridedShapes.trips`), and
arguments that would make a loop run more than `MAX_TRIPS` times are not used, so no call
can run for 2**32 iterations. The comparison is test_pointer_loops.check (each call in a
fresh instance, with the default and the flat lowering). A second test checks, over a fixed
sample, that the translations do contain both rewrites and that calls run them.
"""

from __future__ import annotations

import random
import re
import struct
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wasm2py_runtime import Trap
from wasm2py_runtime.numeric import f64_from_bits

import wasm2py
from tests.fuzz.bodies import Chooser
from tests.test_pointer_loops import check

PAGE = 65536
MASK = 0xFFFFFFFF
MAX_TRIPS = 100  # arguments giving a loop more iterations than this are not used


def page_contents() -> bytes:
    """The page's contents: random bytes in the first and last quarters; small f64s (with
    -0.0, an infinity and a NaN among them) and small i32s in the middle, so that sums are
    neither all NaN nor all 0."""
    rng = random.Random(20240601)
    page = bytearray(rng.randbytes(PAGE))
    for at in range(PAGE // 4, PAGE // 2, 8):
        page[at : at + 8] = struct.pack("<d", rng.randrange(-4000, 4000) / 16)
    for at in range(PAGE // 2, 3 * PAGE // 4, 4):
        page[at : at + 4] = struct.pack("<i", rng.randrange(-300, 300))
    for at, bits in ((17, 2**63), (300, 0x7FF0000000000000), (500, 0x7FF8000000000001)):
        page[PAGE // 4 + 8 * at : PAGE // 4 + 8 * at + 8] = struct.pack("<Q", bits)
    return bytes(page)


FILL = page_contents()
FILL_DATA = "".join(f"\\{byte:02x}" for byte in FILL)

PARAMS = ("a", "b", "c", "e", "x", "v", "w")  # f(a, b, c, e, x: i32, v: i64, w: f64)
STEPS = (1, 2, 4, 8, 12, 56)
# Loads a typed view (or the bytes) serves, by width; and loads that go through struct
# calls (no f32 view; sign-extended bytes), which no slice can replace.
LOAD_OPS = {
    1: ("i32.load8_u",),
    2: ("i32.load16_u", "i32.load16_s"),
    4: ("i32.load", "i32.load", "i64.load32_u"),
    8: ("f64.load", "i64.load"),
}
STRUCT_LOADS = ("f32.load", "i32.load8_s", "i64.load8_s")
ALL_LOADS = tuple(op for ops in LOAD_OPS.values() for op in ops) + STRUCT_LOADS
STRIDE_VALUES = (0, 1, 2, 3, 4, 8, 16, 7, 0x80000000, 0xFFFFFFF8, 0x7FFFFFFF, MASK, PAGE, 0x4000)
I64_VALUES = (0, 1, 2**64 - 1, 2**63, 0x0123456789ABCDEF, 0xFFFFFFFF)
F64_VALUES = (
    0, 2**63, 0x3FF8000000000000, 0xC002000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
    0x7FF8000000000000, 0xFFF8000000000000, 0x7FF4000000000001, 1,
)  # fmt: skip
STORE_CONSTANTS = {
    "i32.store8": ("0", "1", "255", "-1", "263", "-128", "0x41"),
    "i32.store16": ("0", "-1", "0x1234", "65535", "-2", "65537"),
    "i32.store": ("0", "1", "-1", "0x7fffffff", "-2147483648", "-559038737"),
    "i64.store": ("0", "-1", "0x0123456789abcdef", "-9223372036854775808", "42"),
    "f64.store": ("0", "-0", "1.5", "-2.25", "nan", "-nan", "inf", "-inf", "nan:0x4000000000001",
                  "0x1p-1074"),
    "f32.store": ("1.5", "-0"),  # no typed view of f32s: a near miss
    "i64.store32": ("-1", "7"),
}  # fmt: skip
STORE_WIDTH = {"i32.store8": 1, "i32.store16": 2, "i32.store": 4, "i64.store": 8,
               "f64.store": 8, "f32.store": 4, "i64.store32": 4}  # fmt: skip
NEAR_MISSES = (
    "two stores", "varying store", "loads and a store", "call", "pointer as value",
    "stepped twice", "unsigned", "top tested", "downwards", "grow",
)  # fmt: skip

Args = dict[str, int]


def natural_width(op: str) -> int:
    """The bytes a load or store accesses: i64.load32_u -> 4."""
    kind, _, rest = op.partition(".")
    digits = "".join(ch for ch in rest if ch.isdigit())
    return int(digits) // 8 if digits else 8 if kind in ("i64", "f64") else 4


def signed(value: int) -> int:
    value &= MASK
    return value - (1 << 32) if value >> 31 else value


@dataclass
class Pointer:
    """A pointer local: how it starts, how it steps, and which bytes an iteration touches."""

    name: str
    width: int  # the width of most of its accesses
    start: str  # WAT
    value: Callable[[Args, dict[str, int]], int]  # its start, given the arguments
    param: str | None = None  # the parameter its start is computed from, to aim
    aim: Callable[[int, Chooser], int] | None = None  # a parameter value starting it at an address
    step: int | None = 4  # bytes; None: the stride local
    reach: int = 0  # the end of the bytes an iteration touches, from p at its start
    low: int = 0  # the lowest byte it touches, from p at its start
    counter: bool = False  # the loop's counter too (run to an end, or compared signed)


@dataclass
class Counter:
    """How the loop counts: the WAT before and after the body, and a model of its trips."""

    setup: list[str] = field(default_factory=list)
    guard: str = ""
    head: str = ""  # the exit test at the top (a loop tested at the top)
    tail: list[str] = field(default_factory=list)
    trips: Callable[[Args, dict[str, int]], int | None] = lambda args, starts: 0


def count_trips(
    start: int,
    step: int,
    bound: int,
    stays: Callable[[int, int], bool],
    guard: Callable[[int, int], bool] | None,
    top: bool = False,
) -> int | None:
    """Iterations of a loop whose counter starts at `start`, is stepped by `step` (mod 2**32)
    and carries on while `stays(counter, bound)`; a `guard` false at entry skips it. A loop
    tested at the top tests before each iteration. None past MAX_TRIPS."""
    counter = start & MASK
    if guard is not None and not guard(counter, bound):
        return 0
    trips = 0
    while True:
        if top and not stays(counter, bound):
            return trips
        trips += 1
        counter = (counter + step) & MASK
        if not top and not stays(counter, bound):
            return trips
        if trips > MAX_TRIPS:
            return None


class StridedShapes:
    """One module: `f(a, b, c, e, x, v, w)` runs one counted loop over a filled page and
    returns its accumulators, counters and pointers."""

    def __init__(self, choose: Chooser):
        self.choose = choose
        self.kind = self.pick(("read", "read", "read", "fill", "fill", "near"))
        self.near = self.pick(NEAR_MISSES) if self.kind == "near" else ""
        self.pointers: list[Pointer] = []
        # the counter's shape (see make_counter); two near misses have their own
        self.shape = {"unsigned": "unsigned", "top tested": "top"}.get(self.near, "")
        self.shape = self.shape or self.pick(("up", "down", "signed", "end", "own signed"))
        self.stride: Callable[[Args], int] = lambda args: 0
        self.stride_wat = ""
        self.counter = Counter()
        self.helper = False  # $g, called in the loop: stores a byte, returns one
        # loads through struct calls (no slice can replace them), in one module in eight
        self.odd_loads = self.chance(12)

    # ---- choices ---------------------------------------------------------------------------

    def pick(self, items: Sequence):
        return self.choose.pick(items)

    def chance(self, percent: int) -> bool:
        return self.choose.chance(percent)

    # ---- pointers --------------------------------------------------------------------------

    def make_stride(self, width: int) -> None:
        """The stride local $st, from parameter c: in bytes, or in elements of `width` bytes
        (so a typed view's index can step by it), or times a struct's size."""
        shift = width.bit_length() - 1 if self.chance(80) else self.pick((0, 1, 2, 3))
        kind = self.choose.below(5)
        if kind == 0 and shift == 0:
            self.stride_wat = "(local.get $c)"
            self.stride = lambda args: args["c"]
        elif kind <= 2:
            self.stride_wat = f"(i32.shl (local.get $c) (i32.const {shift}))"
            self.stride = lambda args: (args["c"] << shift) & MASK
        elif kind == 3:
            self.stride_wat = (
                f"(i32.shl (i32.and (local.get $c) (i32.const 15)) (i32.const {shift}))"
            )
            self.stride = lambda args: ((args["c"] & 15) << shift) & MASK
        else:
            self.stride_wat = "(i32.mul (local.get $c) (i32.const 12))"
            self.stride = lambda args: (args["c"] * 12) & MASK

    def make_pointer(self, index: int, width: int) -> Pointer:
        """A pointer's start: from a parameter (shifted, masked, offset or raw), a constant,
        another pointer, or `65536 - (b << k)` (whose elements end at the end of memory)."""
        name = f"$p{index}"
        shift = width.bit_length() - 1
        param = ("a", "e", "a")[index]
        kind = self.choose.below(10)
        if index == 2 and kind < 5:
            kind = 7  # p2 comes from another pointer mostly: a and e are taken
        if kind <= 2:
            wat = f"(i32.shl (local.get ${param}) (i32.const {shift}))"
            return Pointer(
                name, width, wat, lambda args, starts: (args[param] << shift) & MASK, param,
                lambda address, choose: (address & MASK) >> shift
                | (choose.below(1 << shift) << (32 - shift) if shift and choose.chance(20) else 0),
            )  # fmt: skip
        if kind <= 4:
            wat = f"(i32.and (local.get ${param}) (i32.const {-width}))"
            return Pointer(
                name, width, wat, lambda args, starts: args[param] & -width & MASK, param,
                lambda address, choose: (address | choose.below(width)) & MASK,
            )  # fmt: skip
        if kind == 5:
            offset = self.pick((16, 4096, -64, 8 * width, 65536 - 256))
            wat = (
                f"(i32.add (i32.shl (local.get ${param}) (i32.const {shift})) (i32.const {offset}))"
            )
            return Pointer(
                name, width, wat,
                lambda args, starts: ((args[param] << shift) + offset) & MASK, param,
                lambda address, choose: ((address - offset) & MASK) >> shift,
            )  # fmt: skip
        if kind == 6 and (width == 1 or self.chance(30)):  # raw: misaligned for some arguments
            wat = f"(local.get ${param})"
            return Pointer(
                name, width, wat, lambda args, starts: args[param], param,
                lambda address, choose: address & MASK,
            )  # fmt: skip
        if kind == 7 and self.pointers:
            other = self.pick(self.pointers)
            offset = self.pick((0, width, 8, 4096, 1024 + width, -256, 3))
            wat = f"(i32.add (local.get {other.name}) (i32.const {offset}))"
            return Pointer(
                name, width, wat,
                lambda args, starts: (starts[other.name] + offset) & MASK,
            )  # fmt: skip
        if kind == 8:  # 65536 - (b << k): the loop's elements end at the end of memory
            extra = self.pick((0, 0, -width, width, -2 * width))
            log_step = self.pick((shift, 3, 2))
            wat = (
                f"(i32.add (i32.sub (i32.const {PAGE}) (i32.shl (local.get $b)"
                f" (i32.const {log_step}))) (i32.const {extra}))"
            )
            return Pointer(
                name, width, wat,
                lambda args, starts: (PAGE - (args["b"] << log_step) + extra) & MASK,
            )  # fmt: skip
        constant = self.pick((0, 1024, 4096, PAGE - 512, PAGE - 64 * width, -64, 30000))
        constant = constant // width * width if self.chance(90) else constant + 1
        return Pointer(name, width, f"(i32.const {constant})", lambda args, starts: constant & MASK)

    def choose_step(self, pointer: Pointer) -> None:
        if self.stride_wat and self.chance(30):
            pointer.step = None
            return
        steps = [k for k in STEPS if k % pointer.width == 0] if self.chance(80) else STEPS
        pointer.step = self.pick(steps)
        if self.near == "downwards" and self.chance(60):
            pointer.step = -pointer.step

    def step_of(self, pointer: Pointer, args: Args) -> int:
        return self.stride(args) if pointer.step is None else pointer.step & MASK

    def step_wat(self, pointer: Pointer) -> str:
        return "(local.get $st)" if pointer.step is None else f"(i32.const {pointer.step})"

    # ---- loads and stores ------------------------------------------------------------------

    def address(self, pointer: Pointer, width: int, after_step: bool) -> tuple[str, int]:
        """(`memarg address`, the offset from p at the iteration's start): p, p + k, p - k
        or p + o (o a local the loop does not change), with a memarg offset sometimes."""
        get = f"(local.get {pointer.name})"
        ks = (width, 2 * width, 3 * width, 8 * width, 64) if self.chance(92) else (1, 3, 6)
        kind = self.choose.below(10)
        if kind < 5:
            address, offset = get, 0
        elif kind < 8:
            k = self.pick(ks)
            address, offset = f"(i32.add {get} (i32.const {k}))", k
        elif kind == 8 and self.chance(40):  # the offset unknown here: aimed as 0
            address, offset = f"(i32.add {get} (local.get $o))", 0
        else:
            k = self.pick(ks)
            address, offset = f"(i32.sub {get} (i32.const {k}))", -k
        memarg = ""
        if self.chance(25):
            extra = self.pick((width, 2 * width, 16, 8, 1, 4096))
            memarg, offset = f" offset={extra}", offset + extra
        if after_step and pointer.step is not None:
            offset += pointer.step
        pointer.reach = max(pointer.reach, offset + width)
        pointer.low = min(pointer.low, offset)
        return f"{memarg} {address}", offset

    def load(self, after_step: bool) -> tuple[str, str]:
        """(value type, a load): mostly through a pointer at its width, sometimes at a fixed
        address (a constant, or $k, set from x before the loop)."""
        if self.chance(12):
            op = self.pick(ALL_LOADS)
            address = self.pick(
                (f"(i32.const {self.pick((1024, 4096, PAGE - 8, 40000))})", "(local.get $k)")
            )
            return op[:3], f"({op} {address})"
        pointer = self.pick(self.pointers)
        ops = LOAD_OPS[pointer.width] if self.chance(95) else ALL_LOADS
        if self.odd_loads and self.chance(50):
            ops = STRUCT_LOADS
        op = self.pick(ops)
        memarg_address, _ = self.address(pointer, natural_width(op), after_step)
        return op[:3], f"({op}{memarg_address})"

    @staticmethod
    def convert(valtype: str, value: str, to: str) -> str:
        """`value` as a `to`: exact or saturating conversions only (NaNs stay put)."""
        if valtype == to:
            return value
        table = {
            ("i64", "i32"): "i32.wrap_i64", ("f64", "i32"): "i32.trunc_sat_f64_s",
            ("f32", "i32"): "i32.trunc_sat_f32_s", ("i32", "i64"): "i64.extend_i32_s",
            ("f64", "i64"): "i64.trunc_sat_f64_s", ("f32", "i64"): "i64.trunc_sat_f32_u",
            ("i32", "f64"): "f64.convert_i32_u", ("i64", "f64"): "f64.convert_i64_s",
            ("f32", "f64"): "f64.promote_f32",
        }  # fmt: skip
        return f"({table[valtype, to]} {value})"

    def accumulate(self, loads: list[tuple[str, str]]) -> str:
        """A statement mixing one or two loaded values into $s, $t or $d."""
        (valtype, value), *rest = loads
        if valtype == "f64" and not rest and self.chance(15):  # exact bits, NaNs included
            return f"(local.set $t (i64.xor (local.get $t) (i64.reinterpret_f64 {value})))"
        to = (
            {"f32": "f64"}.get(valtype, valtype)
            if self.chance(70)
            else self.pick(("i32", "i64", "f64"))
        )
        value = self.convert(valtype, value, to)
        if rest:
            other = self.convert(rest[0][0], rest[0][1], to)
            op = self.pick(("add", "mul", "sub")) if to != "f64" else self.pick(("mul", "add"))
            value = f"({to}.{op} {value} {other})"
        acc = {"i32": "$s", "i64": "$t", "f64": "$d"}[to]
        get = f"(local.get {acc})"
        if to == "i32":
            mixed = self.pick(
                (
                    f"(i32.add {get} {value})",
                    f"(i32.mul (i32.xor {get} {value}) (i32.const 16777619))",
                )
            )
        elif to == "i64":
            mixed = self.pick(
                (f"(i64.add {get} {value})", f"(i64.xor (i64.rotl {get} (i64.const 5)) {value})")
            )
        else:
            mixed = self.pick(
                (f"(f64.add {get} {value})", f"(f64.add (f64.mul {get} (f64.const 0.5)) {value})")
            )
        return f"(local.set {acc} {mixed})"

    def store(self, varying: bool = False, after_step: bool = False) -> str:
        """One store at a stepped pointer of a value the loop does not change (or, for a
        near miss, one it does), before the pointers' steps or after them (`*++p = v`)."""
        pointer = self.pick([p for p in self.pointers if not p.counter] or self.pointers)
        ops = [op for op, width in STORE_WIDTH.items() if width == pointer.width]
        op = self.pick(ops) if self.chance(80) else self.pick(tuple(STORE_WIDTH))
        if op in ("f32.store", "i64.store32") and self.chance(70):
            op = "i32.store" if pointer.width == 4 else "i32.store8"
        memarg_address, _ = self.address(pointer, STORE_WIDTH[op], after_step)
        kind = op[:3]
        if varying:
            value = self.pick(
                (
                    self.convert("i32", "(local.get $i)", kind if kind != "f32" else "f64"),
                    self.convert(
                        "i32", f"(local.get {pointer.name})", kind if kind != "f32" else "f64"
                    ),
                    self.convert("i32", "(local.get $s)", kind if kind != "f32" else "f64"),
                )
            )
            if kind == "f32":
                value = f"(f32.demote_f64 {value})"
        elif self.chance(55):
            value = f"({kind}.const {self.pick(STORE_CONSTANTS[op])})"
        elif kind == "i32":
            value = self.pick(("(local.get $x)", "(local.get $y)", "(local.get $c)"))
        else:
            value = {"i64": "(local.get $v)", "f64": "(local.get $w)", "f32": "(f32.const 2.5)"}[
                kind
            ]
        return f"({op}{memarg_address} {value})"

    # ---- counters --------------------------------------------------------------------------

    def make_counter(self) -> None:
        """One of clang's counted-loop shapes; the near misses `unsigned` and `top tested`."""
        c = self.counter
        shape = self.shape
        if shape == "end" and self.pointers[0].step is None:
            shape = "up"
        if shape in ("up", "unsigned"):
            log_step = self.pick((0, 0, 1, 2))
            k = 1 << log_step
            start = self.pick((0, 0, 1, 5, -16, 0x7FFFFFF0))
            c.setup.append(f"(local.set $i (i32.const {start}))")
            if start == 0 and log_step == 0 and self.chance(50):
                c.setup.append("(local.set $n (local.get $b))")
                bound = lambda args: args["b"]  # noqa: E731
            else:
                c.setup.append(
                    f"(local.set $n (i32.add (i32.const {start})"
                    f" (i32.shl (local.get $b) (i32.const {log_step}))))"
                )
                bound = lambda args: (start + (args["b"] << log_step)) & MASK  # noqa: E731
            c.guard = "(br_if $exit (i32.eqz (local.get $b)))"
            compare = "i32.ne" if shape == "up" else "i32.lt_u"
            stays = (lambda i, n: i != n) if shape == "up" else (lambda i, n: i < n)
            stepped = f"(i32.add (local.get $i) (i32.const {k}))"
            if self.chance(50):
                operands = f"(local.tee $i {stepped}) (local.get $n)"
                if self.chance(30) and shape == "up":
                    operands = f"(local.get $n) (local.tee $i {stepped})"
                c.tail = [f"(br_if $loop ({compare} {operands}))"]
            else:
                c.tail = [
                    f"(local.set $i {stepped})",
                    f"(br_if $loop ({compare} (local.get $i) (local.get $n)))",
                ]
            c.trips = lambda args, starts: count_trips(
                start, k, bound(args), stays, lambda i, n: args["b"] != 0
            )
        elif shape == "down":
            log_step = self.pick((0, 0, 1, 2))
            k = 1 << log_step
            c.setup.append(f"(local.set $n (i32.shl (local.get $b) (i32.const {log_step})))")
            c.guard = "(br_if $exit (i32.eqz (local.get $n)))"
            stepped = self.pick(
                (
                    f"(i32.sub (local.get $n) (i32.const {k}))",
                    f"(i32.add (local.get $n) (i32.const {-k}))",
                )
            )
            if self.chance(50):
                c.tail = [f"(br_if $loop (local.tee $n {stepped}))"]
            else:
                c.tail = [f"(local.set $n {stepped})", "(br_if $loop (local.get $n))"]
            c.trips = lambda args, starts: count_trips(
                (args["b"] << log_step) & MASK, -k, 0, lambda i, n: i != 0, lambda i, n: i != 0
            )
        elif shape == "top":  # for (i = 0; i < b; i++), not rotated
            c.setup.append("(local.set $i (i32.const 0))")
            c.head = "(br_if $exit (i32.ge_u (local.get $i) (local.get $b)))"
            c.tail = ["(local.set $i (i32.add (local.get $i) (i32.const 1)))", "(br $loop)"]
            c.trips = lambda args, starts: count_trips(
                0, 1, args["b"], lambda i, n: i < n, None, top=True
            )
        elif shape == "end":  # for (end = p + b * k; p != end; p += k)
            p = self.pointers[0]
            p.counter = True
            c.setup.append(
                f"(local.set $n (i32.add (local.get {p.name}) (i32.mul (local.get $b)"
                f" (i32.const {p.step}))))"
            )
            c.guard = f"(br_if $exit (i32.eq (local.get {p.name}) (local.get $n)))"
            c.tail = [
                f"(br_if $loop (i32.ne (local.tee {p.name} (i32.add (local.get {p.name})"
                f" {self.step_wat(p)})) (local.get $n)))"
            ]
            step = p.step

            def trips_end(args: Args, starts: dict[str, int]) -> int | None:
                begin = starts[p.name]
                end = (begin + args["b"] * step) & MASK
                return count_trips(begin, step, end, lambda i, n: i != n, lambda i, n: i != n)

            c.trips = trips_end
        else:  # i <=s n or i <s n, i a counter or the pointer itself
            own = shape == "own signed" and (self.pointers[0].step or 1) > 0
            p = self.pointers[0]
            if own:
                p.counter = True
                counter, step_wat = p.name, self.step_wat(p)
            else:
                counter = "$i"
                constant = self.pick((1, 2, 4, 1, None if self.stride_wat else 3))
                step_wat = "(local.get $st)" if constant is None else f"(i32.const {constant})"
                start = self.pick((0, 0, 1, 5, -16, 0x7FFFFFF0))
                c.setup.append(f"(local.set $i (i32.const {start}))")
            less = self.pick(("le", "lt"))
            short = self.pick((0, 0, 1, 3))
            # n = i + b * step - short: the bound, for b steps of i or about
            c.setup.append(
                f"(local.set $n (i32.sub (i32.add (local.get {counter}) (i32.mul (local.get $b)"
                f" {step_wat})) (i32.const {short})))"
            )
            if self.chance(70):
                c.guard = (
                    f"(br_if $exit (i32.{'gt' if less == 'le' else 'ge'}_s (local.get {counter})"
                    " (local.get $n)))"
                )
            stepped = f"(i32.add (local.get {counter}) {step_wat})"
            if self.chance(50):
                c.tail = [
                    f"(br_if $loop (i32.{less}_s (local.tee {counter} {stepped}) (local.get $n)))"
                ]
            else:
                c.tail = [
                    f"(local.set {counter} {stepped})",
                    f"(br_if $loop (i32.{less}_s (local.get {counter}) (local.get $n)))",
                ]
            stays = (
                (lambda i, n: signed(i) <= signed(n))
                if less == "le"
                else (lambda i, n: signed(i) < signed(n))
            )
            guarded = bool(c.guard)

            def trips_signed(args: Args, starts: dict[str, int]) -> int | None:
                begin = starts[p.name] if own else start
                step = (
                    self.step_of(p, args)
                    if own
                    else (self.stride(args) if constant is None else constant)
                )
                bound = (begin + args["b"] * step - short) & MASK
                return count_trips(begin, step, bound, stays, stays if guarded else None)

            c.trips = trips_signed

    # ---- the module ------------------------------------------------------------------------

    def body(self) -> list[str]:
        """The loop's body before its exit test: loads or a store, the pointers' steps."""
        before: list[str] = []
        after: list[str] = []
        if self.kind in ("read", "near") and self.near not in ("two stores", "varying store"):
            for _ in range(1 + self.choose.below(3)):
                late = self.chance(20)
                loads = [self.load(late) for _ in range(1 + (self.chance(35)))]
                (after if late else before).append(self.accumulate(loads))
        if self.kind == "fill" or self.near in ("two stores", "varying store", "loads and a store"):
            late = self.chance(25)
            (after if late else before).append(self.store(self.near == "varying store", late))
            if self.near == "two stores":
                before.insert(self.choose.below(len(before) + 1), self.store())
        if self.chance(20):  # a local stepped like a pointer but never an address: `u += k`
            step = self.pick(
                ("(i32.const 1)", "(i32.const 3)", "(i32.const 65536)", "(local.get $c)")
            )
            before.insert(
                self.choose.below(len(before) + 1),
                f"(local.set $u (i32.add (local.get $u) {step}))",
            )
        if self.near == "grow":  # reads past the first page succeed once it has grown
            before.append("(local.set $s (i32.add (local.get $s) (memory.grow (i32.const 1))))")
        if self.near == "call":
            self.helper = True
            p = self.pick(self.pointers)
            before.insert(
                self.choose.below(len(before) + 1),
                f"(local.set $s (i32.add (local.get $s) (call $g (i32.add (local.get {p.name})"
                f" (i32.const {self.pick((0, p.width, 8 * p.width, 64))})))))",
            )
        if self.near == "pointer as value":
            p = self.pick(self.pointers)
            value = self.pick((f"(local.get {p.name})", "(local.get $i)", "(local.get $n)"))
            before.append(f"(local.set $s (i32.add (local.get $s) {value}))")
        steps = []
        for p in self.pointers:
            if p.counter:
                continue
            step = f"(local.set {p.name} (i32.add (local.get {p.name}) {self.step_wat(p)}))"
            steps.append(step)
            if self.near == "stepped twice" and p is self.pointers[-1]:
                after.append(step)
        if self.chance(30):
            steps.reverse()
        return before + steps + after

    def aim(self, pointer: Pointer, trips: int, args: Args, where: str) -> int:
        """A parameter value starting `pointer` so that all its accesses lie inside the page,
        or its last one ends at the end of memory (or one byte or one element past), or its
        lowest is just below 0, or near 2**32, or anywhere in 32 bits."""
        span = (trips - 1) * signed(self.step_of(pointer, args)) if trips else 0
        reach = max(pointer.reach, pointer.width)
        lowest, highest = -pointer.low - min(0, span), PAGE - reach - max(0, span)
        if where == "inside" and lowest <= highest:
            address = lowest + self.choose.below(highest - lowest + 1)
        elif where == "end":
            address = PAGE + self.pick((0, 0, 1, pointer.width, -pointer.width)) - reach - span
        elif where == "top":
            address = (1 << 32) - self.pick((8, 64, 256, 1024)) * self.pick((1, 2, 3))
        elif where == "low":  # `p - k` just below 0 on the first access: Wasm wraps, traps
            address = -pointer.low - self.pick((1, pointer.width, 8)) if pointer.low < 0 else 0
        elif where == "inside":
            address = self.choose.below(PAGE)
        else:
            address = self.choose.below(1 << 32)
        return pointer.aim(address & MASK, self.choose)

    def trips(self, args: Args) -> int | None:
        """The loop's iterations for these arguments (None: more than MAX_TRIPS)."""
        starts: dict[str, int] = {}
        for p in self.pointers:
            starts[p.name] = p.value(args, starts)
        return self.counter.trips(args, starts)

    def arguments(self, choose: Chooser | None = None) -> list[int]:
        """Arguments for `f` with which the loop runs at most MAX_TRIPS times."""
        if choose is not None:
            self.choose = choose
        args: Args = {name: 0 for name in PARAMS}
        for _ in range(4):
            kind = self.choose.below(10)
            args["b"] = (
                8 + self.choose.below(53) if kind < 6
                else self.choose.below(8) if kind < 8
                else self.pick((0, 1, 61, 62, 63))
            )  # fmt: skip
            args["c"] = self.pick(STRIDE_VALUES) if self.chance(60) else self.choose.below(64)
            args["x"] = self.choose.below(PAGE) if self.chance(70) else self.choose.below(1 << 32)
            args["v"] = self.pick(I64_VALUES) if self.chance(60) else self.choose.below(1 << 64)
            args["w"] = self.pick(F64_VALUES) if self.chance(70) else self.choose.below(1 << 64)
            args["a"] = args["e"] = self.choose.below(PAGE)
            trips = self.trips(args)
            if trips is None:
                continue
            # every pointer inside mostly; one at the end, below 0 or near 2**32; or all
            # anywhere
            aimed = [p for p in self.pointers if p.param is not None]
            where = ["inside"] * len(aimed)
            kind = self.choose.below(10)
            if aimed and 4 <= kind <= 8:
                where[self.choose.below(len(aimed))] = ("end", "end", "low", "top", "top")[kind - 4]
            elif kind == 9:
                where = [self.pick(("inside", "end", "low", "top", "anywhere")) for _ in aimed]
            for p, place in zip(aimed, where):
                args[p.param] = self.aim(p, trips, args, place)
            if self.trips(args) is not None:
                return [args[name] for name in PARAMS]
        # a count of 0 and a stride of 1 always make a short loop
        args.update(b=0, c=1, a=0, e=0)
        assert self.trips(args) is not None
        return [args[name] for name in PARAMS]

    def module(self) -> str:
        n_pointers = 1 + self.choose.below(3 if self.kind != "fill" else 2)
        widths = [self.pick((1, 4, 8, 8, 4, 2)) for _ in range(n_pointers)]
        if self.shape in ("end", "own signed") and self.chance(60):
            # a pointer that is its own counter is compared as an address: held as an
            # element index (for a typed view), it is shifted back for the test, which
            # versioning does not follow; bytes need no shift
            widths[0] = 1
        if self.chance(35):
            self.make_stride(max(widths))
        for index, width in enumerate(widths):
            pointer = self.make_pointer(index, width)
            self.pointers.append(pointer)
            self.choose_step(pointer)
        self.make_counter()
        body = self.body()
        c = self.counter
        lines = [
            "(local.set $s (i32.const -2128831035))",
            f"(local.set $u {self.pick(('(local.get $x)', '(i32.const -5)', '(i32.const 0)'))})",
        ]
        if self.stride_wat:
            lines.append(f"(local.set $st {self.stride_wat})")
        lines.append(
            f"(local.set $k (i32.and (local.get $x) (i32.const {self.pick((-8, -4, -1))})))"
        )
        lines.append(
            f"(local.set $y (i32.and (local.get $x) (i32.const {self.pick((255, 65535))})))"
        )
        lines.append(
            f"(local.set $o (i32.and (local.get $x) (i32.const {self.pick((0x3F8, 0x7C, -8))})))"
        )
        lines += [f"(local.set {p.name} {p.start})" for p in self.pointers]
        lines += c.setup
        lines.append("(block $exit")
        if c.guard:
            lines.append("  " + c.guard)
        lines.append("  (loop $loop")
        if c.head:
            lines.append("    " + c.head)
        lines += ["    " + line for line in body + c.tail]
        lines.append("  ))")
        if self.chance(25):  # the pointers' final values used as an address
            p = self.pick(self.pointers)
            lines.append(
                f"(local.set $s (i32.add (local.get $s) (i32.load8_u (local.get {p.name}))))"
            )
        helper = ""
        if self.helper:
            helper = (
                "\n  (func $g (param $q i32) (result i32)"
                "\n    (i32.store8 offset=1 (local.get $q) (i32.const 77))"
                "\n    (i32.load8_u (local.get $q)))"
            )
        overlay = ""
        if self.chance(40):  # varied per module: bytes at a spot the loops may read
            raw = "".join(f"\\{self.choose.below(256):02x}" for _ in range(32))
            overlay = (
                f'\n  (data (i32.const {self.pick((0, 4096, PAGE - 32, 16384, 32768))}) "{raw}")'
            )
        pointers = " ".join(f"(local.get $p{k})" for k in range(3))
        limits = "1 3" if self.near == "grow" else "1"
        return (
            f'(module\n  (memory (export "mem") {limits})\n'
            f'  (data (i32.const 0) "{FILL_DATA}"){overlay}{helper}\n'
            '  (func (export "f") (param $a i32) (param $b i32) (param $c i32) (param $e i32)'
            " (param $x i32) (param $v i64) (param $w f64)\n"
            "    (result i32 i64 f64 i32 i32 i32 i32 i32 i32)\n"
            "    (local $i i32) (local $n i32) (local $st i32) (local $k i32) (local $y i32)"
            " (local $u i32) (local $o i32)\n"
            "    (local $p0 i32) (local $p1 i32) (local $p2 i32)"
            " (local $s i32) (local $t i64) (local $d f64)\n    "
            + "\n    ".join(lines)
            + f"\n    (local.get $s) (local.get $t) (local.get $d) (local.get $i) (local.get $n)"
            f" (local.get $u) {pointers})\n)\n"
        )


def strided_module(choose: Chooser) -> tuple[StridedShapes, str]:
    shapes = StridedShapes(choose)
    return shapes, shapes.module()


def short_wat(wat: str) -> str:
    """The module without its page of data, for messages."""
    return re.sub(r'\(data \(i32.const 0\) "[^"]{1000,}"\)', "(data (i32.const 0) FILL)", wat)


# ---- the property ------------------------------------------------------------------------------


@settings(
    max_examples=700,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_strided_shapes_agree_with_wasmtime_in_results_traps_and_memory(data):
    choose = Chooser.from_hypothesis(data)
    shapes, wat = strided_module(choose)
    calls = [shapes.arguments() for _ in range(3)]
    try:
        check(wat, calls)
    except AssertionError as error:
        raise AssertionError(short_wat(str(error))) from None


# ---- the generator reaches what it is for ------------------------------------------------------


SLICE_READ = re.compile(r"\bfor e0(, e\d+)* in (zip\()?m0\w?\[")
SLICE_FILL = re.compile(r"\bm0\w?\[[^\]\n]*:[^\]\n]*\] = ")
# a line walking slices: a `for` over them, or an assignment to one
SLICE_WALK = re.compile(r"^( +)(for e0\b.*|m0\w?\[[^\]\n]*:[^\]\n]*\] = .*)$", re.MULTILINE)


def instrumented(wasm: bytes) -> tuple[str, types.ModuleType, dict[str, int]]:
    """(the translation, it loaded as a module, counts): the module counts in `counts` each
    time a call walks slices (`read`, `fill`), so a test can tell the fast path ran."""
    source = wasm2py.translate(wasm, name="strided")
    counts = {"read": 0, "fill": 0}

    def walked(kind: str) -> None:
        counts[kind] += 1

    def mark(line: re.Match) -> str:
        kind = "read" if line[2].startswith("for") else "fill"
        return f"{line[1]}_walked({kind!r})\n{line[0]}"

    module = types.ModuleType("strided")
    module.__dict__["_walked"] = walked
    exec(compile(SLICE_WALK.sub(mark, source), "<strided>", "exec"), module.__dict__)
    return source, module, counts


def test_generated_shapes_reach_both_rewrites_and_their_fast_paths():
    """Over a fixed sample, many translations contain each rewrite, and calls run the
    slices (as well as the plain loop, and traps): a generator drifting off target, or
    arguments that never let the slices run, would pass the property vacuously."""
    seen = dict.fromkeys(["_trips", "read", "fill", "near", "read ran", "fill ran", "trap"], 0)
    rng = random.Random(7)
    modules = 120
    for _ in range(modules):
        shapes, wat = strided_module(Chooser.from_random(rng))
        source, module, counts = instrumented(wasmtime.wat2wasm(wat))
        seen["_trips"] += "_trips = " in source
        seen["read"] += bool(SLICE_READ.search(source))
        seen["fill"] += bool(SLICE_FILL.search(source))
        seen["near"] += shapes.kind == "near"
        f = module.instantiate().exports["f"]
        for _ in range(3):
            *ints, w = shapes.arguments(Chooser.from_random(rng))
            try:
                f(*ints, f64_from_bits(w))
            except Trap:
                seen["trap"] += 1
        seen["read ran"] += counts["read"] > 0
        seen["fill ran"] += counts["fill"] > 0
    # (measured: 51 rewritten, 26 and 25 by kind, slices run in 11 and 15 of 120 modules)
    assert seen["_trips"] >= modules * 0.3, seen
    assert min(seen["read"], seen["fill"]) >= modules * 0.12, seen
    assert min(seen["read ran"], seen["fill ran"]) >= modules * 0.06, seen
    assert min(seen["near"], seen["trap"]) >= 5, seen
