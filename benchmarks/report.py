"""The markdown report: machine and versions, run times with ratios, translation and import."""

from __future__ import annotations

import datetime
import math
import os
import platform
import subprocess
import sys
from importlib import metadata

from . import engines, scaling

GOAL = 1.5  # issue 3: translated code within 1.5x of hand-written Python


def markdown(measurements: list, args, pypy: str | None, scaling_results=None) -> str:
    lines = ["# wasm2py benchmarks", ""]
    lines += [f"- {item}" for item in environment(args, pypy)]
    lines += ["", "## Run time", ""]
    lines += run_table(measurements)
    lines += ["", "## Translation and import", ""]
    lines += import_table(measurements)
    if scaling_results:
        lines += ["", "## Translation time against module size", ""]
        lines += scaling.table(scaling_results)
        lines += ["", scaling.NOTE]
    lines += ["", *NOTES]
    mismatched = [m for m in measurements if m.mismatches]
    if mismatched:
        lines += ["", "## Wrong results", ""]
        lines += [f"- {m.kernel.name}: {'; '.join(m.mismatches)}" for m in mismatched]
    return "\n".join(lines) + "\n"


NOTES = [
    "- Times are medians in milliseconds; ratios are of medians measured in the same run, the "
    "engines taking turns in each round, after one untimed call of wasm2py and the twin.",
    "- Every engine runs a kernel at the same size, and every call's checksum is checked "
    "against wasmtime's.",
    "- *twin*: the hand-written Python of `benchmarks/twins.py`. Issue 3's goal is "
    f"wasm2py / twin <= {GOAL}.",
    "- PyPy: pypy3 runs the same generated module and twin, timed after ten warm-up calls "
    "for the JIT (steady state: translated code takes the JIT longer to compile than the "
    "twins, e.g. indirect reaches its speed only at the seventh call).",
    "- Import: the generated module alone, in a fresh CPython with the runtime already "
    "imported. *cold* compiles the source (no .pyc), *warm* loads the .pyc. *instantiate* is "
    "`instantiate()` (memory, tables, closures).",
]


def environment(args, pypy: str | None) -> list[str]:
    items = [
        f"Date: {datetime.date.today().isoformat()}",
        f"CPU: {cpu_model()} ({platform.machine()}, {os.cpu_count()} CPUs)",
        f"Python: {platform.python_implementation()} {platform.python_version()}",
        f"Load average at start (other processes share the CPUs): {load_average()}",
        f"wasm2py: {wasm2py_revision()}",
        f"pywasm: {package_version('pywasm')}; wasmtime (reference): {package_version('wasmtime')}",
    ]
    if pypy is not None:
        items.append(f"PyPy: {pypy_version(pypy)}")
    command = "python -m benchmarks " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""
    items.append(
        f"Command: `{command or 'python -m benchmarks'}`; timed runs per engine: {args.runs}"
    )
    return items


def run_table(measurements: list) -> list[str]:
    with_pywasm = any("pywasm" in m.times for m in measurements)
    with_pypy = any(m.pypy_times for m in measurements)
    header = ["kernel", "what", "size", "wasm2py ms", "twin ms", "wasm2py / twin"]
    if with_pywasm:
        header += ["pywasm ms", "pywasm / wasm2py"]
    if with_pypy:
        header += ["PyPy wasm2py ms", "PyPy twin ms", "PyPy wasm2py / twin"]
    rows = []
    ratios: dict[str, list[float]] = {"twin": [], "pywasm": [], "pypy": []}
    for m in measurements:
        w2p, twin = m.times["wasm2py"], m.times["twin"]
        ratios["twin"].append(w2p / twin)
        row = [m.kernel.name, m.kernel.about, f"{m.size:,}", ms(w2p), ms(twin), ratio(w2p / twin)]
        if with_pywasm:
            pywasm = m.times.get("pywasm")
            if pywasm is None:
                row += ["", ""]
            else:
                ratios["pywasm"].append(pywasm / w2p)
                row += [ms(pywasm), ratio(pywasm / w2p)]
        if with_pypy:
            p_w2p, p_twin = m.pypy_times["wasm2py"], m.pypy_times["twin"]
            ratios["pypy"].append(p_w2p / p_twin)
            row += [ms(p_w2p), ms(p_twin), ratio(p_w2p / p_twin)]
        rows.append(row)
    if len(measurements) > 1:
        mean = ["geometric mean", "", "", "", "", ratio(geomean(ratios["twin"]))]
        if with_pywasm:
            mean += ["", ratio(geomean(ratios["pywasm"]))]
        if with_pypy:
            mean += ["", "", ratio(geomean(ratios["pypy"]))]
        rows.append(mean)
    return table(header, rows)


def import_table(measurements: list) -> list[str]:
    header = [
        "kernel",
        ".wasm bytes",
        ".py lines",
        "translate ms",
        "cold import ms",
        "warm import ms",
        "instantiate ms",
    ]
    rows = [
        [
            m.kernel.name,
            f"{m.wasm_bytes:,}",
            f"{m.source_lines:,}",
            ms(m.translate),
            ms(m.cold_import),
            ms(m.warm_import),
            ms(m.instantiate),
        ]
        for m in measurements
    ]
    return table(header, rows)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    numeric = [i > 1 for i in range(len(header))]  # right-align all but kernel and what
    rule = ["---:" if right else "---" for right in numeric]
    return ["| " + " | ".join(cells) + " |" for cells in [header, rule, *rows]]


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return ", ".join(f"{load:.2f}" for load in os.getloadavg())
    except OSError:
        return "unknown"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def wasm2py_revision() -> str:
    """The commit, noting uncommitted changes to the translator or runtime."""
    root = str(engines.ROOT)
    try:
        commit = git(root, "rev-parse", "--short", "HEAD")
        dirty = git(root, "status", "--porcelain", "--", "wasm2py", "runtime")
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return f"{commit} (with uncommitted changes to wasm2py/ or runtime/)" if dirty else commit


def git(root: str, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", root, *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def pypy_version(pypy: str) -> str:
    code = "import sys, platform; print('%d.%d.%d' % sys.pypy_version_info[:3], end=' ');"
    code += "print('(Python %s)' % platform.python_version())"
    return subprocess.run([pypy, "-c", code], capture_output=True, text=True).stdout.strip()
