"""Run one kernel under PyPy: the translated module and the twin, timed in rounds after
warm-up calls that let the JIT compile. Invoked by the runner as

    pypy3 -m benchmarks.pypy_driver KERNEL SIZE RUNS WARMUP

with out/benchmarks/ (the generated modules and a `wasm2py_runtime` link) on PYTHONPATH.
Prints one JSON object: {"results": {engine: value}, "times": {engine: [seconds]}}.
Python 3.9-safe: Debian's PyPy implements 3.9.
"""

from __future__ import annotations

import importlib
import json
import sys

from . import twins
from .timing import measure


def main(argv: list) -> None:
    name, size, runs, warmup = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    module = importlib.import_module(f"bench_{name}")
    engines = {
        "wasm2py": module.instantiate().exports[name],
        "twin": getattr(twins, name),
    }
    results, times = measure(engines, size, runs, warmup)
    json.dump({"results": results, "times": times}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
