"""Pointer loops shaped like C compiler output, run by wasm2py and by wasmtime, compared.

lower/aligned.py turns proven-aligned accesses into typed-view indexing, lower/webs.py splits a
local reused for unrelated values, lower/indices.py computes addresses as element indices and
holds pointer locals as element indices, and lower/versioning.py gives counted loops a copy
without wraparound behind an entry test. Each is sound only if every alignment proof, every
wraparound and every range bound is right, and a slip shows only for some values (a pointer
near 2**32, a start that is misaligned for one argument and not another). So this generates
random modules of the shapes clang emits for `for (p = a; ...; p += k)` loops and checks the
translation, with both lowering strategies, against wasmtime: every call's results, whether
and how it traps, and the exported memory afterwards (stores before a trap must be kept, and
no store may land where Wasm would not have made it).

The generator (`PointerLoops`) combines: a 1-page memory filled with constants (and sometimes
a data segment); 1 to 3 loops, sequential or nested, in clang's `block`/`loop`/`br_if` shapes
(tested at the top; rotated, with the counter starting anywhere and compared !=, <u, <s or
<=s; counted down; a pointer run to an end pointer; rotated with a copied counter), exited
early on a loaded value or through a `br_table` switch; a counter and one or more pointers
stepped by +-1, 2, 4, 8, 16 or 56, by a stride local, conditionally, or by `local.tee`
inside an address; starts that are aligned, misaligned, parameters masked with `i32.and`, sums
of shifted terms, a shadow-stack frame below a private stack pointer, or near 2**32 so that
`p + k` wraps to a small address; loads and stores of every width at `p`, `p + k`, `p - k`,
`p + (i << k)` (shift counts of 32 and more included), `p + i * size`, and with a memarg
offset (which does not wrap, so may trap); locals reused as a counter in one loop and a
pointer in the next, or made misaligned after being a pointer; pointers used outside addresses
(compared, subtracted, stored, returned), so an index held for a pointer must be shifted back;
loaded values compared signed and swapped back, as in a sort; `memory.copy`/`memory.fill`; and
calls to a helper that stores, may grow memory, and may raise a global loop bound.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wasm2py
from tests.fuzz.bodies import Chooser
from tests.fuzz.engines import Outcome, Wasm2pyRun, WasmtimeRun, same_outcome

PARAMS = ("$a", "$b", "$c")  # $a is used as a start address, $b and $c as counts
POOL = tuple(f"$x{k}" for k in range(8))  # the i32 locals: counters, pointers, ends, strides
STEPS = (4, 8, 1, 2, 16, 56)
OFFSETS = (4, 8, 16, 1, 2, 3, 24, 56, 64, 256, 4096, -4, -8, -16, -56)
FAR_OFFSETS = (0x10000, -0x10000, 65532, -4096, 0x7FFFFFFC, -0x80000000)  # off the page, mostly
TOP_STARTS = (16, 64, 256, 4096)  # pointers that start this far below 2**32
MEMARG_OFFSETS = (4, 8, 16, 1, 2, 24, 56, 4096)
FAR_MEMARG_OFFSETS = (65528, 65536, 0xFFFFFFF0)  # past the page (a memarg offset never wraps)
LOADS = (
    "i32.load", "i32.load8_u", "i32.load8_s", "i32.load16_u", "i32.load16_s",
    "i64.load", "i64.load32_s", "i64.load32_u", "i64.load16_s", "i64.load8_u", "f64.load",
)  # fmt: skip
STORES = (
    "i32.store", "i32.store8", "i32.store16",
    "i64.store", "i64.store32", "i64.store16", "i64.store8", "f64.store",
)  # fmt: skip
ELEMENT_SIZES = (4, 8, 2, 1)
PARAM_VALUES = (0, 16, 1024, 1027, 4096, 8, 65520, 65535, 65536, 0xFFFFFFF0, 0xFFFFFF00, 0x80000000)
COUNT_VALUES = (0, 1, 2, 3, 5, 17, 63, 64, 100, 0xFFFFFFFF, 0x3FFFFFFF, 0x40000000)


def natural_width(op: str) -> int:
    """The bytes a load or store instruction accesses: i64.load32_s -> 4."""
    kind, _, rest = op.partition(".")
    digits = "".join(ch for ch in rest if ch.isdigit())
    if digits:
        return int(digits) // 8
    return 8 if kind in ("i64", "f64") else 4


@dataclass
class Loop:
    """A loop being generated: its locals, which the code inside must not disturb."""

    counter: str
    pointers: list[str]
    exit: str = ""  # the label of the block that ends it
    busy: set[str] = field(default_factory=set)  # counter, pointers, end, stride
    fixed: set[str] = field(default_factory=set)  # stepped only by the loop's own step


class PointerLoops:
    """One module: `f(a, b, c)` fills memory, runs pointer loops, returns what it computed.

    Every loop terminates: a counter (or a pointer run up to an end pointer) is changed only by
    its own loop, by one constant step, against a bound below 64."""

    def __init__(self, choose: Chooser):
        self.choose = choose
        self.lines: list[str] = []
        self.depth = 2
        self.loops_left = 1 + choose.below(3)
        self.labels = 0
        self.stack: list[Loop] = []
        self.elements: dict[str, int] = {}  # pointer -> the size of what it steps through
        self.top: set[str] = set()  # pool locals that hold a value near 2**32
        self.maybe_top: set[str] = set()  # those that do for some arguments
        self.started: set[str] = set()  # pool locals that have been given a pointer
        self.counters: set[str] = set()  # pool locals that have counted a loop
        self.helper = choose.chance(30)  # $g: stores a byte, reads a word, may grow memory
        self.grows = self.helper and choose.chance(50)
        # A global count $n, read by outer loops' exit tests (C's `for (i = 0; i != n; i++)`
        # with n a global); $g raises it to this, so a loop's trip count changes under it.
        self.raise_to = self.pick((40, 24, 63)) if self.helper and choose.chance(50) else 0
        # A shadow stack frame: $fp = $sp - size, as C allocates local arrays. The global is
        # private, so its alignment is inferred (lower/global_alignment.py); one size in four
        # leaves it a multiple of 4 only.
        self.frame = self.pick((256, 4096, 64, 100)) if choose.chance(25) else 0

    # ---- choices ---------------------------------------------------------------------------

    def pick(self, items: Sequence):
        return self.choose.pick(items)

    def chance(self, percent: int) -> bool:
        return self.choose.chance(percent)

    def emit(self, text: str) -> None:
        self.lines.append("  " * self.depth + text)

    def busy(self) -> set[str]:
        return set().union(*(loop.busy for loop in self.stack))

    def fixed(self) -> set[str]:
        return set().union(*(loop.fixed for loop in self.stack))

    def any_pointer(self) -> str:
        """A local to address through: the loops' pointers mostly, any local sometimes."""
        pointers = [p for loop in self.stack for p in loop.pointers] or sorted(self.started)
        if pointers and not self.chance(10):
            return self.pick(pointers)
        return self.pick(POOL)

    def steppable(self) -> list[str]:
        """The pointers code inside the loops may step besides the loops' own steps."""
        fixed = self.fixed()
        return [p for loop in self.stack for p in loop.pointers if p not in fixed]

    def step(self, pointer: str) -> int:
        """A constant step: a multiple of the element size mostly, of either sign; up mostly
        for a pointer that starts near 2**32 (it must wrap round to be valid)."""
        size = self.elements.get(pointer, 4)
        steps = [k for k in STEPS if k % size == 0] if self.chance(75) else STEPS
        sign = 1 if pointer in self.top and not self.chance(10) else self.pick((1, -1))
        return self.pick(steps) * sign

    def counter(self) -> str:
        counters = [loop.counter for loop in self.stack]
        return self.pick(counters) if counters else self.pick(POOL)

    # ---- expressions -----------------------------------------------------------------------

    def offset(self, pointer: str, width: int) -> int:
        """A constant added to `pointer`: a multiple of the access width mostly; one that wraps
        a pointer near 2**32 round to a small address; now and then one off the page."""
        if (pointer in self.top and not self.chance(5)) or (
            pointer in self.maybe_top and self.chance(30)
        ):
            return self.pick(TOP_STARTS) + self.pick((0, 8, 64, 512))
        if self.chance(2):
            return self.pick(FAR_OFFSETS)
        return self.pick([k for k in OFFSETS if k % width == 0] if self.chance(70) else OFFSETS)

    def address(self, p: str, width: int) -> str:
        """An address computed from pointer `p`, the way compilers do."""
        get = f"(local.get {p})"
        kind = self.choose.below(8)
        if kind <= 1 and p not in self.top:
            return get
        if kind <= 2:
            return f"(i32.add {get} (i32.const {self.offset(p, width)}))"
        if kind == 3:
            return f"(i32.sub {get} (i32.const {self.pick(OFFSETS)}))"
        shift = self.pick((width.bit_length() - 1, 2, 3, 0, 1, 4, 34, -30))  # taken mod 32
        indexed = f"(i32.shl (local.get {self.counter()}) (i32.const {shift}))"
        if kind == 4:
            return f"(i32.add {get} {indexed})"
        if kind == 5:
            return f"(i32.add (i32.add {indexed} {get}) (i32.const {self.offset(p, width)}))"
        if kind == 6 and p in self.steppable():  # pre-increment: *(p += k)
            return f"(local.tee {p} (i32.add {get} (i32.const {self.step(p)})))"
        if kind == 6:  # an array of structs: p + i * size
            size = self.pick((12, 24, 16, 6, -4, -8))
            return f"(i32.add {get} (i32.mul (local.get {self.counter()}) (i32.const {size})))"
        return f"(i32.add {get} (local.get {self.pick(POOL)}))"

    def memarg(self, op: str) -> str:
        parts = []
        if self.chance(25):
            far = self.chance(5)
            parts.append(f"offset={self.pick(FAR_MEMARG_OFFSETS if far else MEMARG_OFFSETS)}")
        if self.chance(30):  # a hint only, which may be wrong: any power of two up to natural
            natural = natural_width(op)
            parts.append(f"align={self.pick([w for w in (1, 2, 4, 8) if w <= natural])}")
        return "".join(" " + part for part in parts)

    def access(self, ops: Sequence[str]) -> tuple[str, str]:
        """(op, `op memarg address`): mostly an op as wide as the pointer's elements."""
        p = self.any_pointer()
        size = self.elements.get(p, 4)
        if self.chance(70):
            ops = [op for op in ops if natural_width(op) == size] or ops
        op = self.pick(ops)
        return op, f"{op}{self.memarg(op)} {self.address(p, natural_width(op))}"

    def load(self, valtype: str) -> str:
        return "(" + self.access([op for op in LOADS if op.startswith(valtype)])[1] + ")"

    def value(self, valtype: str) -> str:
        """A value to store: constants, accumulators, loads, and pointers themselves (read
        before or after the address, or stepped on the way: `*p = p++`)."""
        p = self.any_pointer()
        kind = self.choose.below(7)
        if valtype == "i64":
            if kind == 0:
                return f"(i64.const {self.choose.below(1 << 30) * 0x9E3779B9 - (1 << 40)})"
            if kind == 1:
                return "(local.get $t)"
            if kind <= 3:
                return f"(i64.extend_i32_{'us'[kind - 2]} (local.get {p}))"
            return self.load("i64")
        if valtype == "f64":  # f64s are moved, never computed with: NaN payloads stay exact
            if kind == 0:
                return f"(f64.const {self.choose.below(1000) / 8})"
            if kind == 1:
                return "(local.get $d)"
            if kind == 2:
                return f"(f64.convert_i32_s (local.get {p}))"
            return self.load("f64")
        if kind == 0:
            return f"(i32.const {self.choose.below(1 << 16) - 100})"
        if kind == 1:
            return "(local.get $s)"
        if kind == 2:
            return f"(local.get {p})"
        if kind == 3:
            return f"(i32.add (local.get {p}) (i32.const {self.pick(OFFSETS)}))"
        if kind == 4:
            return self.load("i32")
        if kind == 5 and self.steppable():
            q = self.pick(self.steppable())
            return f"(local.tee {q} (i32.add (local.get {q}) (i32.const {self.step(q)})))"
        if kind == 5 and self.helper:
            return f"(call $g {self.address(p, 1)})"
        return f"(i32.sub (local.get {p}) (local.get {self.pick(POOL)}))"

    def pointer_start(self, pointer: str) -> str:
        """A start value: aligned, misaligned, from a masked parameter, a sum of shifted
        terms, near 2**32, or another local (perhaps a finished loop's counter). Constants
        leave room for 63 steps of 56 bytes either way."""
        kind = self.choose.below(10)
        near_top = "maybe"
        count = self.pick(("$b", "$c"))
        if kind == 0:
            text = f"(i32.const {4096 + self.choose.below(256) * self.pick((16, 8, 4, 64))})"
            near_top = "no"
        elif kind == 1:
            text = f"(i32.const {4096 + self.choose.below(4096) * 2 + 1})"
            near_top = "no"
        elif kind == 2:
            text = f"(i32.const {-self.pick(TOP_STARTS)})"
            near_top = "yes"
        elif kind == 3:
            text = f"(i32.and (local.get $a) (i32.const {self.pick((-16, -4, -8, 0xFFF0))}))"
        elif kind == 4:
            shift = self.pick((2, 3, 4, 0))
            text = (
                f"(i32.add (i32.shl (local.get {count}) (i32.const {shift}))"
                f" (i32.const {4096 + self.choose.below(64) * self.pick((16, 4, 1))}))"
            )
        elif kind == 5:
            text = (
                f"(i32.add (i32.and (local.get $a) (i32.const -8))"
                f" (i32.shl (local.get {count}) (i32.const {self.pick((3, 2, 4))})))"
            )
        elif kind == 6:
            text = f"(i32.sub (i32.const 8192) (i32.shl (local.get {count}) (i32.const 2)))"
        elif kind == 7 and self.frame and self.chance(60):  # an array in the stack frame
            text = f"(i32.add (local.get $fp) (i32.const {self.pick((16, 0, 32, 8, 20, 4))}))"
            near_top = "no"
        elif kind == 7 and self.chance(20):  # near the end of memory, however large
            text = "(i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 256))"
        elif kind == 7:
            text = "(local.get $a)"
        elif kind == 8 and self.started:  # from another pointer
            other = self.pick(sorted(self.started))
            near_top = "yes" if other in self.top else "maybe"
            text = f"(i32.add (local.get {other}) (i32.const {self.pick(OFFSETS)}))"
        else:  # from a finished loop's counter (or whatever the local holds)
            other = self.pick(sorted(self.counters) or POOL)
            text = (
                f"(i32.add (i32.shl (local.get {other}) (i32.const {self.pick((2, 3, 0))}))"
                f" (i32.const {self.pick((4096, 4099, 8192))}))"
            )
        self.started.add(pointer)
        self.top.discard(pointer)
        self.maybe_top.discard(pointer)
        if near_top == "yes":
            self.top.add(pointer)
        elif near_top == "maybe":
            self.maybe_top.add(pointer)
        return text

    def bound(self) -> str:
        """An iteration count: below 64 outermost, 16 nested once, 8 nested twice (a nest runs
        its body 6615 times at most); from a parameter or a constant."""
        limit = (63, 15, 7)[len(self.stack)]
        if self.chance(40):
            return f"(i32.and (local.get {self.pick(PARAMS)}) (i32.const {limit}))"
        return f"(i32.const {self.choose.below(limit + 1)})"

    # ---- statements ------------------------------------------------------------------------

    def statement(self) -> None:
        kind = self.choose.below(12)
        if kind <= 3:
            op, access = self.access(LOADS)
            if op.startswith("i32"):
                self.emit(f"(local.set $s (i32.add (local.get $s) ({access})))")
            elif op.startswith("i64"):
                self.emit(f"(local.set $t (i64.add (local.get $t) ({access})))")
            else:
                self.emit(f"(local.set $d ({access}))")
        elif kind <= 6:
            op, access = self.access(STORES)
            self.emit(f"({access} {self.value(op[:3])})")
        elif kind == 7:  # pointers as values: summed, differenced, compared
            p, q = self.any_pointer(), self.any_pointer()
            self.emit(
                self.pick(
                    (
                        f"(local.set $s (i32.add (local.get $s) (local.get {p})))",
                        f"(local.set $s (i32.xor (local.get $s)"
                        f" (i32.shr_u (i32.sub (local.get {p}) (local.get {q})) (i32.const 2))))",
                        f"(if (i32.lt_u (local.get {p}) (local.get {q}))"
                        f" (then (local.set $s (i32.add (local.get $s) (i32.const 1)))))",
                        f"(local.set $s (select (local.get {p}) (local.get $s)"
                        f" (i32.gt_s (local.get {p}) (local.get {q}))))",
                        f"(local.set $d (f64.convert_i32_u (local.get {p})))",
                        f"(local.set $t (i64.add (local.get $t) (i64.extend_i32_s (local.get {p}))))",
                    )
                )
            )
        elif kind == 8 and self.steppable():  # a conditional step
            p = self.pick(self.steppable())
            self.emit(
                f"(if (i32.and (local.get {self.counter()}) (i32.const 1))"
                f" (then (local.set {p} (i32.add (local.get {p}) (i32.const {self.step(p)})))))"
            )
        elif kind == 9 and self.loops_left and len(self.stack) < 3:
            self.loop()
        elif kind == 10 and self.stack and self.chance(50):
            self.control()
        elif kind == 10:  # a local made misaligned (or anything else) after being a pointer
            x = self.pick([x for x in POOL if x not in self.busy()] or ["$s"])
            self.emit(
                f"(local.set {x} (i32.{self.pick(('add', 'or'))} (local.get {x})"
                f" (i32.const {self.pick((3, 1, 2, 5))})))"
            )
        else:  # two loads in one expression: which address is computed first matters
            first, second = self.load("i32"), self.load("i32")
            self.emit(f"(local.set $s (i32.add (local.get $s) (i32.sub {first} {second})))")

    def control(self) -> None:
        """Inside a loop: an early exit on a loaded value (`while (*p)`), a pointer derived
        from another, a pointer reloaded from memory or selected, a sort's compare and swap,
        a call beside a load, a `br_table` switch, memcpy/memset, or an if with two arms."""
        kind = self.choose.below(8)
        loop = self.stack[-1]
        free = [x for x in POOL if x not in self.busy()]
        if kind == 0:
            target = self.pick(self.stack).exit
            compare = self.pick(("i32.eqz", "i32.eqz", "i32.ne (i32.const 7)"))
            self.emit(f"(br_if {target} ({compare} {self.load('i32')}))")
        elif kind == 1 and free:
            p, x = self.pick(loop.pointers), self.pick(free)
            derived = self.pick(
                (
                    f"(i32.add (local.get {p}) (i32.const {self.pick(OFFSETS)}))",
                    f"(i32.add (local.get {p}) (i32.shl (local.get {loop.counter}) (i32.const 3)))",
                    f"(i32.and (local.get {p}) (i32.const -16))",
                )
            )
            self.emit(f"(local.set {x} {derived})")
            loop.pointers.append(x)
            loop.busy.add(x)
            self.elements[x] = self.elements.get(p, 4)
            self.top.discard(x)
            self.maybe_top.add(x)
        elif kind == 2 and self.steppable():  # reloaded, or chosen: p = c ? p + k : q
            p = self.pick(self.steppable())
            if self.chance(50):
                value = f"(i32.and {self.load('i32')} (i32.const {self.pick((0xFFF8, 0x3FFC, 0xFFFF))}))"
            else:
                value = (
                    f"(select (i32.add (local.get {p}) (i32.const {self.step(p)}))"
                    f" (local.get {self.any_pointer()}) (i32.and (local.get {loop.counter})"
                    " (i32.const 4)))"
                )
            self.emit(f"(local.set {p} {value})")
            self.top.discard(p)
            self.maybe_top.discard(p)
        elif kind == 3 and len(free) >= 2:  # a sort's step: loaded, compared signed, swapped
            x, y = free[:2]
            p = self.any_pointer()
            width = self.pick((4, 4, 2, 1))
            first, second = self.address(p, width), self.address(p, width)
            store = {4: "i32.store", 2: "i32.store16", 1: "i32.store8"}[width]
            self.emit(f"(local.set {x} (i32.load {first}))")
            self.emit(f"(local.set {y} (i32.load offset={self.pick((4, 8, 2))} {second}))")
            compare = self.pick(("i32.gt_s", "i32.lt_s", "i32.le_s", "i32.ge_u"))
            self.emit(f"(if ({compare} (local.get {x}) (local.get {y})) (then")
            self.emit(f"  ({store} {first} (local.get {y}))")
            self.emit(f"  ({store} offset=4 {second} (local.get {x}))))")
        elif kind == 4 and self.helper:  # a call (which may grow memory) beside a load
            call = f"(call $g {self.address(loop.pointers[0], 1)})"
            load = self.load("i32")
            both = f"{call} {load}" if self.chance(50) else f"{load} {call}"
            self.emit(f"(local.set $s (i32.add (local.get $s) (i32.xor {both})))")
        elif kind == 6:  # memcpy and memset of a few elements, as C's struct copies become
            p, q = self.any_pointer(), self.any_pointer()
            size = f"(i32.const {self.pick((16, 8, 3, 0, 64))})"
            if self.chance(50):
                self.emit(f"(memory.copy {self.address(p, 1)} {self.address(q, 1)} {size})")
            else:
                self.emit(f"(memory.fill {self.address(p, 1)} (local.get {loop.counter}) {size})")
        elif kind == 5:  # a switch: br_table to its cases, or out of the loop
            self.labels += 1
            cases = [f"$C{self.labels}_{k}" for k in range(3)]
            targets = [*cases, loop.exit] if self.chance(30) else cases
            table = " ".join(self.pick(targets) for _ in range(3))
            self.emit(f"(block {cases[2]} (block {cases[1]} (block {cases[0]}")
            self.emit(
                f"  (br_table {table} {self.pick(targets)}"
                f" (i32.and (local.get {loop.counter}) (i32.const 3))))"
            )
            self.depth += 1
            self.statement()
            if self.chance(50):
                self.emit(f"(br {cases[2]})")
            self.emit(")")
            self.statement()
            self.depth -= 1
            self.emit(")")
        else:
            self.emit(f"(if (i32.and (local.get {loop.counter}) (i32.const 2))")
            self.depth += 1
            for arm in ("then", "else"):
                self.emit(f"({arm}")
                self.depth += 1
                self.statement()
                self.depth -= 1
                self.emit(")")
            self.depth -= 1
            self.emit(")")

    def loop(self) -> None:
        """A counted loop in one of clang's shapes, with pointers stepping through memory.

        `top`: the test first (`for (i = 0; i < n; i++)` unrotated); `bottom`: rotated, guarded
        once and tested after the counter's step, which may start anywhere (near 2**31 or
        below zero), step by 1, 2 or 4 and be compared !=, <u, <s or <=s with an end held in a
        local or computed in place; `down`: counted down to zero; `end`: a pointer run up to
        an end pointer (tested at the top, or rotated with !=); `copy`: rotated as clang
        does with a copy, `i = next; ...; next = i + k; ... while (i != last)`.
        """
        self.loops_left -= 1
        busy = self.busy()
        free = [x for x in POOL if x not in busy]
        if len(free) < 2:
            return
        self.labels += 1
        exit_label, loop_label = f"$B{self.labels}", f"$L{self.labels}"
        random.Random(self.choose.below(1 << 16)).shuffle(free)
        shape = self.pick(("top", "bottom", "down", "end", "copy"))
        counter = free.pop()
        pointers = [free.pop() for _ in range(min(len(free), 1 + self.choose.below(2)))]
        stride = free.pop() if free and self.chance(25) else None
        # a local for the end (bottom, end) or for the copied counter's next value (copy)
        extra = free.pop() if shape != "top" and free and self.chance(80) else None
        if extra is None and shape in ("end", "copy"):
            shape = "top"
        # the copied counter's last value, in a local (as clang keeps it) or computed in place
        last_local = free.pop() if shape == "copy" and free and self.chance(70) else None
        for p in pointers:
            self.elements[p] = self.pick(ELEMENT_SIZES)
            self.emit(f"(local.set {p} {self.pointer_start(p)})")
        if stride is not None:
            count = self.pick(("$b", "$c"))
            value = self.pick(
                (
                    "(i32.const 16)",
                    "(i32.const -8)",
                    "(i32.const 12)",
                    f"(i32.shl (i32.and (local.get {count}) (i32.const 7)) (i32.const 3))",
                    f"(local.get {count})",
                    "(global.get $n)" if self.raise_to else "(i32.const 8)",
                )
            )
            self.emit(f"(local.set {stride} {value})")
        steps = {}
        for p in pointers:
            if stride is not None and self.chance(50):
                steps[p] = f"(local.get {stride})"
            else:
                steps[p] = f"(i32.const {self.step(p)})"
        n = self.bound()
        loop = Loop(
            counter,
            list(pointers),
            exit_label,
            {counter, *pointers, *(x for x in (stride, extra, last_local) if x)},
        )
        c = f"(local.get {counter})"
        log_step = self.pick((0, 0, 1, 2))  # the counter's step, 1 << log_step
        first = pointers[0]
        if shape == "end":  # for (p = start, end = p + n * k; p != end; p += k)
            step = self.step(first)
            steps[first] = f"(i32.const {step})"
            loop.fixed = {first, extra}
            self.emit(
                f"(local.set {extra} (i32.add (local.get {first}) (i32.mul {n} (i32.const {step}))))"
            )
        self.stack.append(loop)

        def body(indent: int, counted: bool = False) -> None:
            self.depth += indent
            for _ in range(1 + self.choose.below(4)):
                self.statement()
            order = list(pointers)
            if self.chance(30):
                order.reverse()
            for p in order:
                self.emit(f"(local.set {p} (i32.add (local.get {p}) {steps[p]}))")
            if self.chance(20):
                self.statement()  # an access after the step, as at the top of the next pass
            if counted:
                self.emit(f"(local.set {counter} (i32.add {c} (i32.const 1)))")
            self.depth -= indent

        if shape == "top":
            self.emit(f"(local.set {counter} (i32.const 0))")
            self.emit(f"(block {exit_label} (loop {loop_label}")
            compare = self.pick(("i32.ge_u", "i32.eq", "i32.ge_s"))
            self.emit(f"  (br_if {exit_label} ({compare} {c} {n}))")
            body(1, counted=True)
            self.emit(f"  (br {loop_label})))")
        elif shape == "bottom" and self.raise_to and len(self.stack) == 1 and self.chance(60):
            # up to the global $n, which the call in the body may raise (never lower: the loop
            # still ends)
            compare = self.pick(("i32.ne", "i32.lt_u", "i32.lt_s", "i32.le_s"))
            self.emit(f"(block {exit_label}")
            self.emit(f"  (br_if {exit_label} (i32.eqz (global.get $n)))")
            self.emit(f"  (local.set {counter} (i32.const 0))")
            self.emit(f"  (loop {loop_label}")
            body(2)
            self.depth += 2
            call = f"(call $g {self.address(self.any_pointer(), 1)})"
            self.emit(f"(local.set $s (i32.add (local.get $s) {call}))")
            self.depth -= 2
            stepped = f"(local.tee {counter} (i32.add {c} (i32.const 1)))"
            self.emit(f"    (br_if {loop_label} ({compare} {stepped} (global.get $n)))))")
        elif shape == "bottom":
            compare = self.pick(("i32.ne", "i32.lt_u", "i32.lt_s", "i32.le_s", "i32.ne"))
            # <=s runs one step past the end: an end just below 2**31 would overflow and loop
            # on, so the start stays clear of it then
            starts = (0, 0, 1, 5, -16, 0x7FFFFFF0, -4)
            counter_start = self.pick(starts[:5] if compare == "i32.le_s" else starts)
            last = f"(i32.add (i32.const {counter_start}) (i32.shl {n} (i32.const {log_step})))"
            if extra is not None:
                self.emit(f"(local.set {extra} {last})")
                last = f"(local.get {extra})"
            self.emit(f"(block {exit_label}")
            self.emit(f"  (br_if {exit_label} (i32.eqz {n}))")
            self.emit(f"  (local.set {counter} (i32.const {counter_start}))")
            self.emit(f"  (loop {loop_label}")
            body(2)
            stepped = f"(local.tee {counter} (i32.add {c} (i32.const {1 << log_step})))"
            self.emit(f"    (br_if {loop_label} ({compare} {stepped} {last}))))")
        elif shape == "down":
            self.emit(f"(local.set {counter} (i32.shl {n} (i32.const {log_step})))")
            self.emit(f"(block {exit_label}")
            self.emit(f"  (br_if {exit_label} (i32.eqz {c}))")
            self.emit(f"  (loop {loop_label}")
            body(2)
            stepped = self.pick(
                (
                    f"(i32.add {c} (i32.const {-(1 << log_step)}))",
                    f"(i32.sub {c} (i32.const {1 << log_step}))",
                )
            )
            self.emit(f"    (br_if {loop_label} (local.tee {counter} {stepped}))))")
        elif shape == "end" and self.chance(50):
            self.emit(f"(local.set {counter} (i32.const 0))")
            self.emit(f"(block {exit_label} (loop {loop_label}")
            compare = self.pick(("i32.eq", "i32.ge_u" if step > 0 else "i32.le_u"))
            self.emit(f"  (br_if {exit_label} ({compare} (local.get {first}) (local.get {extra})))")
            body(1, counted=True)
            self.emit(f"  (br {loop_label})))")
        elif shape == "end":
            self.emit(f"(local.set {counter} (i32.const 0))")
            self.emit(f"(block {exit_label}")
            self.emit(f"  (br_if {exit_label} (i32.eq (local.get {first}) (local.get {extra})))")
            self.emit(f"  (loop {loop_label}")
            body(2, counted=True)
            self.emit(
                f"    (br_if {loop_label} (i32.ne (local.get {first}) (local.get {extra})))))"
            )
        else:  # copy: i = next; ...; next = i + k; ...; while (i != last)
            counter_start = self.pick((0, 0, 3, -8, 0x7FFFFFF8))
            last = (
                f"(i32.add (i32.const {counter_start})"
                f" (i32.shl (i32.sub {n} (i32.const 1)) (i32.const {log_step})))"
            )
            if last_local is not None:
                self.emit(f"(local.set {last_local} {last})")
                last = f"(local.get {last_local})"
            self.emit(f"(local.set {extra} (i32.const {counter_start}))")
            self.emit(f"(block {exit_label}")
            self.emit(f"  (br_if {exit_label} (i32.eqz {n}))")
            self.emit(f"  (loop {loop_label}")
            self.depth += 2
            self.emit(f"(local.set {counter} (local.get {extra}))")
            self.depth -= 2
            body(2)
            self.depth += 2
            self.emit(f"(local.set {extra} (i32.add {c} (i32.const {1 << log_step})))")
            if self.chance(30):
                self.statement()
            self.depth -= 2
            self.emit(f"    (br_if {loop_label} (i32.ne {c} {last}))))")
        self.stack.pop()
        self.counters.add(counter)
        for _ in range(self.choose.below(3)):
            self.statement()  # after the loop: pointers read, reassigned, misaligned

    # ---- the module ------------------------------------------------------------------------

    def fill(self) -> None:
        """Constants at aligned and misaligned addresses, at both ends of the page."""
        for _ in range(2 + self.choose.below(7)):
            address = self.pick((0, 1024, 4096, 65536 - 128, 8192 - 64)) + self.choose.below(120)
            op = self.pick(("i64.store", "i32.store", "f64.store", "i32.store16"))
            if op == "f64.store":
                constant = f"(f64.const {self.choose.below(1 << 20) / 16 - 1000})"
            elif op == "i64.store":
                constant = f"(i64.const {self.choose.below(1 << 31) * 0x2545F491 - (1 << 45)})"
            else:
                constant = f"(i32.const {self.choose.below(1 << 32) - (1 << 31)})"
            self.emit(f"({op} (i32.const {address}) {constant})")

    def module(self) -> str:
        if self.frame:
            self.emit(
                f"(global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const {self.frame}))))"
            )
            self.started.add("$fp")
        if self.raise_to and self.chance(50):
            self.emit("(global.set $n (i32.and (local.get $b) (i32.const 63)))")
        self.fill()
        while self.loops_left:
            self.loop()
            if self.chance(40):
                self.statement()
        if self.frame:
            self.emit(f"(global.set $sp (i32.add (local.get $fp) (i32.const {self.frame})))")
        if self.chance(50):  # everything, pointers included, as results
            results = "i32 i64 f64 " + " ".join("i32" for _ in POOL)
            values = ["(local.get $s)", "(local.get $t)", "(local.get $d)"]
            values += [f"(local.get {x})" for x in POOL]
        else:
            results = "i32"
            total = "(local.get $s)"
            for x in POOL:
                if self.chance(50):
                    total = f"(i32.add (i32.mul {total} (i32.const 31)) (local.get {x}))"
            values = [total]
        for value in values:
            self.emit(value)
        locals_ = " ".join(f"(local {x} i32)" for x in POOL)
        helper = ""
        if self.helper:
            body = []
            if self.grows:  # to 4 pages at most: stores past the first page then succeed
                body.append(
                    "(if (i32.lt_u (memory.size) (i32.const 4))"
                    " (then (drop (memory.grow (i32.const 1)))))"
                )
            body.append("(i32.store8 (local.get $p) (i32.const 90))")
            if self.raise_to:
                body.append(
                    f"(if (i32.lt_u (global.get $n) (i32.const {self.raise_to}))"
                    f" (then (global.set $n (i32.const {self.raise_to}))))"
                )
            body.append(
                "(i32.add (i32.load (i32.and (local.get $p) (i32.const -4))) (i32.const 1))"
            )
            helper = "\n  (func $g (param $p i32) (result i32)\n    " + "\n    ".join(body) + ")"
        data = "\n  (global $sp (mut i32) (i32.const 32768))" if self.frame else ""
        if self.raise_to:
            data += "\n  (global $n (mut i32) (i32.const 16))"
        if self.chance(30):
            raw = "".join(f"\\{self.choose.below(256):02x}" for _ in range(32))
            data += f'\n  (data (i32.const {self.pick((0, 4093, 65504))}) "{raw}")'
        return (
            f'(module\n  (memory (export "mem") 1){data}\n'
            f'  (func (export "f") (param $a i32) (param $b i32) (param $c i32)'
            f" (result {results})\n"
            f"    {locals_} (local $s i32) (local $t i64) (local $d f64) (local $fp i32)\n"
            + "\n".join(self.lines)
            + f"){helper})\n"
        )


