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


def test_replicated_module_is_valid_with_every_body_repeated() -> None:
    from benchmarks.scaling import replicate
    from wasm2py.binary import decode
    from wasm2py.validate import validate

    wasm = KERNELS[0].wasm_path.read_bytes()
    bigger = replicate(wasm, 3)
    original, copied = decode(wasm), decode(bigger)
    validate(copied, None)
    assert len(copied.codes) == 3 * len(original.codes)

    def shape(code):
        return [(ins.op, ins.imm) for ins in code.body]

    assert [shape(c) for c in copied.codes[len(original.codes) :]] == [
        shape(c) for c in original.codes * 2
    ]
    module = load_module(bigger, name=KERNELS[0].name)
    assert module.instantiate().exports[KERNELS[0].name](KERNELS[0].tiny) is not None
