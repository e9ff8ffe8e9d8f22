"""WASI preview 1 (`wasi_snapshot_preview1`) for translated modules.

    wasi = WASI(args=["prog", "x"], env={"K": "v"}, preopens={"/data": "host/dir"},
                stdin=None, stdout=io.BytesIO(), stderr=None)
    instance = prog.instantiate(wasi=wasi)   # links the imports, attaches the memory
    instance.exports["_start"]()             # a command; proc_exit(n) raises WASIExit(n)

A reactor (a module exporting `_initialize` instead of `_start`) is instantiated the same way;
call `instance.exports["_initialize"]()` once yourself before any other export.

errno.py and flags.py hold the spec's numbers; guest.py reads and writes linear memory; fs.py is
the sandboxed file system (descriptors, path resolution); calls.py the preview1 functions, with
clocks and poll_oneoff's waiting in poll.py; api.py the WASI class; command.py runs a module as
a script. POSIX hosts only (Linux, macOS).
"""

from .api import WASI
from .command import run_command
from .errors import WASIExit

__all__ = ["WASI", "WASIExit", "run_command"]
