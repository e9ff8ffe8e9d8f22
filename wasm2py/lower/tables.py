"""Table instructions, element segments and `call_indirect`'s lookup."""

from __future__ import annotations

import ast

from ..module import Instr
from .env import ELEM_SEGMENTS, table_elements_id, table_id
from .memory import call
from .stack import Entry, name

TABLE_HELPERS = (
    "func_at",
    "table_get",
    "table_set",
    "table_grow",
    "table_fill",
    "table_copy",
    "table_init",
)


def _segment(index: int, ctx=None) -> ast.Subscript:
    return ast.Subscript(
        value=name(ELEM_SEGMENTS), slice=ast.Constant(index), ctx=ctx or ast.Load()
    )


def lower_table_get(fl, ins: Instr) -> None:
    (index,) = fl.stack.shallow([fl.stack.pop()])
    expr = call("table_get", name(table_elements_id(ins.imm)), index.expr)
    fl.stack.push(Entry(expr, index.reads, pure=False, depth=index.depth + 1))


def lower_table_set(fl, ins: Instr) -> None:
    fl.emit_helper_call("table_set", [name(table_elements_id(ins.imm))], 2)


def lower_table_size(fl, ins: Instr) -> None:
    fl.stack.push(Entry(call("len", name(table_elements_id(ins.imm))), pure=False))


def lower_table_grow(fl, ins: Instr) -> None:
    init, delta = fl.pop_for_effect(2)
    fl.push_effect(
        call("table_grow", name(table_id(ins.imm)), init.expr, delta.expr), [init, delta]
    )


def lower_table_fill(fl, ins: Instr) -> None:
    fl.emit_helper_call("table_fill", [name(table_elements_id(ins.imm))], 3)


def lower_table_copy(fl, ins: Instr) -> None:
    dst, src = ins.imm
    tables = [name(table_elements_id(dst)), name(table_elements_id(src))]
    fl.emit_helper_call("table_copy", tables, 3)


def lower_table_init(fl, ins: Instr) -> None:
    elem_index, table = ins.imm
    fl.emit_helper_call("table_init", [name(table_elements_id(table)), _segment(elem_index)], 3)


def lower_elem_drop(fl, ins: Instr) -> None:
    fl.stack.before_effect()
    fl.emit(
        ast.Assign(
            targets=[_segment(ins.imm, ast.Store())],
            value=ast.Tuple(elts=[], ctx=ast.Load()),
            lineno=0,
        )
    )
