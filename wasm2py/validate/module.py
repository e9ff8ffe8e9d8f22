"""Module-level validation: index spaces, limits, exports, constant expressions, segments.

`validate` checks the module's own declarations in section order, builds the `Context`, then
hands every function body to func.py. The first broken rule raises a ValidationError whose
offset points at the offending entry (or instruction).
"""

from __future__ import annotations

from ..errors import ValidationError
from ..module import Expr, Module
from ..opcodes import CONST_OPS
from ..types import REF_TYPES, FuncType, Limits, ValType
from .context import ALL_FEATURES, Context, Invalid, feature_error, fmt_types
from .func import validate_function

MAX_PAGES = 65536  # 4 GiB of 64 KiB pages, the Wasm 2.0 bound


def validate(module: Module, features: set[str] | frozenset[str] | None = None) -> None:
    """Raise ValidationError unless `module` is valid Wasm 2.0 using only `features`.

    `features` names the allowed proposals as wasm-tools spells them (see ALL_FEATURES);
    None allows them all. SIMD is never allowed.
    """
    allowed = ALL_FEATURES if features is None else frozenset(features)
    ctx = _build_context(module, allowed)
    _check_types(ctx)
    _check_tables_and_memories(ctx)
    _check_globals(ctx)
    _check_exports(ctx)
    _check_start(ctx)
    _check_elems(ctx)
    _check_datas(ctx)
    imported = len(ctx.funcs) - len(module.funcs)
    for i, code in enumerate(module.codes):
        validate_function(ctx, imported + i, ctx.funcs[imported + i], code)


def _fail(err: Invalid, offset: int | None) -> ValidationError:
    return ValidationError(err.reason, offset)


# -- the context ----------------------------------------------------------------------------


def _build_context(module: Module, features: frozenset[str]) -> Context:
    """Check what the index spaces depend on (type indices, section lengths), then build C."""
    ctx = Context(
        module=module,
        features=features,
        types=module.types,
        funcs=[],
        tables=module.table_types(),
        memories=module.memory_types(),
        globals=module.global_types(),
        imported_globals=len(module.imported("global")),
        elem_types=[e.type for e in module.elems],
        datas=len(module.datas),
        has_data_count=module.data_count is not None,
    )
    funcs: list[FuncType] = []
    for imp in module.imports:
        if imp.kind == "func":
            funcs.append(_type_or_fail(ctx, imp.desc, imp.offset))  # type: ignore[arg-type]
    for type_index in module.funcs:
        funcs.append(_type_or_fail(ctx, type_index, None))
    ctx.funcs = funcs
    if len(module.funcs) != len(module.codes):
        raise ValidationError("function and code section have inconsistent lengths")
    if module.data_count is not None:
        if module.data_count != len(module.datas):
            raise ValidationError("data count and data section have inconsistent lengths")
        _require(ctx, "bulk-memory", "the data count section", None)
    ctx.refs = _declared_refs(module)
    return ctx


def _type_or_fail(ctx: Context, index: int, offset: int | None) -> FuncType:
    try:
        return ctx.type_at(index)
    except Invalid as err:
        raise _fail(err, offset) from None


def _require(ctx: Context, feature: str, what: str, offset: int | None) -> None:
    err = feature_error(ctx, feature, what)
    if err:
        raise _fail(err, offset)


def _declared_refs(module: Module) -> frozenset[int]:
    """C.refs: the functions named outside function bodies, which `ref.func` may name inside."""
    refs = {e.index for e in module.exports if e.kind == "func"}
    exprs: list[Expr] = [g.init for g in module.globals]
    for elem in module.elems:
        exprs.extend(elem.init)
        if elem.offset_expr is not None:
            exprs.append(elem.offset_expr)
    exprs.extend(d.offset_expr for d in module.datas if d.offset_expr is not None)
    for expr in exprs:
        refs.update(instr.imm for instr in expr if instr.op.name == "ref.func")
    return frozenset(refs)


# -- types, tables, memories ------------------------------------------------------------------


def _check_types(ctx: Context) -> None:
    # Every entry counts, used or not, as in wasm-tools: a v128 type alone rejects the module.
    for ft in ctx.types:
        try:
            ctx.check_functype(ft)
        except Invalid as err:
            raise _fail(err, None) from None
    for imp in ctx.module.imports:
        if imp.kind == "global":
            _check_valtype(ctx, imp.desc.valtype, imp.offset)  # type: ignore[union-attr]


def _check_valtype(ctx: Context, t: ValType, offset: int | None) -> None:
    try:
        ctx.check_valtype(t)
    except Invalid as err:
        raise _fail(err, offset) from None


def _check_limits(limits: Limits, bound: int | None, offset: int | None) -> None:
    if bound is not None and (limits.min > bound or (limits.max or 0) > bound):
        raise ValidationError("memory size must be at most 65536 pages (4GiB)", offset)
    if limits.max is not None and limits.min > limits.max:
        raise ValidationError("size minimum must not be greater than maximum", offset)


