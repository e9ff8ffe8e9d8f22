"""The WebAssembly spec-test runner: converts `.wast` scripts and replays them against wasm2py.

`wast` converts scripts to JSON commands (cached under `out/spec/`), `values` turns JSON values
into Python values and checks results, `runner` executes the commands and counts the outcomes.
Run `python -m tests.spec [FILES...]` from the repository root.
"""
