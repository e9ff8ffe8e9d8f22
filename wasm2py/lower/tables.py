"""Table instructions, element segments and `call_indirect`'s lookup."""

from __future__ import annotations

import ast

from wasm2py_runtime.functions import signature

from ..module import Instr, Module
from ..types import FuncType
from .env import ELEM_SEGMENTS, table_elements_id, table_id, table_raws_id
from .memory import call
from .stack import Entry, assign, name

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


# -- call_indirect -----------------------------------------------------------------------------


def indirect_signature(ftype: FuncType) -> str:
    return signature(ftype.params, ftype.results)


def indirect_signatures(module: Module) -> dict[int, list[str]]:
    """Per table, the signatures its `call_indirect`s use: each needs a mirror bound."""
    uses: dict[int, dict[str, None]] = {}
    for code in module.codes:
        for ins in code.body:
            if ins.op.family == "call_indirect":
                type_index, table = ins.imm
                uses.setdefault(table, {})[indirect_signature(module.types[type_index])] = None
    return {table: list(sigs) for table, sigs in uses.items()}


def lower_indirect_callee(fl, table: int, sig: str, index: Entry) -> ast.Name:
    """The raw function `call_indirect` calls, in a temporary, after the spec's checks.

    The table's mirror for `sig` holds it where the entry is a function of that type; past
    its end or at None, `func_at` raises the trap. Only the lookup is in the `try` (free on
    3.11+): an IndexError from evaluating the index is a memory trap.
    """
    if not isinstance(index.expr, (ast.Name, ast.Constant)):
        index = fl.to_temp(index)
    callee = fl.new_temp()
    lookup = ast.Subscript(value=name(table_raws_id(table, sig)), slice=index.expr, ctx=ast.Load())
    missing = ast.ExceptHandler(
        type=name("IndexError"), name=None, body=[assign([callee], [ast.Constant(None)])]
    )
    fl.emit(ast.Try(body=[assign([callee], [lookup])], handlers=[missing], orelse=[], finalbody=[]))
    checked = call("func_at", name(table_elements_id(table)), index.expr, ast.Constant(sig))
    is_none = ast.Compare(left=name(callee), ops=[ast.Is()], comparators=[ast.Constant(None)])
    fl.emit(ast.If(test=is_none, body=[assign([callee], [checked])], orelse=[]))
    return name(callee)
