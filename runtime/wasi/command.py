"""Running a translated WASI command as a script: `python prog.py ARGS...`."""

from __future__ import annotations

import os
import sys

from ..linking import LinkError
from ..traps import Trap
from .api import WASI
from .errors import WASIExit

TRAP_EXIT_CODE = 134  # what wasmtime's CLI exits with on a trap (128 + SIGABRT)


def run_command(instantiate, argv=None) -> int:
    """Instantiate with WASI over the process (args, environment, `.` preopened, stdio), call
    `_start`, and return the exit code: 0 if it returns, n on proc_exit(n), 134 on a trap and 1
    if an import is missing (each after one line on stderr)."""
    argv = list(sys.argv if argv is None else argv)
    with WASI(args=argv, env=os.environ, preopens={".": "."}) as wasi:
        try:
            instance = instantiate(wasi=wasi)
            instance.exports["_start"]()
        except WASIExit as e:
            return e.code
        except Trap as e:
            return _fail(f"wasm trap: {e.message}", TRAP_EXIT_CODE)
        except LinkError as e:
            return _fail(str(e), 1)
        finally:
            _flush()
    return 0


def _fail(message: str, code: int) -> int:
    _flush()
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    return code


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