def pointer_loop_module(choose: Chooser) -> str:
    return PointerLoops(choose).module()


def arguments(choose: Chooser) -> list[int]:
    """(a, b, c): starts and counts, at the boundaries or anywhere."""

    def one(small: int, values: Sequence[int]) -> int:
        if choose.chance(30):
            return choose.pick(values)
        return choose.below(small) if choose.chance(90) else choose.below(1 << 32)

    return [one(60000, PARAM_VALUES), one(64, COUNT_VALUES), one(256, COUNT_VALUES + PARAM_VALUES)]


# ---- running both engines ----------------------------------------------------------------------


def first_difference(ours: bytes, theirs: bytes) -> str:
    at = next(k for k in range(len(theirs)) if k >= len(ours) or ours[k] != theirs[k])
    return (
        f"memory differs first at {at:#x}: wasm2py {ours[at : at + 8].hex()},"
        f" wasmtime {theirs[at : at + 8].hex()}"
    )


def divergence(wasm: bytes, calls: Sequence[Sequence[int]], flat: bool | None) -> str | None:
    """What differs between wasm2py (with `flat`) and wasmtime over `calls` of `f`, each in a
    fresh instance: None if the outcomes and the memories after them agree."""
    reference, ours = WasmtimeRun(wasm), Wasm2pyRun(wasm, flat)
    for args in calls:
        assert reference.instantiate() == Outcome() == ours.instantiate()
        expected, actual = reference.call("f", args), ours.call("f", args)
        what = f"f{tuple(args)} (flat={flat})"
        if not same_outcome(expected, actual):
            return f"{what}: wasm2py {actual}, wasmtime {expected}"
        theirs, mine = reference.state()["mem"], ours.state()["mem"]
        if theirs != mine:
            return f"{what} ({expected}): {first_difference(mine, theirs)}"
    return None


