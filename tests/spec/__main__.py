"""`python -m tests.spec [FILES...]`: run spec scripts and print passed/failed/skipped counts.

FILES are paths or core script names (`i32`, `i32.wast`); with none, every core script except
`simd_*` runs. Exits 1 if any command failed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from . import wast
from .runner import FAILED, PASSED, SKIPPED, format_counts, format_result, run_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.spec", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "files", nargs="*", metavar="FILES", help="scripts (default: core, no simd)"
    )
    parser.add_argument(
        "-n", "--failures", type=int, default=5, help="failures to show per file (default 5)"
    )
    parser.add_argument(
        "--flat", action="store_true", help="lower every function with the flat strategy"
    )
    options = parser.parse_args(argv)
    try:
        paths = [wast.resolve(name) for name in options.files] or wast.core_files()
    except FileNotFoundError as error:
        parser.error(str(error))

    totals: dict[str, Counter[str]] = {}
    skip_reasons: Counter[str] = Counter()
    failed_files = []
    seconds = 0.0
    for path in paths:
        result = run_file(path, flat=True if options.flat else None)
        print(format_result(result, options.failures), flush=True)
        for kind, counter in result.counts.items():
            totals.setdefault(kind, Counter()).update(counter)
        skip_reasons.update(result.skip_reasons)
        seconds += result.seconds
        if result.failed:
            failed_files.append(path.name)

    passed, failed, skipped = (
        sum(c[o] for c in totals.values()) for o in (PASSED, FAILED, SKIPPED)
    )
    print()
    print(
        f"TOTAL ({len(paths)} files, {seconds:.1f}s): {passed} passed, {failed} failed, {skipped} skipped"
    )
    print("    " + format_counts(totals) + "   (passed/failed/skipped)")
    for reason, count in skip_reasons.items():
        print(f"    skipped {count}: {reason}")
    if failed_files:
        print(f"    files with failures ({len(failed_files)}): {' '.join(failed_files)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
