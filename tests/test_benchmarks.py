"""The benchmark kernels at a tiny size: wasm2py's translation, the hand-written twin and
wasmtime agree on every checksum. Correctness only; `python -m benchmarks` does the timing.
"""

from __future__ import annotations

import pytest

from benchmarks import engines
from benchmarks.kernels import KERNELS, Kernel
from tests.util import load_module


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda kernel: kernel.name)
def test_translation_twin_and_wasmtime_agree(kernel: Kernel) -> None:
    module = load_module(kernel.wasm_path.read_bytes(), name=kernel.name)
    translated = module.instantiate().exports[kernel.name](kernel.tiny)
    twin = engines.twin_function(kernel)(kernel.tiny)
    expected = kernel.checksum(engines.wasmtime_result(kernel, kernel.tiny))
    assert kernel.checksum(translated) == expected
    assert kernel.checksum(twin) == expected
