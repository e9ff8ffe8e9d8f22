"""Lower one function body to a Python `def`: the loop over instructions, and control flow.

Each instruction family has a handler `lower_<family>(fl, instr)`; this module holds the loop,
the control handlers (block, loop, if, else, end, br, br_if, br_table, return) and both
control-flow strategies described in control.py. Handlers assume a validated body.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable

from ..module import Code, Instr
from ..types import FuncType
from . import memory, tables, variables
from .aligned import use_aligned_views
from .block_exits import dissolve_blocks_ending_loops
from .control import Analysis, Frame, analyze
from .env import Env
from .hoist import hoist_invariants
from .initial import drop_unread_initial_values
from .numeric import lower_numeric
from .ranges import drop_wraps_in_range
from .stack import Entry, ValueStack, assign, name
from .versioning import version_counted_loops

BR = "_br"  # structured: the id of the frame a branch across several loops is heading for
PC = "_pc"  # flat: the basic block to run next


def _int(value: int) -> ast.Constant:
    return ast.Constant(value)


def _compare(left: ast.expr, op: ast.cmpop, right: ast.expr) -> ast.Compare:
    return ast.Compare(left=left, ops=[op], comparators=[right])


class FunctionLowerer:
    """Translates one function body; `lower()` returns the `ast.FunctionDef`."""

    def __init__(self, env: Env, index: int, code: Code, ftype: FuncType, flat: bool | None):
        self.env = env
        self.index = index
        self.code = code
        self.ftype = ftype
        # Each integer local holds a value of its type, reduced: [0, 2**32) or [0, 2**64).
        local_types = (*ftype.params, *code.local_types)
        self.local_ranges = {
            f"l{k}": (0, (1 << _INT_BITS[t]) - 1)
            for k, t in enumerate(local_types)
            if t in _INT_BITS
        }
        self.analysis: Analysis = analyze(code.body)
        self.flat = self.analysis.needs_flat if flat is None else flat
        # Temporaries are numbered by a counter the value stack shares: handing it a bound
        # method instead would make a reference cycle holding every function's AST until the
        # cyclic GC runs.
        temp_numbers = itertools.count(1)
        self.new_temp = lambda: f"t{next(temp_numbers)}"
        self.stack = ValueStack(self.new_temp)
        self.frames: list[Frame] = []
        self.dead = False
        self.uses_br = False
        self.written_globals: set[int] = set()
        self.next_id = 0
        self.blocks: list[tuple[int, list[ast.stmt]]] = []  # flat: (label, statements)
        self.compounds: list[ast.If | ast.While] = []  # statements whose body may stay empty
        self.leaves: list[list[ast.stmt]] = []  # switch case leaves, filled after the br_table

    # -- small utilities ------------------------------------------------------------------
    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    @property
    def out(self) -> list[ast.stmt]:
        return self.stack.out

    @out.setter
    def out(self, statements: list[ast.stmt]) -> None:
        self.stack.out = statements

    def emit(self, statement: ast.stmt) -> None:
        self.stack.out.append(statement)

    def emit_expr(self, expr: ast.expr) -> None:
        self.emit(ast.Expr(value=expr))

    def to_temp(self, entry: Entry) -> Entry:
        if entry.trivial:
            return entry
        temp = self.new_temp()
        self.emit(assign([temp], [entry.expr]))
        return Entry(name(temp))

    def emit_helper_call(self, helper: str, state: list[ast.expr], n_operands: int) -> None:
        """`helper(*state, *operands)` as a statement: the bulk memory and table operations."""
        operands = self.pop_for_effect(n_operands)
        self.emit_expr(memory.call(helper, *state, *(e.expr for e in operands)))

    def pop_for_effect(self, n: int) -> list[Entry]:
        """Operands of an instruction with effects, after everything impure below them ran."""
        operands = self.stack.shallow(self.stack.popn(n))
        self.stack.before_effect()
        return operands

    def push_effect(self, expr: ast.expr, operands: list[Entry]) -> None:
        """Push the result of an effect; it still reads the locals its operands read."""
        reads = frozenset().union(*(e.reads for e in operands))
        depth = 1 + max((e.depth for e in operands), default=0)
        self.stack.push(Entry(expr, reads, pure=False, depth=depth))

    # -- the loop -------------------------------------------------------------------------
    def lower(self) -> ast.FunctionDef:
        body = self.code.body
        func = Frame("func", 0, (), self.ftype.results, 0, False, end_index=len(body) - 1)
        self.frames.append(func)
        self.root: list[ast.stmt] = []
        self.out = self.root
        if self.flat:
            self.start_block(self.new_id())
        i = 0
        while i < len(body):
            ins = body[i]
            handler = LOWER.get(ins.op.family)
            if handler is None:
                CONTROL[ins.op.family](self, ins, i)
            else:
                handler(self, ins)
            # Dead code (after a branch, or after a construct whose end nothing reaches) is
            # skipped to where control can arrive again: the current frame's else or end.
            i = max(i + 1, self.skip_dead(i)) if self.dead and self.frames else i + 1
        return self.finish()

    def skip_dead(self, i: int) -> int:
        """Index of the next instruction that can be live: the current frame's else or end."""
        frame = self.frames[-1]
        if frame.kind == "if" and not frame.has_else and frame.else_index is not None:
            if i < frame.else_index:
                return frame.else_index
        return frame.end_index

    def finish(self) -> ast.FunctionDef:
        for node in self.compounds:
            if not node.body:
                node.body.append(ast.Pass())
        for leaf in self.leaves:
            if not leaf:
                leaf.append(ast.Pass())
        n_params = len(self.ftype.params)
        prologue: list[ast.stmt] = []
        if self.written_globals:
            ids = sorted(self.written_globals)
            prologue.append(ast.Nonlocal(names=[f"g{g}" for g in ids]))
        local_types = self.code.local_types
        zero = {"i32": 0, "i64": 0, "f32": 0.0, "f64": 0.0}
        read = {ins.imm for ins in self.code.body if ins.op.family == "local.get"}
        for k, t in enumerate(local_types):
            if n_params + k not in read:
                continue  # never read: it needs no initial value (nor a line of source)
            prologue.append(assign([f"l{n_params + k}"], [ast.Constant(zero.get(t))]))
        if self.flat:
            prologue.append(assign([PC], [_int(self.blocks[0][0])]))
            body = prologue + [
                ast.While(test=ast.Constant(True), body=self.dispatch(self.blocks), orelse=[])
            ]
        else:
            if self.uses_br:
                prologue.append(assign([BR], [_int(0)]))
            body = prologue + (self.root or [ast.Pass()])
        args = ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=f"l{k}") for k in range(n_params)],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        )
        return ast.FunctionDef(
            name=f"f{self.index}", args=args, body=body, decorator_list=[], returns=None, lineno=0
        )

    # -- flat strategy: basic blocks ------------------------------------------------------
    def start_block(self, label: int) -> None:
        statements: list[ast.stmt] = []
        self.blocks.append((label, statements))
        self.out = statements

    def dispatch(self, blocks: list[tuple[int, list[ast.stmt]]]) -> list[ast.stmt]:
        """A balanced `if _pc < k` tree over the basic blocks, sorted by label."""
        blocks = sorted(blocks, key=lambda b: b[0])
        return _if_tree(
            0,
            len(blocks),
            lambda k: blocks[k][1] or [ast.Pass()],
            lambda k: _compare(name(PC), ast.Lt(), _int(blocks[k][0])),
        )

    def goto(self, label: int) -> None:
        self.emit(assign([PC], [_int(label)]))
        self.emit(ast.Continue())

    # -- branches -------------------------------------------------------------------------
    def innermost_loop(self) -> Frame | None:
        for f in reversed(self.frames):
            if f.py_loop:
                return f
        return None

    def jump(self, target: Frame) -> None:
        """Transfer control to `target`, a construct (its values already assigned)."""
        target.reached = True
        if self.flat:
            self.goto(target.head_label if target.kind == "loop" else target.end_label)
            return
        if target.convertible:
            return  # the rest of the target's body is skipped: see lower_br_if
        if target.switch_leaf is not None:
            return  # the leaf this branch sits in is where the target's code will go
        restart = target.kind == "loop"
        # Leaving a block fused with the loop it ends with is leaving that loop.
        exit_loop = target if restart else (target.fused_loop or target)
        if self.innermost_loop() is exit_loop:
            self.emit(ast.Continue() if restart else ast.Break())
            return
        self.uses_br = True
        if not restart:
            exit_loop.arrival_ids.add(target.id)
        for f in reversed(self.frames):
            if f is exit_loop:
                break
            if f.py_loop:
                f.escapes.add(target.id)
        self.emit(assign([BR], [_int(target.id)]))
        self.emit(ast.Break())

    def branch_values(self, target: Frame) -> list[ast.expr]:
        return [e.expr for e in self.stack.peekn(len(target.branch_types))]

    def emit_branch(self, target: Frame) -> None:
        """Assign the values `target` receives, then jump there."""
        if target.kind == "func":
            self.emit_return(self.branch_values(target))
            target.reached = True
            return
        values = self.branch_values(target)
        if values:
            variables = target.param_vars if target.kind == "loop" else target.result_vars
            self.emit(assign(variables, values))
        self.jump(target)

    def emit_return(self, values: list[ast.expr]) -> None:
        if not values:
            self.emit(ast.Return(value=None))
        elif len(values) == 1:
            self.emit(ast.Return(value=values[0]))
        else:
            self.emit(ast.Return(value=ast.Tuple(elts=values, ctx=ast.Load())))

    def prepare_branch(self, n_values: int) -> None:
        """Evaluate what must run before a conditional branch (its condition already popped);
        the `n_values` it carries become temporaries, read on both paths."""
        self.stack.before_effect()
        self.stack.spill_all(len(self.stack) - n_values)

    # -- control handlers -----------------------------------------------------------------
    def open_frame(self, kind: str, ins: Instr, i: int) -> Frame:
        params, results = self.env.block_type(ins.imm)
        shape = self.analysis.shapes[i]
        frame = Frame(
            kind,
            self.new_id(),
            params,
            results,
            len(self.stack) - len(params),
            shape.targeted,
            end_index=shape.end,
        )
        frame.else_index = shape.else_
        frame.convertible = shape.convertible and not self.flat
        if shape.switch_case and not self.flat:
            frame.switch_leaf = []
        frame.outer = self.out
        if results and (shape.targeted or kind == "if"):
            frame.result_vars = [f"r{frame.id}_{k}" for k in range(len(results))]
        return frame

    def open_py_loop(self, frame: Frame) -> None:
        loop = ast.While(test=ast.Constant(True), body=[], orelse=[])
        self.compounds.append(loop)
        self.emit(loop)
        frame.loop_node = loop
        frame.py_loop = True
        self.out = loop.body

    def lower_block(self, ins: Instr, i: int) -> None:
        self.stack.spill_all()
        frame = self.open_frame("block", ins, i)
        if frame.targeted and not frame.convertible and frame.switch_leaf is None:
            if self.flat:
                frame.end_label = self.new_id()
            elif self.ends_with_own_loop(i, frame.end_index):
                frame.fuses_index = i + 1
            else:
                self.open_py_loop(frame)
        self.frames.append(frame)

    def ends_with_own_loop(self, i: int, end: int) -> bool:
        """`block (loop ... end) end`: the loop's `while` can serve the block too."""
        body = self.code.body
        if body[i + 1].op.family != "loop":
            return False
        shape = self.analysis.shapes[i + 1]
        return shape.targeted and shape.end == end - 1

    def lower_loop(self, ins: Instr, i: int) -> None:
        self.stack.spill_all()
        frame = self.open_frame("loop", ins, i)
        if self.frames[-1].fuses_index == i:
            self.frames[-1].fused_loop = frame
        if frame.targeted:
            n = len(frame.params)
            if n:
                frame.param_vars = [f"p{frame.id}_{k}" for k in range(n)]
                values = self.stack.popn(n)
                self.emit(assign(frame.param_vars, [e.expr for e in values]))
                for v in frame.param_vars:
                    self.stack.push(Entry(name(v)))
            if self.flat:
                frame.head_label = self.new_id()
                self.goto(frame.head_label)
                self.start_block(frame.head_label)
            else:
                self.open_py_loop(frame)
        self.frames.append(frame)

    def lower_if(self, ins: Instr, i: int) -> None:
        condition = self.stack.pop()
        self.stack.before_effect()
        self.stack.spill_all()
        frame = self.open_frame("if", ins, i)
        frame.if_params = self.stack.peekn(len(frame.params))
        if self.flat:
            frame.else_label, frame.end_label = self.new_id(), self.new_id()
            skip = ast.If(
                test=ast.UnaryOp(op=ast.Not(), operand=condition.expr), body=[], orelse=[]
            )
            self.emit(skip)
            saved = self.out
            self.out = skip.body
            self.goto(frame.else_label)
            self.out = saved
        else:
            if frame.targeted and not frame.convertible:
                self.open_py_loop(frame)
            node = ast.If(test=condition.expr, body=[], orelse=[])
            self.compounds.append(node)
            self.emit(node)
            frame.if_node = node
            self.out = node.body
        self.frames.append(frame)

    def fall_through(self, frame: Frame) -> None:
        """At the end of a live arm: hand the results to the frame's variables."""
        if frame.result_vars:
            values = self.stack.popn(len(frame.results))
            self.emit(assign(frame.result_vars, [e.expr for e in values]))
        if self.flat and frame.end_label >= 0:
            self.goto(frame.end_label)

    def lower_else(self, ins: Instr, i: int) -> None:
        frame = self.frames[-1]
        frame.then_live = not self.dead
        if not self.dead:
            self.stack.before_effect()
            self.fall_through(frame)
        self.stack.truncate(frame.height)
        for e in frame.if_params:
            self.stack.push(e)
        self.dead = False
        frame.has_else = True
        if self.flat:
            self.start_block(frame.else_label)
        else:
            self.out = frame.if_node.orelse

    def lower_end(self, ins: Instr, i: int) -> None:
        frame = self.frames.pop()
        if frame.kind == "func":
            if not self.dead:
                self.stack.before_effect(keep_top=len(frame.results))
                self.emit_return([e.expr for e in self.stack.popn(len(frame.results))])
            return
        live = not self.dead
        if live:
            self.stack.before_effect()
            self.fall_through(frame)
        if frame.kind == "if":
            live = live or frame.then_live or not frame.has_else
            if not frame.has_else:
                self.implicit_else(frame)
        falls_off_end = live
        live = live or (frame.reached and frame.kind != "loop")
        if self.flat:
            if frame.end_label >= 0 and live:
                self.start_block(frame.end_label)
            elif not live:
                self.out = []  # nothing can run after this construct
        elif frame.switch_leaf is not None:
            # Nothing falls into this end (see mark_switch_cases): its code runs in the leaf.
            self.out = frame.switch_leaf
        else:
            if frame.py_loop and falls_off_end:
                frame.loop_node.body.append(ast.Break())
            self.out = frame.outer
            if frame.py_loop:
                self.after_loop(frame)
        # Drop what a dead arm left; an untargeted block's results stay as they are.
        self.stack.truncate(frame.height + (0 if frame.result_vars else len(frame.results)))
        if frame.result_vars:
            for v in frame.result_vars:
                self.stack.push(Entry(name(v)))
        self.dead = not live

    def implicit_else(self, frame: Frame) -> None:
        """An `if` without `else` passes its params through as results when false."""
        if self.flat:
            self.start_block(frame.else_label)
            if frame.result_vars:
                self.emit(assign(frame.result_vars, [e.expr for e in frame.if_params]))
            self.goto(frame.end_label)
        elif frame.result_vars:
            frame.if_node.orelse = [assign(frame.result_vars, [e.expr for e in frame.if_params])]

    def after_loop(self, frame: Frame) -> None:
        """After a `while True:`, pass on or settle a branch that crossed it through `_br`."""
        outer = self.innermost_loop()
        propagate: list[ast.stmt] = []
        if frame.escapes:
            if outer is not None and outer.kind == "loop" and outer.id in frame.escapes:
                propagate = [
                    ast.If(
                        test=_compare(name(BR), ast.Eq(), _int(outer.id)),
                        body=[assign([BR], [_int(0)]), ast.Continue()],
                        orelse=[ast.Break()],
                    )
                ]
            else:
                propagate = [ast.Break()]
        arrived = None
        if frame.arrival_ids:
            ids = sorted(frame.arrival_ids)
            arrived = (
                _compare(name(BR), ast.Eq(), _int(ids[0]))
                if len(ids) == 1
                else _compare(
                    name(BR), ast.In(), ast.Tuple(elts=[_int(k) for k in ids], ctx=ast.Load())
                )
            )
        if arrived is not None and not propagate:
            self.emit(assign([BR], [_int(0)]))
        elif arrived is not None:
            self.emit(
                ast.If(
                    test=arrived,
                    body=[assign([BR], [_int(0)])],
                    orelse=[ast.If(test=name(BR), body=propagate, orelse=[])],
                )
            )
        elif propagate:
            self.emit(ast.If(test=name(BR), body=propagate, orelse=[]))

    def lower_br(self, ins: Instr, i: int) -> None:
        target = self.frames[-1 - ins.imm]
        self.stack.before_effect(keep_top=len(target.branch_types))
        self.emit_branch(target)
        self.dead = True

    def lower_br_if(self, ins: Instr, i: int) -> None:
        target = self.frames[-1 - ins.imm]
        condition = self.stack.pop()
        self.prepare_branch(len(target.branch_types))
        if target.convertible:
            self.skip_rest_if(target, condition)
            return
        node = ast.If(test=condition.expr, body=[], orelse=[])
        self.emit(node)
        saved = self.out
        self.out = node.body
        self.emit_branch(target)
        self.out = saved

    def skip_rest_if(self, target: Frame, condition: Entry) -> None:
        """`br_if 0` to a construct only left forward: the rest of its body runs when not taken.

        Nests the rest of the body in an `if`, so no loop and no `break` is needed.
        """
        target.reached = True
        values = self.branch_values(target)
        if values:
            node = ast.If(test=condition.expr, body=[assign(target.result_vars, values)], orelse=[])
            self.emit(node)
            self.out = node.orelse
        else:
            test = ast.UnaryOp(op=ast.Not(), operand=condition.expr)
            node = ast.If(test=test, body=[], orelse=[])
            self.compounds.append(node)
            self.emit(node)
            self.out = node.body

    def lower_br_table(self, ins: Instr, i: int) -> None:
        labels, default = ins.imm
        index = self.stack.pop()
        n_values = len(self.frames[-1 - default].branch_types)
        self.prepare_branch(n_values)
        index = self.to_temp(index)
        ranges = _ranges([*labels, default])
        cases = [label for _, label in ranges]
        if len(set(cases)) < len(cases) and any(
            self.frames[-1 - c].switch_leaf is not None for c in cases
        ):
            # A switch case must have one leaf: number the targets, then dispatch on that.
            index = self.case_number(index, labels, default)
            ranges = [(depth, depth) for depth in sorted(set(cases))]

        if len(ranges) == 1 and self.frames[-1 - ranges[0][1]].switch_leaf is not None:
            # One target: its code simply follows here.
            target = self.frames[-1 - ranges[0][1]]
            target.reached = True
            target.switch_leaf = self.out
            self.dead = True
            return

        def leaf(k: int) -> list[ast.stmt]:
            target = self.frames[-1 - ranges[k][1]]
            if target.switch_leaf is not None:
                target.reached = True
                self.leaves.append(target.switch_leaf)
                return target.switch_leaf
            saved = self.out
            self.out = []
            self.emit_branch(target)
            statements, self.out = self.out, saved
            return statements

        def below(k: int) -> ast.expr:
            return _compare(index.expr, ast.Lt(), _int(ranges[k][0]))

        for statement in _if_tree(0, len(ranges), leaf, below):
            self.emit(statement)
        self.dead = True

    def case_number(self, index: Entry, labels: tuple[int, ...], default: int) -> Entry:
        """`k = (d0, d1, ...)[i] if i < n else default`: the label depth an index selects."""
        table = ast.Tuple(elts=[_int(d) for d in labels], ctx=ast.Load())
        pick = ast.IfExp(
            test=_compare(index.expr, ast.Lt(), _int(len(labels))),
            body=ast.Subscript(value=table, slice=index.expr, ctx=ast.Load()),
            orelse=_int(default),
        )
        return self.to_temp(Entry(pick, pure=False, depth=2))

    def lower_return(self, ins: Instr, i: int) -> None:
        self.stack.before_effect(keep_top=len(self.frames[0].results))
        self.emit_branch(self.frames[0])
        self.dead = True

    def lower_unreachable(self, ins: Instr, i: int) -> None:
        self.stack.before_effect()
        self.emit(
            ast.Raise(
                exc=ast.Call(func=name("Trap"), args=[name("UNREACHABLE")], keywords=[]), cause=None
            )
        )
        self.dead = True

    def lower_nop(self, ins: Instr, i: int) -> None:
        pass


