"""Translation time against module size: is it linear, and above 200 KiB of Wasm a second?

Inputs are real compiled C: a WASI program (67 KiB), the large WASI toolbox (677 KiB) and the
generated many_functions program (777 KiB), and copies of them made larger by repeating every
function body (`replicate`): the copies are never called, but each is translated like any
function. Each translation runs in a fresh interpreter, so its peak memory is its own.
`python -m benchmarks.scaling` prints the table on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from .engines import OUT, ROOT

INPUTS = [
    ("tests/wasi/files.wasm", 1),
    ("tests/wasi/files.wasm", 2),
    ("tests/wasi/large/toolbox.wasm", 1),
    ("tests/programs/many_functions.wasm", 1),
    ("tests/programs/many_functions.wasm", 2),
    ("tests/programs/many_functions.wasm", 4),
]
FUNCTION_SECTION, CODE_SECTION = 3, 10
NOTE = (
    "Each module is translated once, in a fresh CPython, by `wasm2py.translate` (the decoded "
    "module and the output stay in memory; functions are lowered and unparsed one at a time). "
    "*bodies xN*: every function body repeated N times (`benchmarks/scaling.py`)."
)

PROBE = """\
import json, resource, sys, time
import wasm2py
data = open(sys.argv[1], "rb").read()
start = time.perf_counter()
source = wasm2py.translate(data)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "source": len(source)}))
"""


@dataclass
class Scaling:
    label: str
    wasm_bytes: int
    seconds: float
    peak_bytes: int  # the translating process's peak RSS
    source_bytes: int


def _leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_leb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _vector_items(payload: bytes, sized: bool) -> list[bytes]:
    """The encoded items of a vector section: LEB type indices, or size-prefixed bodies."""
    count, pos = _read_leb(payload, 0)
    items = []
    for _ in range(count):
        start = pos
        value, pos = _read_leb(payload, pos)
        if sized:
            pos += value
        items.append(payload[start:pos])
    return items


def replicate(wasm: bytes, factor: int) -> bytes:
    """`wasm` with every defined function repeated `factor` times.

    A copy's calls still name the original functions, so every body stays valid as it is;
    exports, tables and the start function keep naming the originals.
    """
    out = bytearray(wasm[:8])
    pos = 8
    while pos < len(wasm):
        section = wasm[pos]
        size, start = _read_leb(wasm, pos + 1)
        payload = wasm[start : start + size]
        if section in (FUNCTION_SECTION, CODE_SECTION):
            items = _vector_items(payload, sized=section == CODE_SECTION) * factor
            payload = _leb(len(items)) + b"".join(items)
        out += bytes([section]) + _leb(len(payload)) + payload
        pos = start + size
    return bytes(out)


def measure(inputs: list[tuple[str, int]] = INPUTS) -> list[Scaling]:
    directory = OUT / "scaling"
    directory.mkdir(parents=True, exist_ok=True)
    results = []
    for relative, factor in inputs:
        path = ROOT / relative
        wasm = replicate(path.read_bytes(), factor) if factor > 1 else path.read_bytes()
        target = directory / f"{path.stem}_x{factor}.wasm"
        target.write_bytes(wasm)
        command = [sys.executable, "-c", PROBE, str(target)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        probe = json.loads(output)
        label = path.name if factor == 1 else f"{path.name}, bodies x{factor}"
        results.append(Scaling(label, len(wasm), probe["seconds"], probe["peak"], probe["source"]))
    return results


def table(results: list[Scaling]) -> list[str]:
    from .report import table as markdown_table  # report imports this module

    rows = [
        [
            r.label,
            f"{r.wasm_bytes / 1024:,.0f}",
            f"{r.seconds:.2f}",
            f"{r.wasm_bytes / 1024 / r.seconds:,.0f}",
            f"{r.source_bytes / 1e6:.1f}",
            f"{r.peak_bytes / 2**20:,.0f}",
        ]
        for r in results
    ]
    header = ["module", "KiB", "translate s", "KiB/s", "source MB", "peak RSS MiB"]
    return markdown_table(header, rows)


def main() -> int:
    print("\n".join(table(measure())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