def _check_tables_and_memories(ctx: Context) -> None:
    module = ctx.module
    imported_tables = [i for i in module.imports if i.kind == "table"]
    imported_mems = [i for i in module.imports if i.kind == "memory"]
    table_offsets = [i.offset for i in imported_tables] + [None] * len(module.tables)
    mem_offsets = [i.offset for i in imported_mems] + [None] * len(module.memories)
    for table, offset in zip(ctx.tables, table_offsets):
        if table.elem not in REF_TYPES:
            raise ValidationError(f"table elements must be references, not {table.elem}", offset)
        if table.elem == "externref":
            _require(ctx, "reference-types", "an externref table", offset)
        _check_limits(table.limits, None, offset)
    if len(ctx.tables) > 1:
        _require(ctx, "reference-types", "more than one table", table_offsets[1])
    for memory, offset in zip(ctx.memories, mem_offsets):
        _check_limits(memory.limits, MAX_PAGES, offset)
    if len(ctx.memories) > 1:
        raise ValidationError("multiple memories", mem_offsets[1])


# -- constant expressions and globals -------------------------------------------------------


def check_const_expr(ctx: Context, expr: Expr, expected: ValType, offset: int | None) -> None:
    """A constant expression must be made of constant instructions and yield one `expected`.

    In Wasm 2.0, `global.get` may only read an imported immutable global.
    """
    stack: list[ValType] = []
    for instr in expr:
        name = instr.op.name
        try:
            if name not in CONST_OPS:
                raise Invalid("constant expression required")
            if name == "global.get":
                if instr.imm >= ctx.imported_globals:
                    raise Invalid(f"unknown global {instr.imm}")
                gt = ctx.global_at(instr.imm)
                if gt.mutable:
                    raise Invalid("constant expression required")
                stack.append(gt.valtype)
            elif name == "ref.func":
                ctx.func_at(instr.imm)
                stack.append("funcref")
            elif name == "ref.null":
                ctx.check_valtype(instr.imm)
                stack.append(instr.imm)
            else:
                stack.extend(instr.op.sig[1])  # type: ignore[index]
        except Invalid as err:
            raise _fail(err, instr.offset) from None
    if stack != [expected]:
        where = expr[-1].offset if expr else offset
        raise ValidationError(
            f"type mismatch: expected {fmt_types([expected])} but got {fmt_types(stack)}", where
        )


def _check_globals(ctx: Context) -> None:
    for g in ctx.module.globals:
        _check_valtype(ctx, g.type.valtype, g.offset)
        check_const_expr(ctx, g.init, g.type.valtype, g.offset)


# -- exports and start ----------------------------------------------------------------------

_EXPORT_INDEX = {
    "func": Context.func_at,
    "table": Context.table_at,
    "memory": Context.memory_at,
    "global": Context.global_at,
}


def _check_exports(ctx: Context) -> None:
    names: set[str] = set()
    for export in ctx.module.exports:
        lookup = _EXPORT_INDEX.get(export.kind)
        if lookup is None:
            raise ValidationError(f"unknown export kind {export.kind!r}", export.offset)
        try:
            lookup(ctx, export.index)
        except Invalid as err:
            raise _fail(err, export.offset) from None
        if export.name in names:
            raise ValidationError(f"duplicate export name {export.name!r}", export.offset)
        names.add(export.name)


def _check_start(ctx: Context) -> None:
    start = ctx.module.start
    if start is None:
        return
    try:
        ft = ctx.func_at(start)
    except Invalid as err:
        raise _fail(err, None) from None
    if ft.params or ft.results:
        raise ValidationError(f"start function must have type [] -> [], not {ft}")


# -- segments -------------------------------------------------------------------------------


def _check_elems(ctx: Context) -> None:
    for elem in ctx.module.elems:
        if elem.type not in REF_TYPES:
            raise ValidationError(f"elements must be references, not {elem.type}", elem.offset)
        if elem.type == "externref":
            _require(ctx, "reference-types", "an externref element segment", elem.offset)
        if elem.uses_exprs:
            _require(ctx, "reference-types", "an element segment of expressions", elem.offset)
        if elem.mode != "active":
            _require(ctx, "bulk-memory", f"a {elem.mode} element segment", elem.offset)
        else:
            if not 0 <= elem.table < len(ctx.tables):
                raise ValidationError(f"unknown table {elem.table}", elem.offset)
            table_type = ctx.tables[elem.table].elem
            if table_type != elem.type:
                raise ValidationError(
                    f"type mismatch: {elem.type} elements for a {table_type} table", elem.offset
                )
            check_const_expr(ctx, elem.offset_expr or [], "i32", elem.offset)
        for expr in elem.init:
            check_const_expr(ctx, expr, elem.type, elem.offset)


def _check_datas(ctx: Context) -> None:
    for data in ctx.module.datas:
        if data.mode != "active":
            _require(ctx, "bulk-memory", f"a {data.mode} data segment", data.offset)
            continue
        if not 0 <= data.memory < len(ctx.memories):
            raise ValidationError(f"unknown memory {data.memory}", data.offset)
        check_const_expr(ctx, data.offset_expr or [], "i32", data.offset)
