"""Timing shared by the runner and the PyPy driver (so Python 3.9-safe): engines take turns
within each round, so drift hits all of them alike; the garbage collector is off while a call
is timed, as in `timeit`.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Callable

Engines = dict[str, Callable[[int], object]]


def measure(engines: Engines, n: int, runs: int, warmup: int = 0) -> tuple[dict, dict]:
    """Call every engine `warmup` + `runs` times at size `n`, in rounds.

    Returns ({engine: result of its last call}, {engine: [seconds of each timed call]}).
    """
    results: dict[str, object] = {}
    times: dict[str, list[float]] = {name: [] for name in engines}
    for round_index in range(warmup + runs):
        for name, function in engines.items():
            seconds, results[name] = time_call(function, n)
            if round_index >= warmup:
                times[name].append(seconds)
    return results, times


def time_call(function: Callable[[int], object], n: int) -> tuple[float, object]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        result = function(n)
        seconds = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return seconds, result


def median(samples: list[float]) -> float:
    return statistics.median(samples)
