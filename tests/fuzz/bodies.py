"""Random valid function bodies over a typed operand stack, driven by a Random or by hypothesis."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from wasm2py.opcodes import OPS


class Chooser:
    """Where a generator's decisions come from: a Random, or hypothesis's `data.draw`."""

    def __init__(self, below: Callable[[int], int]):
        self.below = below

    @classmethod
    def from_random(cls, rng: random.Random) -> Chooser:
        return cls(rng.randrange)

    @classmethod
    def from_hypothesis(cls, data) -> Chooser:
        from hypothesis import strategies as st

        return cls(lambda n: data.draw(st.integers(0, n - 1)) if n > 1 else 0)

    def pick(self, items: Sequence):
        return items[self.below(len(items))]

    def chance(self, percent: int) -> bool:
        # Counted from the top: hypothesis leans towards 0, which should mean "carry on".
        return self.below(100) >= 100 - percent


NUMBERS = ("i32", "i64", "f32", "f64")
NUMERIC_OPS = [op for op in OPS if op.family == "numeric" and op.sig is not None]
MEMORY_OPS = [op for op in OPS if op.family in ("load", "store")]
# Arithmetic can make any NaN (payload and sign are up to the engine): such results are
# canonicalized right away, as smith's --canonicalize-nans does, so they cannot leak into bits.
EXACT_FLOAT_OPS = ("abs", "neg", "copysign", "reinterpret", "const", "load")

FLOAT_CONSTS = {
    "f32": (
        "0",
        "-0",
        "1.5",
        "-inf",
        "inf",
        "nan",
        "nan:0x1",
        "-nan:0x3fffff",
        "0x1p-149",
        "3.4028235e38",
        "2147483648",
        "-2147483904",
        "4294967296",
    ),  # fmt: skip
    "f64": (
        "0",
        "-0",
        "1.5",
        "-inf",
        "inf",
        "nan",
        "nan:0x1",
        "-nan:0x8000000000001",
        "0x1p-1074",
        "9223372036854775808",
        "-9223372036854777856",
        "4294967295.5",
    ),  # fmt: skip
}
INT_CONSTS = {
    "i32": ("0", "1", "-1", "2147483647", "-2147483648", "31", "32", "65535", "65532", "7"),
    "i64": ("0", "1", "-1", "9223372036854775807", "-9223372036854775808", "63", "64", "65532"),
}

GENERATED_PRELUDE = """
  (memory (export "mem") 1 2)
  (global $g0 (export "g0") (mut i32) (i32.const 0))
  (global $g1 (export "g1") (mut i64) (i64.const 0))
  (global $g2 (export "g2") (mut f32) (f32.const 0))
  (global $g3 (export "g3") (mut f64) (f64.const 0))
  (table $t 4 funcref)
  (elem (i32.const 0) $side $side2)
  (type $side_t (func (param i32) (result i32)))
  (func $side (param i32) (result i32)
    (global.set $g0 (i32.add (global.get $g0) (local.get 0)))
    (i32.store8 (i32.and (local.get 0) (i32.const 255)) (global.get $g0))
    (i32.mul (local.get 0) (i32.const 3)))
  (func $side2 (param i32) (result i32)
    (global.set $g1 (i64.extend_i32_u (local.get 0)))
    (i32.xor (local.get 0) (i32.const -1)))
