"""The module's sections: their order, their contents, and the checks that span sections.

`read_module` walks the sections once. Each known section id has a reader that fills the
Module from a Reader bounded to that section's payload.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import DecodeError
from ..module import Code, Data, Elem, Export, Global, Import, Module, Names
from ..types import FuncType, GlobalType, Limits, MemoryType, TableType
from .code import read_const_expr, read_instrs, ref_func_expr
from .reader import Reader

MAGIC = b"\0asm"
VERSION = b"\x01\0\0\0"
KINDS = ("func", "table", "memory", "global")  # import and export kinds, by byte
MAX_LOCALS = 2**32 - 1  # the spec interpreter's limit on a function's total local count

# -- types ------------------------------------------------------------------------------------


def read_functype(r: Reader) -> FuncType:
    if r.u8() != 0x60:
        raise r.error("malformed function type", r.pos - 1)
    params = tuple(r.vec(Reader.valtype))
    return FuncType(params, tuple(r.vec(Reader.valtype)))


def read_limits(r: Reader) -> Limits:
    has_max = r.uleb(1)  # a one-bit LEB128: 2 is "too large", 0x81 0x00 "too long"
    minimum = r.u32()
    return Limits(minimum, r.u32() if has_max else None)


def read_tabletype(r: Reader) -> TableType:
    elem = r.reftype()
    return TableType(elem, read_limits(r))


def read_memtype(r: Reader) -> MemoryType:
    return MemoryType(read_limits(r))


def read_globaltype(r: Reader) -> GlobalType:
    valtype = r.valtype()
    mutability = r.u8()
    if mutability > 1:
        raise r.error("malformed mutability", r.pos - 1)
    return GlobalType(valtype, mutability == 1)


# -- sections 1 to 8 --------------------------------------------------------------------------

_IMPORT_DESC: tuple[Callable[[Reader], object], ...] = (
    Reader.u32,
    read_tabletype,
    read_memtype,
    read_globaltype,
)


def read_import(r: Reader) -> Import:
    start = r.pos
    module, name = r.name(), r.name()
    kind = r.u8()
    if kind >= len(KINDS):
        raise r.error("malformed import kind", r.pos - 1)
    return Import(module, name, KINDS[kind], _IMPORT_DESC[kind](r), start)  # type: ignore[arg-type]


def read_global(r: Reader) -> Global:
    start = r.pos
    gtype = read_globaltype(r)
    return Global(gtype, read_const_expr(r), start)


def read_export(r: Reader) -> Export:
    start = r.pos
    name = r.name()
    kind = r.u8()
    if kind >= len(KINDS):
        raise r.error("malformed export kind", r.pos - 1)
    return Export(name, KINDS[kind], r.u32(), start)


# -- element and data segments ----------------------------------------------------------------


def read_elemkind(r: Reader) -> str:
    if r.u8() != 0x00:
        raise r.error("malformed element kind", r.pos - 1)
    return "funcref"


def read_elem(r: Reader) -> Elem:
    """One of the eight encodings, told apart by the bits of a u32 flags field.

    Bit 0: passive or declarative (bit 1 tells which); otherwise active, with an explicit
    table index if bit 1 is set. Bit 2: elements are expressions, not function indices.
    """
    start = r.pos
    flags = r.u32()
    if flags > 7:
        raise r.error("malformed elements segment kind", start)
    table, offset_expr = 0, None
    if flags & 1:
        mode = "declarative" if flags & 2 else "passive"
    else:
        mode = "active"
        if flags & 2:
            table = r.u32()
        offset_expr = read_const_expr(r)
    uses_exprs = bool(flags & 4)
    if flags & 3 == 0:
        etype = "funcref"  # flags 0 and 4 have an implicit type
    else:
        etype = r.reftype() if uses_exprs else read_elemkind(r)
    init = r.vec(read_const_expr if uses_exprs else ref_func_expr)
    return Elem(mode, etype, init, table, offset_expr, start, uses_exprs)


def read_data(r: Reader) -> Data:
    """Flags 0: active in memory 0; 1: passive; 2: active with a memory index."""
    start = r.pos
    flags = r.u32()
    if flags > 2:
        raise r.error("malformed data segment kind", start)
    if flags == 1:
        return Data("passive", read_bytes(r), offset=start)
    memory = r.u32() if flags == 2 else 0
    offset_expr = read_const_expr(r)
    return Data("active", read_bytes(r), memory, offset_expr, start)


def read_bytes(r: Reader) -> bytes:
    return r.bytes(r.u32())


# -- code -------------------------------------------------------------------------------------


def read_local(r: Reader) -> tuple[int, str]:
    count = r.u32()
    return count, r.valtype()


def read_code(r: Reader, has_data_count: bool) -> Code:
    start = r.pos
    body = r.sub(r.u32())
    local_groups = body.vec(read_local)
    if sum(n for n, _ in local_groups) > MAX_LOCALS:
        raise r.error("too many locals", start)
    code = Code(local_groups, read_instrs(body, has_data_count), start)
    if not body.at_end():
        raise body.error("section size mismatch")
    return code


# -- custom sections --------------------------------------------------------------------------


def read_names(payload: bytes) -> Names:
    """The `name` section, best effort: subsections after the first broken one are dropped."""
    names = Names()
    r = Reader(payload)
    try:
        while not r.at_end():
            sub_id = r.u8()
            sub = r.sub(r.u32())
            if sub_id == 0:
                names.module = sub.name()
            elif sub_id == 1:
                names.functions = read_name_map(sub)
            elif sub_id == 2:
                names.locals = dict(sub.vec(read_indirect_name))
    except DecodeError:
        pass  # names are debugging aids; a broken section must not reject the module
    return names


def read_name_assoc(r: Reader) -> tuple[int, str]:
    index = r.u32()
    return index, r.name()


def read_name_map(r: Reader) -> dict[int, str]:
    return dict(r.vec(read_name_assoc))


def read_indirect_name(r: Reader) -> tuple[int, dict[int, str]]:
    index = r.u32()
    return index, read_name_map(r)


def read_custom(r: Reader, module: Module) -> None:
    name = r.name()
    payload = r.bytes(r.remaining())
    module.customs.append((name, payload))
    if name == "name" and not any(n == "name" for n, _ in module.customs[:-1]):
        module.names = read_names(payload)


# -- the module -------------------------------------------------------------------------------

CUSTOM, CODE, DATA_COUNT = 0, 10, 12
# Non-custom sections must come in this order, each at most once (data count precedes code).
SECTION_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}


def read_section(section_id: int, r: Reader, module: Module) -> None:
    """Fill `module` from the payload of one non-custom section."""
    if section_id == 1:
        module.types = r.vec(read_functype)
    elif section_id == 2:
        module.imports = r.vec(read_import)
    elif section_id == 3:
        module.funcs = r.vec(Reader.u32)
    elif section_id == 4:
        module.tables = r.vec(read_tabletype)
    elif section_id == 5:
        module.memories = r.vec(read_memtype)
    elif section_id == 6:
        module.globals = r.vec(read_global)
    elif section_id == 7:
        module.exports = r.vec(read_export)
    elif section_id == 8:
        module.start = r.u32()
    elif section_id == 9:
        module.elems = r.vec(read_elem)
    elif section_id == DATA_COUNT:
        module.data_count = r.u32()
    elif section_id == CODE:
        has_data_count = module.data_count is not None
        module.codes = r.vec(lambda c: read_code(c, has_data_count))
    else:  # 11: SECTION_ORDER admits no other id
        module.datas = r.vec(read_data)


def read_header(r: Reader) -> None:
    if r.bytes(4) != MAGIC:
        raise r.error("magic header not detected", 0)
    if r.bytes(4) != VERSION:
        raise r.error("unknown binary version", 4)


def read_module(data: bytes) -> Module:
    r = Reader(data)
    read_header(r)
    module = Module()
    last = 0  # the SECTION_ORDER rank of the last non-custom section
    while not r.at_end():
        start = r.pos
        section_id = r.u8()
        if section_id != CUSTOM and section_id not in SECTION_ORDER:
            raise r.error("malformed section id", start)
        size_at = r.pos
        size = r.u32()
        if size > r.remaining():
            raise r.error("length out of bounds", size_at)
        payload = r.sub(size)
        if section_id == CUSTOM:
            read_custom(payload, module)
            continue
        if SECTION_ORDER[section_id] <= last:
            raise r.error("unexpected content after last section", start)
        last = SECTION_ORDER[section_id]
        read_section(section_id, payload, module)
        if not payload.at_end():
            raise payload.error("section size mismatch")
    check_counts(module, r)
    return module


def check_counts(module: Module, r: Reader) -> None:
    """The checks that compare one section with another."""
    if len(module.funcs) != len(module.codes):
        raise r.error("function and code section have inconsistent lengths")
    if module.data_count is not None and module.data_count != len(module.datas):
        raise r.error("data count and data section have inconsistent lengths")