def check(wat: str, calls: Sequence[Sequence[int]]) -> None:
    wasm = wasmtime.wat2wasm(wat)
    for flat in (None, True):
        found = divergence(wasm, calls, flat)
        assert found is None, f"{found}\n{wat}"


# ---- the property ------------------------------------------------------------------------------


@settings(
    max_examples=800,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_pointer_loops_agree_with_wasmtime_in_results_traps_and_memory(data):
    choose = Chooser.from_hypothesis(data)
    wat = pointer_loop_module(choose)
    check(wat, [arguments(choose) for _ in range(3)])


# ---- the generator reaches what it is for ------------------------------------------------------

REWRITES = {
    "typed view": re.compile(r"\bm0[HhIiQd]\["),
    "struct access": re.compile(r"\b(load|store)_(u16|s16|u32|s32|u64|f64)\(m0,"),
    "index stepped by a conditional": re.compile(r"(\w+) = \1 [+-] \d+ if \1 (<|>=) \d+ else"),
    "index wrapped": re.compile(r"[%&] (1073741824|1073741823|2147483648|536870911)\b"),
    "index shifted back": re.compile(r"\bl\w+ << [123]\b"),
    "split web": re.compile(r"\bl\d+_\d+ = "),
    "signed view": re.compile(r"\bm0i\["),
    # lower/versioning.py: `if <in range>: <loop, unwrapped> else: <loop as it was>`
    "versioned loop": re.compile(
        r"\n( +)if [^\n]*:\n\1    while True:\n(?:\1        [^\n]*\n)+\1else:\n\1    while True:"
    ),
}


def test_generated_loops_reach_the_rewrites_and_both_outcomes():
    """Over a fixed sample, the translations use every rewrite this file is for, and calls
    both trap and return: a generator drifting off its target would pass vacuously."""
    seen = dict.fromkeys([*REWRITES, "trap", "return"], 0)
    rng = random.Random(1)
    for _ in range(80):
        wasm = wasmtime.wat2wasm(pointer_loop_module(Chooser.from_random(rng)))
        source = wasm2py.translate(wasm).split("def f0(")[1]
        for what, pattern in REWRITES.items():
            seen[what] += bool(pattern.search(source))
        reference = WasmtimeRun(wasm)
        reference.instantiate()
        outcome = reference.call("f", arguments(Chooser.from_random(rng)))
        seen["trap" if outcome.trap else "return"] += 1
    assert all(count >= 4 for count in seen.values()), seen


# ---- cases written by hand ---------------------------------------------------------------------


def function_source(wat: str) -> str:
    return wasm2py.translate(wasmtime.wat2wasm(wat)).split("def f0(")[1].split("F0 = ")[0]


STORES_BEFORE_A_TRAP = """
(module (memory (export "mem") 1)
  (func (export "f") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $p i32) (local $i i32)
    (local.set $p (i32.and (local.get $a) (i32.const -8)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const 63)))
      (i64.store (local.get $p) (i64.extend_i32_u (local.get $p)))
      (i32.store offset=4 (local.get $p) (local.get $i))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $p)))
"""


def test_stores_before_an_out_of_bounds_element_index_are_kept_like_wasmtime():
    body = function_source(STORES_BEFORE_A_TRAP)
    assert "m0Q[" in body and "m0I[" in body and "<< 2" in body  # p is held as an index
    # From 65536 - 64 the loop stores 8 elements and traps on the 9th; 0xFFFFFFF8 traps at once.
    check(STORES_BEFORE_A_TRAP, [[65536 - 64, 0, 0], [65536 - 60, 0, 0], [16, 0, 0]])
    check(STORES_BEFORE_A_TRAP, [[0xFFFFFFF8, 0, 0], [65536 - 8, 0, 0]])


WRAPPING_POINTERS = """
(module (memory (export "mem") 1)
  (func (export "f") (param $a i32) (param $b i32) (param $c i32) (result i32 i32)
    (local $p i32) (local $q i32) (local $i i32) (local $s i32)
    (i64.store (i32.const 0) (i64.const 0x0102030405060708))
    (i64.store (i32.const 8) (i64.const 0x1112131415161718))
    (local.set $p (i32.const -16))
    (local.set $q (i32.add (i32.shl (local.get $b) (i32.const 3)) (i32.const 64)))
    (block $done
      (br_if $done (i32.eqz (i32.and (local.get $c) (i32.const 15))))
      (loop $next
        (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $p) (i32.const 16)))))
        (i32.store (local.get $q) (local.get $p))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $q (i32.add (local.get $q) (i32.const -8)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                               (i32.and (local.get $c) (i32.const 15))))))
    ;; the pointer, reused unaligned
    (local.set $p (i32.add (local.get $p) (i32.const 3)))
    (local.get $s) (i32.add (local.get $p) (i32.load8_u (local.get $p)))))
"""


def test_pointers_wrapping_past_zero_both_ways_and_stored_as_values_match_wasmtime():
    body = function_source(WRAPPING_POINTERS)
    assert re.search(r"(\w+) = \1 - 2 if \1 >= 2 else \1 \+ 1073741822", body)  # q, downwards
    # q = 8b + 64 steps down by 8: b = 0x20000000 starts it at 64 (8b wraps to 0), and c
    # steps past 0 into the top of the address space, where the store traps.
    calls = [[0, 5, 4], [0, 0, 15], [0, 0x20000000, 3], [0, 0x20000000, 12], [0, 100, 15]]
    check(WRAPPING_POINTERS, calls)


# ---- divergences found by the generator, reduced ------------------------------------------------

LOOP_BOUND_CHANGED_BY_A_CALL = """
(module
  (memory (export "mem") 1)
  (global $n (mut i32) (i32.const 16))
  (func $g (param $p i32)
    (i32.store8 (local.get $p) (i32.const 90))
    (global.set $n (i32.const 40)))
  (func (export "f") (result i32)
    (local $i i32) (local $p i32)
    (local.set $p (i32.const 160))
    (loop $L
      (call $g (i32.sub (local.get $p) (i32.const 2)))
      (local.set $p (i32.sub (local.get $p) (i32.const 8)))
      (br_if $L (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                        (global.get $n))))
    (local.get $i)))
"""


def test_loop_bound_in_a_global_that_a_call_in_the_loop_raises():
    ours = divergence(wasmtime.wat2wasm(LOOP_BOUND_CHANGED_BY_A_CALL), [[]], None)
    assert ours is None, ours
