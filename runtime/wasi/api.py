"""The WASI class: one program's configuration (args, environment, preopens, stdio) and the
wasi_snapshot_preview1 imports that serve it."""

from __future__ import annotations

from ..functions import Func
from ..memory import Memory
from .calls import SIGNATURES, Preview1, errno_guard
from .fs import FdTable, Stream, open_preopen

MODULE = "wasi_snapshot_preview1"


def _encode(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


class WASI:
    """A WASI preview 1 context for one instance.

    `args` is the program's argv (program name first), `env` a mapping of environment
    variables, `preopens` maps a guest directory name to the host directory it exposes (fds 3,
    4, ... in that order). `stdin`, `stdout` and `stderr` are binary file objects; None means
    the process's own. Pass it as `instantiate(wasi=...)`; `proc_exit(n)` raises `WASIExit`.
    Host directory fds stay open until `close()` (or until the object is collected).
    """

    def __init__(self, args=None, env=None, preopens=None, stdin=None, stdout=None, stderr=None):
        arguments = [_encode(a) + b"\0" for a in (args or [])]
        variables = [_encode(k) + b"=" + _encode(v) + b"\0" for k, v in dict(env or {}).items()]
        self.fds = FdTable()
        for number, stream in enumerate((stdin, stdout, stderr)):
            self.fds.add(Stream(number, stream))
        try:
            for guest, host in dict(preopens or {}).items():
                self.fds.add(open_preopen(str(host), str(guest)))
        except BaseException:
            self.fds.close_all()
            raise
        self.calls = Preview1(arguments, variables, self.fds)
        self._functions = {
            name: Func(errno_guard(getattr(self.calls, name)), params, results, name)
            for name, (params, results) in SIGNATURES.items()
        }

    def imports(self, imports=None) -> dict:
        """`imports` (a mapping or None) plus the wasi_snapshot_preview1 functions.

        Functions the caller already gives under wasi_snapshot_preview1 take precedence.
        """
        combined = dict(imports or {})
        namespace = dict(self._functions)
        namespace.update(combined.get(MODULE) or {})
        combined[MODULE] = namespace
        return combined

    def attach(self, instance) -> None:
        """Use `instance`'s exported memory for every call from now on."""
        memory = instance.exports.get("memory")
        self.calls.mem.memory = memory if isinstance(memory, Memory) else None

    def close(self) -> None:
        """Close every host descriptor the program still has open (preopens included)."""
        self.fds.close_all()

    def __enter__(self) -> WASI:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
