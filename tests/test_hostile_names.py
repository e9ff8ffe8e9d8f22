"""Names from the binary, and the name given to translate(), never become code.

Export names, import module and field names, and the custom `name` section's module,
function and local names hold quotes, triple quotes, newlines, backslashes, NUL, non-ASCII,
Python keywords, dunders, the generated code's own identifiers, and payloads that would run
code if spliced into source. Each module must translate, compile and behave as the Wasm says
(exports reachable by their exact names, imports bound by theirs), and no payload may run:
they all try to set a builtins attribute and to create a marker file, and neither may appear.
The text format cannot spell most of these names, so a small binary builder makes the modules.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import os
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from wasm2py_runtime import Global, LinkError, Memory, Table

import wasm2py
from tests.fuzz import HEADER, name_bytes, section, uleb

MARKER = Path(tempfile.gettempdir()) / f"wasm2py-pwned-{os.getpid()}"
SENTINEL = "WASM2PY_PWNED"
RUN = f'__import__("builtins").{SENTINEL} = 1; __import__("os").system("touch {MARKER}")'

INJECTIONS = [
    f'"; {RUN} #',
    f"'; {RUN} #",
    f'"); {RUN} #',
    f"'); {RUN} #",
    f'"""; {RUN}; """',
    f"'''; {RUN}; '''",
    f'\\"; {RUN} #',
    f"\\'; {RUN} #",
    f'"\n{RUN}\n"',
    f"\n{RUN}\n",
    f"\r{RUN}\r",
    f'"""\n{RUN}\n"""',
    f"'''\n{RUN}\n'''",
    f"{{{RUN}}}",
    f"%s%r{{0}}{{{RUN}}}",
    f"\\N{{QUOTATION MARK}}; {RUN} #",
    f"\\x22; {RUN} #",
    f'\x00"; {RUN} #',
    f'\u2028"; {RUN} #',
    f'\x0c"; {RUN} #',
    f'\\\n"; {RUN} #',
    f"\n# coding: utf-7\n+ACIAIgAi-+ADs- {RUN} +ACIAIgAi-",
    "\n    __wasm2py_functions__\n",
]
ODD = [
    "",
    " ",
    "\\",
    "\\\\\\",
    '"',
    "'",
    '"""',
    "'''",
    "\"'\"\"\"'''",
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\x7f",
    "\x1b[2J",
    "é",
    "日本語",
    "🦀",
    "\u202eevil",
    "\u200d",
    "\ufeff",
    "\U0010ffff",
    "e\u0301",
    "ﬁ",
    "fi",
    "ｆ0",
    "x" * 5000,
    "def",
    "class",
    "None",
    "True",
    "lambda",
    "import",
    "return",
    "async",
    "await",
    "match",
    "_",
    "__init__",
    "__getattr__",
    "__class__",
    "__dict__",
    "__builtins__",
    "__name__",
    "__doc__",
    "__all__",
    "__import__",
    "__spec__",
    "__file__",
    "__wasm2py_functions__",
]
GENERATED = [
    "instantiate",
    "_instantiate",
    "f0",
    "f1",
    "F0",
    "F1",
    "M0",
    "m0",
    "T0",
    "T0e",
    "g0",
    "G0",
    "D",
    "E",
    "l0",
    "t1",
    "_br",
    "link",
    "ready",
    "instance",
    "imports",
    "exports",
    "Trap",
    "UNREACHABLE",
    "Imports",
    "Instance",
    "Func",
    "Memory",
    "Table",
    "Global",
    "load_u32",
    "store_u8",
    "guarded_call",
    "func_at",
    "memory_init",
    "f32r",
    "MODULE_NAME",
    "_default_instance",
    "wasm2py_runtime",
    "a.b",
    "a b",
    "0",
    "-1",
]
NAMES = INJECTIONS + ODD + GENERATED
assert len(set(NAMES)) == len(NAMES)


