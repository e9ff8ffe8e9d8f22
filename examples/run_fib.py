"""Translate examples/fib.wasm, import the result, call its exports."""

import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
out = root / "out"
out.mkdir(exist_ok=True)
subprocess.run(
    [sys.executable, "-m", "wasm2py", str(root / "examples/fib.wasm"), "-o", str(out / "fib.py")],
    check=True,
)
sys.path.insert(0, str(out))
import fib  # noqa: E402  (the module just written)

print("fib(90) =", fib.fib(90))
print("fib_rec(20) =", fib.fib_rec(20))
fib.memory.write(0, bytes(range(1, 101)))
print("sum_bytes(0, 100) =", fib.sum_bytes(0, 100))
