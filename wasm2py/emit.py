"""Turn the lowered module into source: `ast.unparse`, one function at a time.

Each function's AST is unparsed as soon as it is lowered and then dropped, so memory stays
bounded by the largest function, not the module. black formats the result only with --format.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from collections.abc import Callable

from .lower.module import FUNCTIONS_PLACEHOLDER, LoweredModule

Progress = Callable[[int, int], None]  # (functions done, functions in all)


_Unparser = getattr(ast, "_Unparser", None)  # private: ast.unparse is the fallback


if _Unparser is not None:

    class _FastUnparser(_Unparser):
        """ast.unparse's own printer, with its per-node dispatch cached by node type: the
        dispatch (NodeVisitor.visit, a method name built and looked up for every node) is a
        third of its time on generated code. The text is the same."""

        _methods: dict[type, Callable] = {}

        def traverse(self, node) -> None:
            if type(node) is list:
                for item in node:
                    self.traverse(item)
                return
            kind = type(node)
            method = self._methods.get(kind)
            if method is None:
                cls = type(self)
                method = getattr(cls, "visit_" + kind.__name__, cls.generic_visit)
                self._methods[kind] = method
            method(self, node)


def _unparse(tree: ast.AST) -> str:
    # No fix_missing_locations: unparse ignores line numbers, and the source is compiled later.
    if _Unparser is None:
        return ast.unparse(tree)
    return _FastUnparser().visit(tree)


def emit(
    lowered: LoweredModule, *, format_with_black: bool = False, progress: Progress | None = None
) -> str:
    # The ast module recurses once per nesting level; lowering bounds nesting, this bounds Python.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        skeleton = _unparse(lowered.skeleton)
        marker = f"    {FUNCTIONS_PLACEHOLDER}\n"
        # The last one: only the docstring, earlier, holds text from the caller unescaped.
        before, after = skeleton.rsplit(marker, 1)
        parts = [before]
        for done, function in enumerate(lowered.functions, 1):
            # Generated functions hold no multi-line string literals: indenting lines is safe.
            parts.append(textwrap.indent(_unparse(function), "    "))
            parts.append("\n")
            if progress is not None:
                progress(done, lowered.count)
        parts.append(after)
        source = "".join(parts) + "\n"
    finally:
        sys.setrecursionlimit(limit)
    if format_with_black:
        import black

        source = black.format_str(source, mode=black.Mode())
    return source