@pytest.fixture(autouse=True)
def no_payload_runs():
    """Fail a test in which any payload ran: the sentinel is set or the marker file exists."""
    MARKER.unlink(missing_ok=True)
    if hasattr(builtins, SENTINEL):
        delattr(builtins, SENTINEL)
    yield
    assert not hasattr(builtins, SENTINEL), "an injected name ran as code"
    assert not MARKER.exists(), "an injected name ran as code"


# ---- a tiny binary builder --------------------------------------------------------------------

I32 = b"\x7f"
KIND = {"func": 0, "table": 1, "memory": 2, "global": 3}


@dataclass
class Builder:
    """Just enough of a module writer: functions, imports, one memory/table/global, exports,
    and a name section. Names are arbitrary strings, written as UTF-8."""

    types: list[bytes] = field(default_factory=list)
    imports: list[bytes] = field(default_factory=list)
    funcs: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    tables: list[bytes] = field(default_factory=list)
    memories: list[bytes] = field(default_factory=list)
    globals: list[bytes] = field(default_factory=list)
    exports: list[bytes] = field(default_factory=list)
    n_imported_funcs: int = 0
    names: bytes = b""

    def type(self, params: bytes, results: bytes) -> int:
        entry = b"\x60" + uleb(len(params)) + params + uleb(len(results)) + results
        if entry not in self.types:
            self.types.append(entry)
        return self.types.index(entry)

    def import_(self, module: str, name: str, kind: str, desc: bytes) -> None:
        self.imports.append(name_bytes(module) + name_bytes(name) + bytes([KIND[kind]]) + desc)

    def import_func(self, module: str, name: str, params: bytes, results: bytes) -> int:
        self.import_(module, name, "func", uleb(self.type(params, results)))
        self.n_imported_funcs += 1
        return self.n_imported_funcs - 1

    def func(self, params: bytes, results: bytes, body: bytes, locals_: bytes = b"\x00") -> int:
        self.funcs.append(self.type(params, results))
        entry = locals_ + body + b"\x0b"
        self.bodies.append(uleb(len(entry)) + entry)
        return self.n_imported_funcs + len(self.funcs) - 1

    def export(self, name: str, kind: str, index: int) -> None:
        self.exports.append(name_bytes(name) + bytes([KIND[kind]]) + uleb(index))

    def name_section(
        self,
        module: str | None = None,
        functions: dict[int, str] | None = None,
        locals_: dict[int, dict[int, str]] | None = None,
    ) -> None:
        def name_map(names: dict[int, str]) -> bytes:
            return uleb(len(names)) + b"".join(uleb(k) + name_bytes(v) for k, v in names.items())

        out = b""
        if module is not None:
            out += b"\x00" + name_bytes(name_bytes(module))
        if functions:
            out += b"\x01" + name_bytes(name_map(functions))
        if locals_:
            payload = uleb(len(locals_)) + b"".join(
                uleb(k) + name_map(v) for k, v in locals_.items()
            )
            out += b"\x02" + name_bytes(payload)
        self.names = out

    def build(self) -> bytes:
        def vec(items: list[bytes]) -> bytes:
            return uleb(len(items)) + b"".join(items)

        parts = [
            (1, vec(self.types)),
            (2, vec(self.imports)),
            (3, vec([uleb(t) for t in self.funcs])),
            (4, vec(self.tables)),
            (5, vec(self.memories)),
            (6, vec(self.globals)),
            (7, vec(self.exports)),
            (10, vec(self.bodies)),
        ]
        data = HEADER + b"".join(section(i, p) for i, p in parts if p != b"\x00")
        if self.names:
            data += section(0, name_bytes("name") + self.names)
        return data