def _if_tree(
    lo: int,
    hi: int,
    leaf: Callable[[int], list[ast.stmt]],
    below: Callable[[int], ast.expr],
) -> list[ast.stmt]:
    """A balanced tree of `if below(mid):` over the leaves lo..hi-1.

    (Not a recursive closure: that would be a reference cycle, see FunctionLowerer.__init__.)
    """
    if hi - lo == 1:
        return leaf(lo)
    mid = (lo + hi) // 2
    return [
        ast.If(
            test=below(mid),
            body=_if_tree(lo, mid, leaf, below),
            orelse=_if_tree(mid, hi, leaf, below),
        )
    ]


def _ranges(targets: list[int]) -> list[tuple[int, int]]:
    """Runs of equal targets as (first index, target); the last run extends to infinity."""
    ranges: list[tuple[int, int]] = []
    for k, target in enumerate(targets):
        if not ranges or ranges[-1][1] != target:
            ranges.append((k, target))
    return ranges


# Control instructions, whose handlers need the instruction's index.
CONTROL = {
    "block": FunctionLowerer.lower_block,
    "loop": FunctionLowerer.lower_loop,
    "if": FunctionLowerer.lower_if,
    "else": FunctionLowerer.lower_else,
    "end": FunctionLowerer.lower_end,
    "br": FunctionLowerer.lower_br,
    "br_if": FunctionLowerer.lower_br_if,
    "br_table": FunctionLowerer.lower_br_table,
    "return": FunctionLowerer.lower_return,
    "unreachable": FunctionLowerer.lower_unreachable,
    "nop": FunctionLowerer.lower_nop,
}
# The others: `(fl, instr)`, called directly (an adapter per instruction costs a call).
LOWER = {
    "numeric": lower_numeric,
    "const": variables.lower_const,
    "local.get": variables.lower_local_get,
    "local.set": variables.lower_local_set,
    "local.tee": variables.lower_local_tee,
    "global.get": variables.lower_global_get,
    "global.set": variables.lower_global_set,
    "drop": variables.lower_drop,
    "select": variables.lower_select,
    "ref.null": variables.lower_ref_null,
    "ref.is_null": variables.lower_ref_is_null,
    "ref.func": variables.lower_ref_func,
    "call": variables.lower_call,
    "call_indirect": variables.lower_call_indirect,
    "load": memory.lower_load,
    "store": memory.lower_store,
    "memory.size": memory.lower_memory_size,
    "memory.grow": memory.lower_memory_grow,
    "memory.init": memory.lower_memory_init,
    "data.drop": memory.lower_data_drop,
    "memory.copy": memory.lower_memory_copy,
    "memory.fill": memory.lower_memory_fill,
    "table.get": tables.lower_table_get,
    "table.set": tables.lower_table_set,
    "table.size": tables.lower_table_size,
    "table.grow": tables.lower_table_grow,
    "table.fill": tables.lower_table_fill,
    "table.copy": tables.lower_table_copy,
    "table.init": tables.lower_table_init,
    "elem.drop": tables.lower_elem_drop,
}


def lower_function(env: Env, index: int, code: Code, flat: bool | None = None) -> ast.FunctionDef:
    """The `def f<index>(...)` for a defined function (index in the function index space)."""
    func = FunctionLowerer(env, index, code, env.func_types[index], flat).lower()
    func = hoist_invariants(dissolve_blocks_ending_loops(func))
    if any(ins.op.family in _ACCESSES and ins.op.data["width"] > 1 for ins in code.body):
        func = use_aligned_views(func, env.aligned_globals)
    local_types = [*env.func_types[index].params, *code.local_types]
    func = drop_wraps_in_range(version_counted_loops(func), local_types)
    return drop_unread_initial_values(func)


_ACCESSES = frozenset({"load", "store"})
_INT_BITS = {"i32": 32, "i64": 64}
