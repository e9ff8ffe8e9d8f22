"""The spec suite's generated code on interpreters that cannot run the translator.

The translator needs Python 3.10+; generated code must also run on 3.9 and PyPy. `record`
runs the suite here and keeps every translation (source, or the error raised) by the hash of
the module bytes; `replay` puts a stand-in `wasm2py` that serves those translations into
sys.modules and runs the same suite, so only generated code and the runtime execute.

    python -m tests.spec.replay record            # on 3.10+, with wasm2py importable
    python3.9 -m tests.spec.replay replay         # any interpreter with wasm2py_runtime
"""

from __future__ import annotations

import hashlib
import json
import sys
import types

from .wast import REPO_ROOT

RECORDING = REPO_ROOT / "out" / "spec-translations"


def _key(data: bytes, flat) -> str:
    return hashlib.sha256(data).hexdigest() + ("-flat" if flat else "")


def record(argv: list[str]) -> int:
    import wasm2py

    from . import __main__ as spec_main

    RECORDING.mkdir(parents=True, exist_ok=True)
    translate = wasm2py.translate

    def recording_translate(data: bytes, **options):
        path = RECORDING / f"{_key(bytes(data), options.get('flat'))}.json"
        try:
            source = translate(data, **options)
        except wasm2py.WasmError as error:
            path.write_text(json.dumps({"error": type(error).__name__, "message": str(error)}))
            raise
        path.write_text(json.dumps({"source": source}))
        return source

    wasm2py.translate = recording_translate
    try:
        return spec_main.main(argv)
    finally:
        wasm2py.translate = translate


def _stand_in() -> types.ModuleType:
    module = types.ModuleType("wasm2py")

    class WasmError(Exception):
        pass

    class DecodeError(WasmError):
        pass

    class ValidationError(WasmError):
        pass

    errors = {"DecodeError": DecodeError, "ValidationError": ValidationError}

    def translate(data: bytes, name=None, features=None, flat=None) -> str:
        path = RECORDING / f"{_key(bytes(data), flat)}.json"
        if not path.exists():
            raise RuntimeError(f"no recorded translation for {name}: run `record` first")
        entry = json.loads(path.read_text())
        if "error" in entry:
            raise errors[entry["error"]](entry["message"])
        return entry["source"]

    module.__dict__.update(
        translate=translate,
        WasmError=WasmError,
        DecodeError=DecodeError,
        ValidationError=ValidationError,
    )
    return module


def replay(argv: list[str]) -> int:
    sys.modules["wasm2py"] = _stand_in()
    from . import __main__ as spec_main

    return spec_main.main(argv)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("record", "replay"):
        print(__doc__, file=sys.stderr)
        return 2
    return (record if argv[0] == "record" else replay)(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
