"""The engines a kernel runs on, each loaded once and returned as a function of the size:
wasm2py's translation (written to out/benchmarks/ and imported), the twin, pywasm and
wasmtime (the reference). pywasm and PyPy are optional: their loaders return None without them.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
import types
from pathlib import Path
from typing import Callable

import wasm2py

from . import twins
from .kernels import Kernel

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "benchmarks"


def module_name(kernel: Kernel) -> str:
    """The generated module's name: prefixed, so `hash` cannot shadow anything."""
    return f"bench_{kernel.name}"


def translate(kernel: Kernel) -> tuple[str, float]:
    """The translated source and the seconds `wasm2py.translate` took."""
    data = kernel.wasm_path.read_bytes()
    start = time.perf_counter()
    source = wasm2py.translate(data, name=kernel.name)
    return source, time.perf_counter() - start


def write_module(kernel: Kernel, source: str) -> Path:
    """Write the translation to out/benchmarks/, dropping any stale bytecode of it."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{module_name(kernel)}.py"
    path.write_text(source)
    for stale in (OUT / "__pycache__").glob(f"{module_name(kernel)}.*"):
        stale.unlink()
    return path


def load_module(path: Path) -> types.ModuleType:
    """Import a generated module from its file, as a fresh module object."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wasm2py_function(kernel: Kernel, module: types.ModuleType) -> Callable[[int], object]:
    return module.instantiate().exports[kernel.name]


def twin_function(kernel: Kernel) -> Callable[[int], object]:
    return getattr(twins, kernel.name)


def pywasm_function(kernel: Kernel) -> Callable[[int], object] | None:
    try:
        import pywasm
    except ImportError:
        return None
    runtime = pywasm.core.Runtime()
    instance = runtime.instance_from_file(str(kernel.wasm_path))

    def call(n: int) -> object:
        return runtime.invocate(instance, kernel.name, [n])[0]

    return call


def wasmtime_result(kernel: Kernel, n: int) -> object:
    """The kernel's checksum at size `n` according to wasmtime, the reference engine."""
    import wasmtime

    store = wasmtime.Store()
    module = wasmtime.Module.from_file(store.engine, str(kernel.wasm_path))
    instance = wasmtime.Instance(store, module, [])
    return instance.exports(store)[kernel.name](store, n)


def pypy_executable() -> str | None:
    return shutil.which("pypy3") or shutil.which("pypy")
