"""Benchmarks of issue 3: C kernels compiled to Wasm (c/, wasm/), their hand-written Python
twins (twins.py), and the runner `python -m benchmarks` comparing wasm2py's translation with
the twins, pywasm and, optionally, PyPy. See README.md here.
"""