"""


# How often each kind of instruction is tried (a kind that does not fit the stack is skipped).
INSTRUCTION_WEIGHTS = {"push": 2, "numeric": 4, "local": 1, "global": 1, "memory": 2, "call": 1,
                       "select": 1, "drop": 1, "block": 1, "if": 1, "loop": 1, "br_if": 1,
                       "br": 1, "br_table": 1, "misc": 1, "clobber": 2}  # fmt: skip
INSTRUCTION_KINDS = tuple(k for k, n in INSTRUCTION_WEIGHTS.items() for _ in range(n))


class BodyGenerator:
    """A random, valid function body over a typed operand stack: numeric operators, locals,
    globals, memory, calls with side effects, select, and nested block/loop/if with branches.

    Locals 0-3 are the params (i32 i64 f32 f64), 4-7 more of the same types, 8 is the loop
    fuel (never written by random code), so every backward branch is bounded. The function
    returns its block's results and then every local, so values that were stored survive.
    """

    LOCALS = ("i32", "i64", "f32", "f64", "i32", "i64", "f32", "f64")
    FUEL = 8

    def __init__(self, choose: Chooser, size: int = 40, depth: int = 4):
        self.choose = choose
        self.budget = size
        self.max_depth = depth
        self.out: list[str] = []
        self.labels: list[tuple[str, ...] | None] = []  # branch types, innermost last; None: loop

    def emit(self, text: str) -> None:
        self.out.append(text)

    def function(self) -> str:
        results = self.block_types()
        self.labels.append(results)
        self.body([], results, 0, stop_percent=5)
        locals_ = " ".join(f"local.get {i}" for i in range(len(self.LOCALS)))
        return (
            f'(func (export "run") (param i32 i64 f32 f64){_results((*results, *self.LOCALS))}\n'
            f"    (local i32 i64 f32 f64 i32)\n"
            f"    i32.const 12 local.set {self.FUEL}\n"
            f"    block{_results(results)}\n      "
            + "\n      ".join(self.out)
            + f"\n    end\n    {locals_})"
        )

    def block_types(self) -> tuple[str, ...]:
        return tuple(self.choose.pick(NUMBERS) for _ in range(self.choose.pick((0, 1, 1, 2, 3))))

    def local(self, t: str) -> int:
        return self.LOCALS.index(t) + 4 * self.choose.below(2)

    def body(
        self, stack: list[str], results: tuple[str, ...], depth: int, stop_percent: int = 25
    ) -> None:
        """Instructions that turn `stack` (a block's params) into exactly `results`.

        The caller has pushed the block's label (None for a loop); "stop" from an instruction
        means it left the rest of the block unreachable (br, br_table, unreachable).
        """
        stack = list(stack)
        while self.budget > 0 and not self.choose.chance(stop_percent):
            self.budget -= 1
            if self.instruction(stack, depth) == "stop":
                return
        self.fix_stack(stack, results)

    def fix_stack(self, stack: list[str], wanted: tuple[str, ...]) -> None:
        """Save what is left into locals (keeping it observable), then push `wanted`."""
        while stack:
            self.emit(f"local.set {self.local(stack.pop())}")
        for t in wanted:
            self.push_value(t)

    def push_value(self, t: str) -> None:
        if self.choose.chance(40):
            self.emit(f"local.get {self.local(t)}")
        elif t in INT_CONSTS:
            self.emit(f"{t}.const {self.choose.pick(INT_CONSTS[t])}")
        else:
            self.emit(f"{t}.const {self.choose.pick(FLOAT_CONSTS[t])}")

    def canonicalize(self, t: str) -> None:
        """Replace a NaN on top of the stack with the canonical NaN (one fixed bit pattern)."""
        scratch = self.LOCALS.index(t) + 4
        self.emit(
            f"local.set {scratch} {t}.const nan local.get {scratch} "
            f"local.get {scratch} local.get {scratch} {t}.ne select"
        )

    def instruction(self, stack: list[str], depth: int) -> str | None:
        kind = self.choose.pick(INSTRUCTION_KINDS)
        top = stack[-1] if stack else None
        if kind == "push":
            t = self.choose.pick(NUMBERS)
            self.push_value(t)
            stack.append(t)
        elif kind == "numeric":
            self.numeric(stack)
        elif kind == "local" and top:
            if self.choose.chance(50):
                self.emit(f"local.tee {self.local(top)}")
            else:
                self.emit(f"local.set {self.local(stack.pop())}")
        elif kind == "global":
            g = self.choose.below(4)
            if top == NUMBERS[g] and self.choose.chance(60):
                self.emit(f"global.set {g}")
                stack.pop()
            else:
                self.emit(f"global.get {g}")
                stack.append(NUMBERS[g])
        elif kind == "memory":
            self.memory(stack)
        elif kind == "call" and top == "i32":
            if self.choose.chance(50):
                self.emit(f"call {self.choose.pick(('$side', '$side2'))}")
            else:
                self.emit(f"i32.const {self.choose.below(5)} call_indirect (type $side_t)")
        elif kind == "select" and top == "i32" and len(stack) >= 3 and stack[-2] == stack[-3]:
            self.emit("select")
            del stack[-2:]
        elif kind == "drop" and top:
            self.emit("drop")
            stack.pop()
        elif kind in ("block", "if", "loop") and depth < self.max_depth:
            self.structured(kind, stack, depth)
        elif kind == "br_if" and top == "i32":
            self.br_if(stack)
        elif kind == "br":
            target = self.branch_target(stack, 0)
            if target is not None:
                self.emit(f"br {target}")
                return "stop"
        elif kind == "br_table" and top == "i32":
            return self.br_table(stack)
        elif kind == "misc":
            return self.misc(stack)
        elif kind == "clobber":
            # A write that does not touch the stack: pending reads of the local must go first.
            index = self.choose.below(len(self.LOCALS))
            self.push_value(self.LOCALS[index])
            self.emit(f"local.{self.choose.pick(('set', 'tee'))} {index}")
            if self.out[-1].startswith("local.tee"):
                self.emit("drop")
        return None

    def numeric(self, stack: list[str]) -> None:
        fits = [op for op in NUMERIC_OPS if _ends_with(stack, op.sig[0])]
        if not fits:
            return
        op = self.choose.pick(fits)
        params, (result,) = op.sig
        del stack[len(stack) - len(params) :]
        self.emit(op.name)
        stack.append(result)
        if result in ("f32", "f64") and not any(k in op.name for k in EXACT_FLOAT_OPS):
            self.canonicalize(result)

    def memory(self, stack: list[str]) -> None:
        fits = [op for op in MEMORY_OPS if _ends_with(stack, op.sig[0])]
        if not fits:
            self.emit(f"i32.const {self.choose.pick(('0', '8', '65528', '65535', '-1'))}")
            stack.append("i32")
            return
        op = self.choose.pick(fits)
        offset = self.choose.pick((0, 0, 1, 4, 65535, 65536, 4294967295))
        del stack[len(stack) - len(op.sig[0]) :]
        self.emit(f"{op.name} offset={offset}")
        stack.extend(op.sig[1])

    def misc(self, stack: list[str]) -> str | None:
        choice = self.choose.below(5)
        if choice == 0:
            self.emit("memory.size")
            stack.append("i32")
        elif choice == 1 and stack[-1:] == ["i32"]:
            self.emit("memory.grow")
        elif choice == 2 and stack[-3:] == ["i32", "i32", "i32"]:
            self.emit(self.choose.pick(("memory.fill", "memory.copy")))
            del stack[-3:]
        elif choice == 3:
            self.emit("nop")
        elif choice == 4 and self.choose.chance(10):
            self.emit("unreachable")
            return "stop"
        return None

    def structured(self, kind: str, stack: list[str], depth: int) -> None:
        if kind == "if":
            if stack[-1:] != ["i32"]:
                return
            stack.pop()
        # A loop takes no params: the fuel-guarded branch back to it carries no values.
        n = self.choose.pick((0, 0, 0, 1, 2))
        params = tuple(stack[len(stack) - n :]) if kind != "loop" and 0 < n <= len(stack) else ()
        del stack[len(stack) - len(params) :]
        results = self.block_types()
        self.emit(kind + "".join(f" (param {t})" for t in params) + _results(results))
        self.labels.append(None if kind == "loop" else results)
        self.body(list(params), results, depth + 1)
        # An `if` without `else` passes its params through: only possible if they are the results.
        if kind == "if" and (params != results or self.choose.chance(70)):
            self.emit("else")
            self.body(list(params), results, depth + 1)
        self.labels.pop()
        self.emit("end")
        stack.extend(results)

    def branch_target(self, stack: list[str], extra: int) -> int | None:
        """The depth of a label whose branch values are on the stack, below `extra` i32s."""
        below = stack[: len(stack) - extra]
        fits = [
            depth
            for depth, types in enumerate(reversed(self.labels))
            if types is not None and _ends_with(below, types)
        ]
        return self.choose.pick(fits) if fits else None

    def br_if(self, stack: list[str]) -> None:
        loops = [d for d, types in enumerate(reversed(self.labels)) if types is None]
        if loops and self.choose.chance(50):
            # Backward, and only while the fuel lasts, so the loop always ends.
            self.emit(
                f"local.get {self.FUEL} i32.const 1 i32.sub local.tee {self.FUEL} "
                f"i32.const 0 i32.gt_s i32.and br_if {self.choose.pick(loops)}"
            )
            stack.pop()
            return
        target = self.branch_target(stack, 1)
        if target is not None:
            self.emit(f"br_if {target}")
            stack.pop()

    def br_table(self, stack: list[str]) -> str | None:
        default = self.branch_target(stack, 1)
        if default is None:
            return None
        labels = list(reversed(self.labels))
        same = [d for d, t in enumerate(labels) if t == labels[default]]
        targets = [self.choose.pick(same) for _ in range(self.choose.pick((0, 1, 2, 4)))]
        self.emit(f"br_table {' '.join(map(str, [*targets, default]))}")
        return "stop"


def _results(types: Sequence[str]) -> str:
    return "".join(f" (result {t})" for t in types)


def _ends_with(stack: Sequence[str], types: Sequence[str]) -> bool:
    return len(stack) >= len(types) and tuple(stack[len(stack) - len(types) :]) == tuple(types)


def generated_module(choose: Chooser, size: int = 40) -> str:
    """The text of a module with one random exported function `run` (see BodyGenerator)."""
    return f"(module {GENERATED_PRELUDE}\n  {BodyGenerator(choose, size).function()})"
