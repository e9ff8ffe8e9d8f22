"""The long runs behind `python -m tests.fuzz`: decode and diff, with counts and timings."""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import wasmtime

import wasm2py

from .bodies import Chooser, generated_module
from .common import FAILURES_DIR, HEADER, Timeout, time_limit
from .contract import ContractViolation, check_translate, check_validation
from .engines import Report, compare_module
from .mutations import mutate, random_mutations, random_sections
from .reduce import run_reduce
from .seeds import seed_modules, spec_modules
from .wasm_smith import export_hidden_globals, smith


def save_failure(kind: str, index: int, data: bytes, message: str) -> Path:
    FAILURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FAILURES_DIR / f"{kind}-{index}.wasm"
    path.write_bytes(data)
    path.with_suffix(".txt").write_text(message + "\n", encoding="utf-8")
    return path


def random_features(rng: random.Random) -> frozenset[str]:
    """A random subset of the proposals translate() supports (its `features` argument)."""
    return frozenset(f for f in sorted(wasm2py.SUPPORTED_FEATURES) if rng.random() < 0.5)


def decode_inputs(rng: random.Random, seeds: list[bytes]) -> Iterator[tuple[str, bytes]]:
    """An endless mix: mutated seeds (mostly), random bytes after a header, random sections,
    and smith modules whose function bodies are random bytes."""
    while True:
        roll = rng.random()
        if roll < 0.03:
            wasm = smith(rng.randbytes(rng.choice((50, 200, 1000))), imports=True, invalid=True)
            if wasm is not None:
                yield "smith-invalid-funcs", wasm
        elif roll < 0.8:
            yield "mutated", mutate(rng.choice(seeds), random_mutations(rng), seeds)
        elif roll < 0.9:
            yield "random-bytes", HEADER + rng.randbytes(rng.choice((1, 4, 16, 64, 256)))
        else:
            yield "random-sections", random_sections(rng)


def run_decode(count: int, seed: int, quiet: bool = False) -> int:
    rng = random.Random(seed)
    started = time.monotonic()
    seeds = seed_modules() + spec_modules()
    if not quiet:
        print(f"{len(seeds)} seed modules ({time.monotonic() - started:.1f} s)", flush=True)
    outcomes: Counter[str] = Counter()
    failures = 0
    started = time.monotonic()
    for i, (kind, data) in enumerate(itertools.islice(decode_inputs(rng, seeds), count)):
        features = random_features(rng) if rng.random() < 0.2 else None
        outcomes["restricted"] += features is not None
        try:
            outcome = check_translate(data, features=features)
            check_validation(data, outcome, features)
            outcomes[outcome] += 1
        except ContractViolation as e:
            failures += 1
            if features is not None:
                e = ContractViolation(f"{e} (features={sorted(features)})")
            path = save_failure("decode", i, data, str(e))
            print(f"FAIL #{i} ({kind}): {str(e).splitlines()[0]} -> {path}", flush=True)
        outcomes[kind] += 1
        if not quiet and (i + 1) % 10000 == 0:
            print(f"{i + 1} inputs, {time.monotonic() - started:.0f} s", flush=True)
    elapsed = time.monotonic() - started
    print(
        f"decode: {count} inputs in {elapsed:.1f} s: {outcomes['ok']} translated, "
        f"{outcomes['error']} WasmError, {failures} failures "
        f"({outcomes['mutated']} mutated, {outcomes['random-bytes']} random bytes, "
        f"{outcomes['random-sections']} random sections, {outcomes['smith-invalid-funcs']} smith "
        f"with raw function bodies; {outcomes['restricted']} with some proposals turned off)"
    )
    return 1 if failures else 0


