"""The decoded form of a module: what the decoder produces and every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .opcodes import Op
from .types import FuncType, GlobalType, MemoryType, TableType, ValType


@dataclass(slots=True)
class Instr:
    """One decoded instruction; `imm` holds its immediates (see opcodes.Imm for their shapes).

    Slots and no freezing: a module holds hundreds of thousands, and a frozen dataclass is
    three times slower to make. Nothing changes one after decoding.
    """

    op: Op
    imm: Any
    offset: int


Expr = list[Instr]  # a constant expression, without its final `end`


@dataclass
class Import:
    module: str
    name: str
    kind: str  # "func", "table", "memory", "global"
    desc: int | TableType | MemoryType | GlobalType  # a type index for functions
    offset: int = 0


@dataclass
class Export:
    name: str
    kind: str
    index: int
    offset: int = 0


@dataclass
class Global:
    type: GlobalType
    init: Expr
    offset: int = 0


@dataclass
class Elem:
    mode: str  # "active", "passive", "declarative"
    type: ValType
    init: list[Expr]  # one constant expression per element
    table: int = 0
    offset_expr: Expr | None = None
    offset: int = 0
    uses_exprs: bool = False  # the binary gave expressions, not function indices (flag bit 2)


@dataclass
class Data:
    mode: str  # "active", "passive"
    init: bytes
    memory: int = 0
    offset_expr: Expr | None = None
    offset: int = 0


@dataclass
class Code:
    locals: list[tuple[int, ValType]]  # run-length encoded, as in the binary
    body: list[Instr]  # the whole body, final `end` included
    offset: int = 0  # byte offset of the body's size field

    @property
    def local_types(self) -> list[ValType]:
        return [t for n, t in self.locals for _ in range(n)]


@dataclass
class Names:
    """The custom `name` section; absent entries are simply missing."""

    module: str | None = None
    functions: dict[int, str] = field(default_factory=dict)
    locals: dict[int, dict[int, str]] = field(default_factory=dict)


@dataclass
class Module:
    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    funcs: list[int] = field(default_factory=list)  # type index of each defined function
    tables: list[TableType] = field(default_factory=list)
    memories: list[MemoryType] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    elems: list[Elem] = field(default_factory=list)
    datas: list[Data] = field(default_factory=list)
    data_count: int | None = None
    codes: list[Code] = field(default_factory=list)
    customs: list[tuple[str, bytes]] = field(default_factory=list)
    names: Names = field(default_factory=Names)

    def imported(self, kind: str) -> list[Import]:
        return [i for i in self.imports if i.kind == kind]

    def func_types(self) -> list[FuncType]:
        """The type of every function in the function index space, imports first."""
        imported = [self.types[i.desc] for i in self.imported("func")]  # type: ignore[index]
        return imported + [self.types[t] for t in self.funcs]

    def table_types(self) -> list[TableType]:
        return [i.desc for i in self.imported("table")] + self.tables  # type: ignore[misc]

    def memory_types(self) -> list[MemoryType]:
        return [i.desc for i in self.imported("memory")] + self.memories  # type: ignore[misc]

    def global_types(self) -> list[GlobalType]:
        return [i.desc for i in self.imported("global")] + [g.type for g in self.globals]  # type: ignore[misc]
