"""How a WASI call ends other than by returning: an errno to hand back, or the program's exit."""

from __future__ import annotations

from ..traps import Trap


class WasiError(Exception):
    """Raised inside a preview1 call to make it return `errno` to the program."""

    def __init__(self, errno: int):
        self.errno = errno
        super().__init__(errno)


class WASIExit(Trap):
    """The program called `proc_exit(code)`; execution stops here. `code` is its exit status."""

    def __init__(self, code: int):
        self.code = code
        super().__init__(f"Exited with i32 exit status {code}")