def diff_one(index: int, seed: int) -> tuple[str, Report, bytes]:
    """Module number `index` of a run: from smith mostly (every fourth one with imports), every
    fifth a generated body; every third is translated with the flat lowering forced."""
    rng = random.Random(f"{seed}:{index}")
    flat = True if index % 3 == 2 else None
    if index % 5 == 4:
        wat = generated_module(Chooser.from_random(rng), size=rng.choice((20, 40, 80)))
        wasm = wasmtime.wat2wasm(wat)
        source = "generated"
    else:
        seed_bytes = rng.randbytes(rng.choice((100, 500, 1000, 2000, 4000)))
        wasm = smith(seed_bytes, imports=index % 4 == 1)
        if wasm is None:
            return "none", Report(skipped="smith made no module"), b""
        wasm = export_hidden_globals(wasm)
        source = "smith"
    if flat:
        source += " flat"
    try:
        with time_limit(60):
            report = compare_module(wasm, rng, flat=flat)
    except Timeout as e:
        report = Report(divergences=[f"timeout: {e}"])
    except Exception as e:  # noqa: BLE001 - any crash is a finding to report
        where = traceback.extract_tb(e.__traceback__)[-1]
        report = Report(
            divergences=[
                f"crash: {type(e).__name__}: {e} at {Path(where.filename).name}:{where.lineno}\n"
                + "".join(traceback.format_exception(e))
            ]
        )
    return source, report, wasm


def _diff_worker(args: tuple[int, int]) -> tuple[int, str, Report, bytes]:
    index, seed = args
    return (index, *diff_one(index, seed))


def run_diff(count: int, seed: int, jobs: int, quiet: bool = False) -> int:
    started = time.monotonic()
    totals: Counter[str] = Counter()
    divergent = 0
    work = [(i, seed) for i in range(count)]
    if jobs > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(jobs)
        results = pool.imap_unordered(_diff_worker, work, chunksize=4)
    else:
        pool, results = None, map(_diff_worker, work)
    try:
        for n, (index, source, report, wasm) in enumerate(results, 1):
            totals[source.split()[0]] += 1
            totals["flat"] += source.endswith("flat")
            totals["calls"] += report.calls
            if report.skipped:
                totals["skipped"] += 1
            if report.divergences:
                divergent += 1
                message = "\n".join(report.divergences)
                path = save_failure(f"diff-{seed}", index, wasm, message)
                print(f"DIVERGENCE #{index} ({source}): {message.splitlines()[0]} -> {path}")
            if not quiet and n % 100 == 0:
                print(f"{n} modules, {time.monotonic() - started:.0f} s", flush=True)
    finally:
        if pool is not None:
            pool.close()
    elapsed = time.monotonic() - started
    compared = totals["smith"] + totals["generated"] - totals["skipped"]
    print(
        f"diff: {compared} modules compared ({totals['smith']} smith, {totals['generated']} "
        f"generated, {totals['flat']} of them flat, {totals['skipped']} skipped) with "
        f"{totals['calls']} calls in "
        f"{elapsed:.1f} s: {divergent} divergences"
    )
    return 1 if divergent else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz",
        description="Fuzz wasm2py: bad bytes, and differences from wasmtime.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    decode = sub.add_parser("decode", help="bad bytes into translate(): WasmError or source")
    decode.add_argument("--count", type=int, default=100000)
    decode.add_argument("--seed", type=int, default=0)
    diff = sub.add_parser("diff", help="random modules in wasmtime and wasm2py, compared")
    diff.add_argument("--count", type=int, default=2000)
    diff.add_argument("--seed", type=int, default=0)
    diff.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    reduce = sub.add_parser("reduce", help="cut a failing .wasm/.wat down to the lines that matter")
    reduce.add_argument("input", type=Path)
    reduce.add_argument("mode", choices=("crash", "diff"), help="translator crash or divergence")
    reduce.add_argument("pattern", help="regex the crash ('Type: message') or divergence matches")
    reduce.add_argument("-o", "--output", type=Path)
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    if args.command == "decode":
        return run_decode(args.count, args.seed)
    if args.command == "reduce":
        return run_reduce(args.input, args.mode, args.pattern, args.output)
    return run_diff(args.count, args.seed, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
