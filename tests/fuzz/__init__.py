"""Fuzzers: hostile bytes into the translator, random programs against a reference engine.

    python -m tests.fuzz decode --count 100000 [--seed S]
    python -m tests.fuzz diff --count 2000 [--seed S] [--jobs J]
    python -m tests.fuzz reduce FAILING.wasm crash|diff PATTERN [-o SMALL.wat]

`decode` feeds `wasm2py.translate` mutated seed modules, random bytes behind a valid header and
random sections; anything but source that compiles or a `WasmError` is a failure, and so is
accepting a module a reference validator rejects or the other way round. `diff` runs
`wasm-tools smith` modules (and generated function bodies) in wasmtime and in wasm2py, calls
every export, and compares results, traps and the exported state afterwards. Failing inputs
are written to `out/fuzz/`; `reduce` cuts one down to the lines that still fail the same way
(a regex over the crash or divergence message). tests/test_fuzz_decode.py and
tests/test_differential.py run short, bounded versions of both under pytest.

The pipeline, by module: common (binary writing, time limits) → seeds and mutations (inputs for
decode) → contract (what translate() must do, a reference validator) → wasm_smith (random valid
modules) and bodies (random function bodies) → engines (wasmtime and wasm2py side by side) →
reduce → runs (the command line).
"""

from .bodies import BodyGenerator, Chooser, generated_module
from .common import (
    HEADER,
    Timeout,
    assemble,
    name_bytes,
    read_uleb,
    section,
    split_sections,
    time_limit,
    uleb,
)
from .contract import (
    ContractViolation,
    check_translate,
    check_validation,
    reference_accepts,
    wasm_tools_accepts,
)
from .engines import (
    HostImports,
    Outcome,
    Report,
    Wasm2pyRun,
    WasmtimeRun,
    compare_module,
    compare_state,
    random_value,
    same_outcome,
    same_value,
)
from .mutations import EDGE_LEBS, MUTATIONS, mutate, random_mutations, random_sections
from .reduce import reduce_lines
from .runs import decode_inputs, diff_one, random_features
from .seeds import seed_modules, spec_modules
from .wasm_smith import FUEL_EXPORT, SMITH_FLAGS, export_hidden_globals, smith

__all__ = [
    "EDGE_LEBS",
    "FUEL_EXPORT",
    "HEADER",
    "MUTATIONS",
    "SMITH_FLAGS",
    "BodyGenerator",
    "Chooser",
    "ContractViolation",
    "HostImports",
    "Outcome",
    "Report",
    "Timeout",
    "Wasm2pyRun",
    "WasmtimeRun",
    "assemble",
    "check_translate",
    "check_validation",
    "compare_module",
    "compare_state",
    "decode_inputs",
    "diff_one",
    "export_hidden_globals",
    "generated_module",
    "mutate",
    "name_bytes",
    "random_features",
    "random_mutations",
    "random_sections",
    "random_value",
    "read_uleb",
    "reduce_lines",
    "reference_accepts",
    "same_outcome",
    "same_value",
    "section",
    "seed_modules",
    "smith",
    "spec_modules",
    "split_sections",
    "time_limit",
    "uleb",
    "wasm_tools_accepts",
]
