"""`python -m benchmarks`: translate every kernel, check it against wasmtime and the twin,
time it against the twin, pywasm and (with --pypy) PyPy, and write a markdown report.

Per kernel: translation time; run time of each engine at the kernel's size (median of --runs,
engines taking turns); cold import (compiled from source) and warm import (from .pyc) of the
generated module, each in a fresh interpreter with the runtime already imported; instantiation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import engines, report, scaling
from .kernels import BY_NAME, KERNELS, Kernel
from .timing import measure, median, time_call

RESULTS = Path(__file__).resolve().parent / "results.md"
PYPY_WARMUP = 10  # translated code takes the JIT longer to warm up: indirect needs ~7 calls

IMPORT_PROBE = """\
import sys, time
import wasm2py_runtime, wasm2py_runtime.access, wasm2py_runtime.numeric
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
__import__(sys.argv[2])
print(time.perf_counter() - start)
"""


@dataclass
class Measurement:
    """Everything measured for one kernel; times in seconds, medians except where a list."""

    kernel: Kernel
    size: int
    wasm_bytes: int
    source_lines: int
    translate: float
    cold_import: float
    warm_import: float
    instantiate: float
    times: dict[str, float] = field(default_factory=dict)  # engine -> median run time
    pypy_times: dict[str, float] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="3 runs at a tenth of the size or less (for CI)"
    )
    parser.add_argument(
        "--kernel", action="append", choices=sorted(BY_NAME), help="only this kernel (repeatable)"
    )
    parser.add_argument("--no-pywasm", action="store_true", help="skip pywasm, the slowest")
    parser.add_argument("--pypy", action="store_true", help="also run under pypy3")
    parser.add_argument("--runs", type=int, help="timed runs per engine (default 5, quick 3)")
    parser.add_argument(
        "--no-scaling",
        action="store_true",
        help="skip translation time against module size (run by default unless --quick/--kernel)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"write the report here (default: {RESULTS.name} for a full run of all kernels)",
    )
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 3 if args.quick else 5
    if args.output is None and not args.quick and not args.kernel:
        args.output = RESULTS
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kernels = [BY_NAME[name] for name in args.kernel] if args.kernel else list(KERNELS)
    pypy = engines.pypy_executable() if args.pypy else None
    if args.pypy and pypy is None:
        print("pypy3 not found: skipping PyPy", file=sys.stderr)
    measurements = []
    for kernel in kernels:
        size = kernel.quick if args.quick else kernel.size
        print(f"{kernel.name} (size {size}) ...", file=sys.stderr, flush=True)
        measurements.append(measure_kernel(kernel, size, args, pypy))
    scaling_results = None
    if not (args.no_scaling or args.quick or args.kernel):
        print("translation scaling ...", file=sys.stderr, flush=True)
        scaling_results = scaling.measure()
    text = report.markdown(measurements, args, pypy, scaling_results)
    print(text)
    if args.output is not None:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    failed = [m for m in measurements if m.mismatches]
    for m in failed:
        print(f"{m.kernel.name}: {'; '.join(m.mismatches)}", file=sys.stderr)
    return 1 if failed else 0


def measure_kernel(kernel: Kernel, size: int, args, pypy: str | None) -> Measurement:
    translations = [engines.translate(kernel) for _ in range(max(args.runs, 3))]
    source = translations[0][0]
    path = engines.write_module(kernel, source)
    module = engines.load_module(path)
    m = Measurement(
        kernel=kernel,
        size=size,
        wasm_bytes=kernel.wasm_path.stat().st_size,
        source_lines=source.count("\n") + 1,
        translate=median([seconds for _, seconds in translations]),
        cold_import=median([import_time(path, cold=True) for _ in range(args.runs)]),
        warm_import=median([import_time(path, cold=False) for _ in range(args.runs)]),
        instantiate=median([time_call(lambda _: module.instantiate(), 0)[0] for _ in range(3)]),
    )
    expected = kernel.checksum(engines.wasmtime_result(kernel, size))
    functions = {
        "wasm2py": engines.wasm2py_function(kernel, module),
        "twin": engines.twin_function(kernel),
    }
    for function in functions.values():  # untimed: CPython specializes bytecode as it runs
        function(size)
    if not args.no_pywasm:
        pywasm = engines.pywasm_function(kernel)
        if pywasm is not None:
            functions["pywasm"] = pywasm
    results, times = measure(functions, size, args.runs)
    m.times = {name: median(samples) for name, samples in times.items()}
    check(m, results, expected, "")
    if pypy is not None:
        results, times = run_pypy(pypy, kernel, size, args.runs)
        m.pypy_times = {name: median(samples) for name, samples in times.items()}
        check(m, results, expected, "PyPy ")
    return m


def check(m: Measurement, results: dict, expected: object, prefix: str) -> None:
    for name, value in results.items():
        if m.kernel.checksum(value) != expected:
            m.mismatches.append(f"{prefix}{name} returned {value!r}, wasmtime {expected!r}")


def import_time(path: Path, cold: bool) -> float:
    """Seconds to import the generated module in a fresh CPython (-B: no bytecode written).

    Cold: no .pyc, so the import compiles the source. Warm: the .pyc is written first.
    """
    cache = path.parent / "__pycache__"
    for stale in cache.glob(f"{path.stem}.*"):
        stale.unlink()
    if not cold:
        import py_compile

        py_compile.compile(str(path), doraise=True)
    command = [sys.executable, "-B", "-c", IMPORT_PROBE, str(path.parent), path.stem]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(output)


def run_pypy(pypy: str, kernel: Kernel, size: int, runs: int) -> tuple[dict, dict]:
    """Time the translated module and the twin under PyPy, in a subprocess."""
    link = engines.OUT / "wasm2py_runtime"
    if not link.exists():
        link.symlink_to(engines.ROOT / "runtime", target_is_directory=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(engines.OUT), str(engines.ROOT)]))
    command = [pypy, "-m", "benchmarks.pypy_driver", kernel.name, str(size), str(runs)]
    command.append(str(PYPY_WARMUP))
    completed = subprocess.run(
        command, check=True, capture_output=True, text=True, env=env, cwd=engines.ROOT
    )
    output = json.loads(completed.stdout)
    return output["results"], output["times"]
