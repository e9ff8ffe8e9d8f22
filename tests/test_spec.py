"""The WebAssembly core spec tests (Wasm 2.0, without SIMD): one test per `.wast` script.

A test fails if any command of its script fails; the failure message lists the counts and the
first failures. `python -m tests.spec FILE` prints the same summary outside pytest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec import wast
from tests.spec.runner import format_result, run_file


@pytest.mark.parametrize("strategy", ["auto", "flat"])
@pytest.mark.parametrize("path", wast.core_files(), ids=lambda path: path.stem)
def test_spec(path: Path, strategy: str) -> None:
    """Structured lowering (where it fits) and flat lowering both pass every assertion."""
    result = run_file(path, flat=True if strategy == "flat" else None)
    if result.failed:
        pytest.fail(format_result(result, max_failures=20, width=600), pytrace=False)