def i32_const(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            return b"\x41" + bytes(out + bytes([byte]))
        out.append(byte | 0x80)


def load(wasm: bytes, name: str = "hostile") -> types.ModuleType:
    source = wasm2py.translate(wasm, name=name)
    module = types.ModuleType("hostile")
    exec(compile(source, "<hostile>", "exec"), module.__dict__)
    return module


# ---- exports ----------------------------------------------------------------------------------


def exporting_module(names: list[str]) -> bytes:
    """Export function k (returning k) under names[k], and a memory, table and global too."""
    b = Builder()
    for k, name in enumerate(names):
        b.export(name, "func", b.func(b"", I32, i32_const(k)))
    b.memories.append(b"\x00\x01")
    b.tables.append(b"\x70\x00\x02")
    b.globals.append(I32 + b"\x01" + i32_const(-5) + b"\x0b")
    b.export(names[0] + "\0memory", "memory", 0)
    b.export(names[1] + "\0table", "table", 0)
    b.export(names[2] + "\0global", "global", 0)
    return b.build()


def test_every_export_is_reachable_by_its_exact_name():
    m = load(exporting_module(NAMES))
    exports = m.instantiate().exports
    assert len(exports) == len(NAMES) + 3
    for k, name in enumerate(NAMES):
        assert exports[name]() == k, repr(name)
    assert isinstance(exports[NAMES[0] + "\0memory"], Memory)
    assert isinstance(exports[NAMES[1] + "\0table"], Table)
    assert exports[NAMES[2] + "\0global"].value == -5


def test_exports_named_like_dunders_do_not_shadow_the_export_map():
    exports = load(exporting_module(NAMES)).instantiate().exports
    for name in ("__class__", "__dict__", "__getattr__", "__init__", "__builtins__"):
        assert exports[name]() == NAMES.index(name)
    assert len(list(exports)) == len(NAMES) + 3


def test_module_attribute_access_reaches_exports_named_like_generated_identifiers():
    m = load(exporting_module(GENERATED))
    for k, name in enumerate(GENERATED):
        if name not in m.__dict__:  # module globals (instantiate, MODULE_NAME...) come first
            assert getattr(m, name)() == k, name


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_a_hostile_export_name_alone(name):
    b = Builder()
    b.export(name, "func", b.func(I32, I32, b"\x20\x00\x41\x01\x6a"))  # local.get 0 + 1
    assert load(b.build()).instantiate().exports[name](41) == 42


def identifiers(source: str) -> set[str]:
    """Every name the source binds or reads: variables, functions, arguments, attributes."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        for attribute in ("id", "name", "arg", "attr", "asname"):
            value = getattr(node, attribute, None)
            if isinstance(value, str):
                found.add(value)
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            found.update(node.names)
    return found


def test_names_from_the_binary_only_ever_appear_as_constants():
    """No identifier in the generated code comes from a name in the module."""
    names = [f"zz_marker_{k}" for k in range(6)]
    b = Builder()
    b.import_func(names[0], names[1], I32, I32)
    b.export(names[2], "func", b.func(b"", I32, b"\x41\x00\x10\x00"))
    b.name_section(
        module=names[3], functions={0: names[4], 1: names[4]}, locals_={1: {0: names[5]}}
    )
    source = wasm2py.translate(b.build(), name="zz_marker_module")
    assert not any("zz_marker" in identifier for identifier in identifiers(source))
    constants = {
        node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant)
    }
    assert {names[0], names[1], names[2]} <= constants


# ---- imports ----------------------------------------------------------------------------------


def importing_module(pairs: list[tuple[str, str]]) -> bytes:
    """Import function k as pairs[k] and export `call k` calling it with k."""
    b = Builder()
    for module, name in pairs:
        b.import_func(module, name, I32, I32)
    for k in range(len(pairs)):
        b.export(f"call {k}", "func", b.func(b"", I32, i32_const(k) + b"\x10" + uleb(k)))
    return b.build()


def pairs_of(names: list[str]) -> list[tuple[str, str]]:
    return [(names[k], names[(k * 7 + 3) % len(names)]) for k in range(len(names))]


def test_every_import_is_bound_by_its_exact_module_and_field_names():
    pairs = pairs_of(NAMES)
    imports: dict[str, dict[str, object]] = {}
    for k, (module, name) in enumerate(pairs):
        imports.setdefault(module, {})[name] = lambda x, k=k: 1000 * k + x
    exports = load(importing_module(pairs)).instantiate(imports).exports
    for k in range(len(pairs)):
        assert exports[f"call {k}"]() == 1001 * k, pairs[k]


@pytest.mark.parametrize("k", range(0, len(NAMES), 7))
def test_a_missing_hostile_import_is_a_link_error(k):
    pairs = pairs_of(NAMES)
    imports: dict[str, dict[str, object]] = {}
    for module, name in pairs:
        imports.setdefault(module, {})[name] = lambda x: x
    module, name = pairs[k]
    del imports[module][name]
    with pytest.raises(LinkError):
        load(importing_module(pairs)).instantiate(imports)


def test_imported_memory_table_and_global_are_bound_by_exact_names():
    b = Builder()
    b.import_(INJECTIONS[0], INJECTIONS[1], "memory", b"\x00\x01")
    b.import_(INJECTIONS[2], "__class__", "table", b"\x70\x00\x01")
    b.import_("MODULE_NAME", "", "global", I32 + b"\x00")
    b.export("size", "func", b.func(b"", I32, b"\x3f\x00"))  # memory.size
    b.export("tsize", "func", b.func(b"", I32, b"\xfc\x10\x00"))  # table.size
    b.export("g", "func", b.func(b"", I32, b"\x23\x00"))  # global.get 0
    imports = {
        INJECTIONS[0]: {INJECTIONS[1]: Memory(3)},
        INJECTIONS[2]: {"__class__": Table("funcref", 4)},
        "MODULE_NAME": {"": Global("i32", 77)},
    }
    exports = load(b.build()).instantiate(imports).exports
    assert (exports["size"](), exports["tsize"](), exports["g"]()) == (3, 4, 77)


# ---- the name section and the module name -----------------------------------------------------


def test_name_section_names_are_inert():
    b = Builder()
    n = 12
    for k in range(n):
        b.export(
            f"e{k}", "func", b.func(I32, I32, b"\x20\x00" + i32_const(k) + b"\x6a", b"\x01\x01\x7f")
        )
    for chunk in range(0, len(NAMES), n):
        names = NAMES[chunk : chunk + n]
        b.name_section(
            module=names[0],
            functions=dict(enumerate(names)),
            locals_={k: {0: names[-1 - k % len(names)], 1: name} for k, name in enumerate(names)},
        )
        exports = load(b.build()).instantiate().exports
        assert [exports[f"e{k}"](100) for k in range(n)] == [100 + k for k in range(n)]


def test_the_module_name_given_to_translate_is_inert():
    wasm = exporting_module(["f", "g", "h"])
    for name in NAMES:
        assert load(wasm, name=name).instantiate().exports["g"]() == 1, repr(name)


def test_a_module_name_holding_the_emitter_placeholder():
    wasm = exporting_module(["f", "g", "h"])
    assert load(wasm, name="x\n    __wasm2py_functions__\ny").instantiate().exports["g"]() == 1


def test_generated_source_written_to_a_file_imports_and_runs(tmp_path: Path):
    """Through a real .py file: line endings and coding declarations come into play."""
    wasm = exporting_module(NAMES)
    for k, name in enumerate(INJECTIONS[:-1]):
        path = tmp_path / f"hostile_{k}.py"
        path.write_text(wasm2py.translate(wasm, name=name), encoding="utf-8")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        exports = module.instantiate().exports
        assert all(exports[n]() == j for j, n in enumerate(NAMES)), repr(name)


def test_cli_with_hostile_names_in_the_module_and_on_the_command_line(tmp_path: Path):
    source, output = tmp_path / "m.wasm", tmp_path / "m.py"
    source.write_bytes(exporting_module(NAMES))
    for name in INJECTIONS[:3]:
        result = subprocess.run(
            [sys.executable, "-m", "wasm2py", str(source), "-o", str(output), "--name", name],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        check = subprocess.run(
            [sys.executable, "-c", "import m; print(m.instantiate().exports['f0']())"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert check.stdout == f"{NAMES.index('f0')}\n", check.stderr
    assert not MARKER.exists()
