"""Control frames, and the pre-pass that decides how a function's control flow is lowered.

Two strategies. Structured: a Wasm block, loop or `if` that some branch targets becomes a
`while True:` (`break` leaves a block, `continue` restarts a loop; a branch across several
Python loops sets `_br` and the loops it leaves pass it on). Untargeted blocks vanish. Flat: the
function becomes basic blocks under one `while True:` dispatching on `_pc` through a balanced
`if` tree. Flat is used where structured code would exceed CPython's static limits (20 nested
loops, 100 indentation levels); it handles any depth.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..module import Instr

# Budgets below CPython's limits, leaving room for what a construct emits around itself.
MAX_PY_LOOPS = 16
MAX_INDENT = 60


@dataclass
class Shape:
    """What the pre-pass learns about one block/loop/if instruction."""

    end: int  # index of the matching `end`
    else_: int | None = None  # index of the matching `else`, if any
    targeted: bool = False  # some branch names this construct's label
    # Every branch here is a br/br_if in the construct's own body (no construct in between):
    # structured code then needs no loop, only an `if` around the rest of the body.
    forward_only: bool = True
    sources: set[int] = field(default_factory=set)  # indices of the branches naming it
    # Structured: a case block of a switch (see `mark_switch_cases`): it becomes no Python
    # construct, and the code after its `end` is emitted into its br_table leaf.
    switch_case: bool = False

    @property
    def convertible(self) -> bool:
        return self.targeted and self.forward_only


@dataclass
class Analysis:
    shapes: dict[int, Shape]
    needs_flat: bool


def br_table_depth(n_targets: int) -> int:
    return max(1, (n_targets + 1).bit_length())


def analyze(body: list[Instr]) -> Analysis:
    """Match every construct with its else/end, mark targeted ones, estimate nesting."""
    shapes: dict[int, Shape] = {}
    stack: list[int] = [-1]  # instruction indices of open constructs; -1 is the function
    py_loops = [0]  # Python loops open at each level, if every targeted construct is one
    indents = [0]
    max_loops = max_indent = 0
    pending: dict[int, Shape] = {}
    for i, ins in enumerate(body):
        fam = ins.op.family
        if fam in ("block", "loop", "if"):
            stack.append(i)
            pending[i] = Shape(end=-1)
        elif fam == "else":
            pending[stack[-1]].else_ = i
        elif fam == "end":
            start = stack.pop()
            if start >= 0:
                shape = pending.pop(start)
                shape.end = i
                shapes[start] = shape
    # Then branch targets; switch cases (which need every branch known); nesting.
    tables: list[tuple[int, list[int]]] = []  # each br_table, with the constructs around it
    for i, ins, stack in _walk(body):
        fam = ins.op.family
        if fam in ("br", "br_if"):
            _mark(shapes, stack, ins.imm, forward=ins.imm == 0, source=i)
        elif fam == "br_table":
            labels, default = ins.imm
            for label in {*labels, default}:
                _mark(shapes, stack, label, forward=False, source=i)
            tables.append((i, list(stack)))
    for i, stack in tables:
        mark_switch_cases(body, shapes, stack, i)
    for i, shape in shapes.items():
        if body[i].op.family == "loop":
            shape.forward_only = False
    stack = [-1]
    for i, ins in enumerate(body):
        fam = ins.op.family
        if fam in ("block", "loop", "if"):
            shape = shapes[i]
            as_loop = shape.targeted and not shape.convertible and not shape.switch_case
            loops = py_loops[-1] + as_loop
            indent = indents[-1] + as_loop + (1 if fam == "if" else 0)
            stack.append(i)
            py_loops.append(loops)
            indents.append(indent)
            max_loops = max(max_loops, loops)
            max_indent = max(max_indent, indent)
        elif fam == "end" and len(stack) > 1:
            stack.pop()
            py_loops.pop()
            indents.pop()
        elif fam == "br_table":
            max_indent = max(max_indent, indents[-1] + br_table_depth(len(ins.imm[0])) + 2)
        elif fam == "br_if" and ins.imm == 0 and stack[-1] >= 0 and shapes[stack[-1]].convertible:
            indents[-1] += 1  # the rest of the construct's body nests in an `if`
            max_indent = max(max_indent, indents[-1])
    return Analysis(shapes, max_loops > MAX_PY_LOOPS or max_indent > MAX_INDENT)


def _walk(body: list[Instr]):
    """Each branch instruction with the indices of the constructs open around it (-1: the
    function body), innermost last."""
    stack = [-1]
    for i, ins in enumerate(body):
        fam = ins.op.family
        if fam in ("block", "loop", "if"):
            stack.append(i)
        elif fam == "end":
            stack.pop()
        elif fam in ("br", "br_if", "br_table"):
            yield i, ins, stack


def _mark(
    shapes: dict[int, Shape], stack: list[int], label: int, forward: bool, source: int
) -> None:
    if label < len(stack):
        start = stack[-1 - label]
        if start >= 0:
            shapes[start].targeted = True
            shapes[start].forward_only &= forward
            shapes[start].sources.add(source)


_UNCONDITIONAL = frozenset({"br", "br_table", "return", "unreachable"})


def mark_switch_cases(
    body: list[Instr], shapes: dict[int, Shape], stack: list[int], t: int
) -> None:
    """Find the case blocks of the br_table at `t`: the C `switch` shape.

    `block $k ... block $1 block $0 ... br_table end code0 end code1 ... end codek` where each
    block is entered only from this br_table (nothing falls into its end, and no other branch
    names it). Each case's code can then sit in the br_table's leaf for it: no loops, no
    `_br`. The cases are the innermost open constructs, from the br_table outwards.
    """
    for start in reversed(stack):
        if start < 0:
            return
        shape = shapes[start]
        ins = body[start]
        if (
            ins.op.family != "block"
            or ins.imm is not None
            or shape.sources != {t}
            or body[shape.end - 1].op.family not in _UNCONDITIONAL
        ):
            return
        shape.switch_case = True


@dataclass
class Frame:
    kind: str  # "func", "block", "loop", "if"
    id: int
    params: tuple[str, ...]
    results: tuple[str, ...]
    height: int  # operand stack height at entry, below the params
    targeted: bool
    end_index: int = -1
    outer: list[ast.stmt] = field(default_factory=list)  # statement list to resume at `end`
    result_vars: list[str] = field(default_factory=list)
    param_vars: list[str] = field(default_factory=list)
    py_loop: bool = False  # structured: this construct is a `while True:`
    convertible: bool = False  # structured: branches here only skip the rest of its body
    switch_leaf: list | None = None  # structured switch case: where the code after `end` goes
    arrival_ids: set[int] = field(default_factory=set)  # structured: `_br` values ending here
    fused_loop: Frame | None = None  # structured: the loop whose exit is this block's end
    fuses_index: int = -1  # structured: where that loop starts
    escapes: set[int] = field(default_factory=set)  # structured: ids of targets passing through
    else_index: int | None = None  # index of an `if`'s `else` instruction
    if_node: ast.If | None = None  # structured: the Python `if` of an `if` frame
    loop_node: ast.While | None = None  # structured: the `while True:` of a py_loop frame
    then_live: bool = False  # an `if`'s then arm fell through to its end
    if_params: list = field(default_factory=list)  # entries an `if`'s params had, for `else`
    has_else: bool = False
    end_label: int = -1  # flat: basic block after `end`
    head_label: int = -1  # flat: basic block at a loop's start
    else_label: int = -1  # flat: basic block of an `if`'s else arm
    reached: bool = False  # something branched here (so code after `end` is live)

    @property
    def branch_types(self) -> tuple[str, ...]:
        """The values a branch to this frame carries: a loop's params, otherwise its results."""
        return self.params if self.kind == "loop" else self.results
