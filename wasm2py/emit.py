"""Turn the generated module's AST into source: `ast.unparse`, or black with --format."""

from __future__ import annotations

import ast
import sys


def emit(tree: ast.Module, *, format_with_black: bool = False) -> str:
    ast.fix_missing_locations(tree)
    # ast.unparse recurses once per nesting level; lowering bounds nesting, this bounds Python.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        source = ast.unparse(tree) + "\n"
    finally:
        sys.setrecursionlimit(limit)
    if format_with_black:
        import black

        source = black.format_str(source, mode=black.Mode())
    return source
