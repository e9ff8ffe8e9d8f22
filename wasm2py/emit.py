"""Turn the generated module's AST into source: `ast.unparse`, or black with --format."""

from __future__ import annotations

import ast
import sys


class _FillEmptyBodies(ast.NodeTransformer):
    """Lowering may leave a branch with nothing to do; Python needs `pass` there."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        if isinstance(node, (ast.If, ast.While, ast.FunctionDef)) and not node.body:
            node.body = [ast.Pass()]
        return node


def emit(tree: ast.Module, *, format_with_black: bool = False) -> str:
    # The ast module recurses once per nesting level; lowering bounds nesting, this bounds Python.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        _FillEmptyBodies().visit(tree)
        ast.fix_missing_locations(tree)
        source = ast.unparse(tree) + "\n"
    finally:
        sys.setrecursionlimit(limit)
    if format_with_black:
        import black

        source = black.format_str(source, mode=black.Mode())
    return source
