"""Alignment that a private integer global keeps for the whole run: C's stack pointer.

C compilers keep the shadow stack pointer in a mutable global that only the module itself
writes, always to a multiple of 16: `global.get; i32.const 32; i32.sub; local.tee L;
global.set` on entry, `local.get L; i32.const 32; i32.add; global.set` on exit. Addresses on
the shadow stack (`g0 - 80 + 16 + i * 4`) are then aligned, and lower/aligned.py can give
their accesses typed views, if it knows the global's alignment.

The claim is an induction: the initial value is a multiple of 2**k, and every `global.set`
in the module stores a value that is one whenever the global is. Each stored value is
recognised from the few instructions before it (constants, the globals themselves, locals
that are only ever set that way, added or subtracted); anything else makes the global
unknown. A global the host can see (imported or exported) is never claimed.
"""

from __future__ import annotations

from ..module import Instr, Module

EVERYTHING = 64  # the alignment of zero: a multiple of every power of two we track
_DEPTH = 8  # how far back one value is traced


def trailing_zeros(value: int) -> int:
    """log2 of the largest power of two (up to 2**64) dividing `value`."""
    return EVERYTHING if value == 0 else min((value & -value).bit_length() - 1, EVERYTHING)


_ADDITIVE = frozenset({"i32.add", "i32.sub", "i64.add", "i64.sub"})
_CONSTANTS = frozenset({"i32.const", "i64.const"})
# Instructions that push one value and pop none: what precedes them ends the operand below.
_SINGLE = frozenset({"i32.const", "i64.const", "local.get", "global.get"})


class _Body:
    """Traces the values of one function body back through its instructions."""

    def __init__(self, body: list[Instr], n_params: int, known: dict[int, int]):
        self.body = body
        self.n_params = n_params
        self.known = known  # global index -> alignment assumed (the induction hypothesis)
        self.locals: dict[int, int] = {}
        self.tracing: set[int] = set()

    def produced(self, j: int, depth: int = 0) -> int:
        """Alignment of the value instruction j leaves on top of the stack (0: unknown)."""
        if j < 0 or depth > _DEPTH:
            return 0
        ins = self.body[j]
        name = ins.op.name
        if name in _CONSTANTS:
            return trailing_zeros(ins.imm)
        if name == "global.get":
            return self.known.get(ins.imm, 0)
        if name == "local.tee":
            return self.produced(j - 1, depth + 1)
        if name == "local.get":
            return self.local(ins.imm, depth)
        if name in _ADDITIVE and j >= 2 and self.body[j - 1].op.name in _SINGLE:
            second = self.produced(j - 1, depth + 1)
            return min(second, self.produced(j - 2, depth + 1)) if second else 0
        return 0

    def local(self, index: int, depth: int) -> int:
        """Alignment of every value local `index` ever holds in this function."""
        if index < self.n_params or index in self.tracing:
            return 0
        if index not in self.locals:
            self.tracing.add(index)
            alignment = EVERYTHING  # locals start at zero
            for s, ins in enumerate(self.body):
                if ins.op.family in ("local.set", "local.tee") and ins.imm == index:
                    alignment = min(alignment, self.produced(s - 1, depth + 1))
                    if not alignment:
                        break
            self.tracing.discard(index)
            self.locals[index] = alignment
        return self.locals[index]


def global_alignment(module: Module) -> dict[int, int]:
    """Global index -> log2 of the power of two its value is always a multiple of (above 0)."""
    first = len(module.imported("global"))
    exported = {e.index for e in module.exports if e.kind == "global"}
    known: dict[int, int] = {}
    for k, g in enumerate(module.globals, first):
        init = g.init
        if k in exported or g.type.valtype not in ("i32", "i64") or len(init) != 1:
            continue
        if init[0].op.name in _CONSTANTS and trailing_zeros(init[0].imm):
            known[k] = trailing_zeros(init[0].imm)
    sites = []  # (body, n_params, index of a global.set of a known global)
    func_types = module.func_types()
    n_imported = len(module.imported("func"))
    for f, code in enumerate(module.codes, n_imported):
        n_params = len(func_types[f].params)
        for i, ins in enumerate(code.body):
            if ins.op.family == "global.set" and ins.imm in known:
                sites.append((code.body, n_params, i))
    changed = True
    while changed and known:
        changed = False
        for body, n_params, i in sites:
            g = body[i].imm
            if g not in known:
                continue
            stored = _Body(body, n_params, known).produced(i - 1)
            if stored < known[g]:
                changed = True
                if stored:
                    known[g] = stored
                else:
                    del known[g]
    return known
