"""A local that holds unrelated values at different times becomes one variable per value.

C compilers reuse a Wasm local for values that never meet: a loop counter in one loop, a
pointer in the next. A pass that changes how a variable holds its value (lower/indices.py
keeps aligned pointers as element indices) must treat all of a variable's definitions alike,
so one unaligned use of a local would spoil it everywhere. Splitting each local into its webs
(definitions joined by the reads that see them: reaching definitions, then union-find) gives
every such value its own name, `l24` and `l24_1`. Renaming is all this does: the code runs
the same.
"""

from __future__ import annotations

import ast

from .dataflow import ForwardFlow, Unsupported
from .exprs import (
    evaluated,
    names,
    nested_blocks,
    rewrite_statement,
    stored_names,
    with_children,
)

# statement id -> (statement, the variables its own expressions read), for every statement
# that reads one
StatementReads = dict[int, tuple[ast.stmt, set[str]]]
Reach = dict[str, frozenset]  # variable -> the definitions (statement ids) that reach here
_ENTRY = 0  # the definition a variable has on entry (a parameter's argument)


class _Reaching(ForwardFlow[Reach]):
    """Reaching definitions of `tracked` variables; records, for every statement that reads
    them, which definitions each read may see (from the last, fixed-point walk), and unites
    those definitions as it goes."""

    def __init__(self, tracked: set[str], statement_reads: StatementReads):
        super().__init__()
        self.tracked = tracked
        # statement id -> the tracked variables it reads: once, not on every round of a loop
        self.tracked_reads = {
            key: read & tracked
            for key, (_, read) in statement_reads.items()
            if not read.isdisjoint(tracked)
        }
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}
        self.united: set[tuple[str, frozenset]] = set()
        self.reads: dict[int, tuple[ast.stmt, dict[str, frozenset]]] = {}

    def find(self, key: tuple[str, int]) -> tuple[str, int]:
        parent = self.parent.setdefault(key, key)
        if parent != key:
            parent = self.parent[key] = self.find(parent)
        return parent

    def unite(self, var: str, definitions: frozenset) -> None:
        if (var, definitions) in self.united:
            return  # a loop's statements are walked again, mostly with the same sets
        self.united.add((var, definitions))
        first, *rest = definitions
        root = self.find((var, first))
        for other in rest:
            other_root = self.find((var, other))
            if other_root != root:
                self.parent[other_root] = root

    def join(self, states: list[Reach]) -> Reach:
        first, *rest = states
        joined = dict(first)
        for other in rest:
            # Paths that meet mostly carry the same sets, often the very same objects.
            if other == joined:
                continue
            for var, definitions in other.items():
                mine = joined.get(var)
                if mine is None:
                    joined[var] = definitions
                elif mine is not definitions:
                    joined[var] = mine | definitions
        return joined

    def copy(self, state: Reach) -> Reach:
        return dict(state)

    def transfer(self, node: ast.stmt, state: Reach) -> Reach:
        read = self.tracked_reads.get(id(node))
        if read is None:
            return self.define(node, state)
        seen: dict[str, frozenset] = {}
        for var in read:
            definitions = state.get(var)
            if definitions:
                seen[var] = definitions
                self.unite(var, definitions)
        if seen:
            self.reads[id(node)] = (node, seen)
        return self.define(node, state)

    def define(self, node: ast.stmt, state: Reach) -> Reach:
        if type(node) is ast.Assign and len(node.targets) == 1:
            target = node.targets[0]
            if type(target) is ast.Name and target.id in self.tracked:
                state[target.id] = frozenset((id(node),))
        return state


def statement_reads(statements: list[ast.stmt], found: StatementReads | None = None):
    """statement id -> (statement, the variables its own expressions read), for every
    statement that reads one (lower/aligned.py gathers these in its own scan; versioning,
    which splits few functions, walks them here)."""
    if found is None:
        found = {}
    for node in statements:
        read = names(*evaluated(node))  # a name evaluated is read: targets are not evaluated
        if read:
            found[id(node)] = (node, read)
        for nested in nested_blocks(node):
            statement_reads(nested, found)
    return found


def _renamed(node: ast.expr, names: dict[str, str]) -> ast.expr:
    """`node` with the variables of `names` read under their new names (copied, not changed
    in place: lowering may share a subexpression between statements)."""
    kind = type(node)
    if kind is ast.Name:
        new = names.get(node.id)
        if new is None or type(node.ctx) is not ast.Load:
            return node
        return ast.Name(id=new, ctx=ast.Load())
    if kind is ast.Constant:
        return node
    return with_children(node, lambda child: _renamed(child, names))


def _definitions(statements: list[ast.stmt], found: dict[str, list[ast.Assign]]) -> set[str]:
    """Collects the `name = value` statements of each variable into `found`; returns the
    variables written any other way (in a tuple target)."""
    other: set[str] = set()
    for node in statements:
        if type(node) is ast.Assign:
            target = node.targets[0] if len(node.targets) == 1 else None
            if type(target) is ast.Name:
                found.setdefault(target.id, []).append(node)
            else:
                for target in node.targets:
                    other.update(stored_names(target))
        for nested in nested_blocks(node):
            other |= _definitions(nested, found)
    return other


def split_webs(
    func: ast.FunctionDef, candidates: set[str], reads: StatementReads
) -> tuple[dict[int, dict[str, str]], set[str]]:
    """Give each web of the `candidates` (local variables, no globals) its own name.
    `reads`: what each statement reads (from lower/aligned.py's scan). Returns, for each
    statement whose reads were renamed, (statement id -> {old name: new name}); and the new
    names."""
    found: dict[str, list[ast.Assign]] = {}
    other = _definitions(func.body, found)
    tracked = {var for var in candidates - other if len(found.get(var, ())) > 1}
    if not tracked:
        return {}, set()
    flow = _Reaching(tracked, reads)
    try:
        flow.block(func.body, {var: frozenset((_ENTRY,)) for var in tracked})
    except Unsupported:
        return {}, set()
    # The most read web keeps the name (the entry one, if read: a parameter's), so that
    # renaming touches few statements.
    weight: dict[tuple[str, int], int] = {}
    for _, seen in flow.reads.values():
        for var, definitions in seen.items():
            root = flow.find((var, next(iter(definitions))))
            weight[root] = weight.get(root, 0) + 1
    web_names: dict[tuple[str, int], str] = {}
    for var in sorted(tracked):
        entry = flow.find((var, _ENTRY))
        roots = [entry, *(flow.find((var, id(node))) for node in found[var])]
        kept = entry if entry in weight else max(roots, key=lambda r: weight.get(r, 0))
        web_names[kept] = var
        count = 0
        for root in roots:
            if root not in web_names:
                count += 1
                web_names[root] = f"{var}_{count}"
    new_names = set()
    for var in tracked:
        for node in found[var]:
            new = web_names[flow.find((var, id(node)))]
            if new != var:
                node.targets = [ast.Name(id=new, ctx=ast.Store())]
                new_names.add(new)
    renames: dict[int, dict[str, str]] = {}
    for key, (node, seen) in flow.reads.items():
        names = {}
        for var, definitions in seen.items():
            new = web_names[flow.find((var, next(iter(definitions))))]
            if new != var:
                names[var] = new
        if names:
            _rename_reads(node, names)
            renames[key] = names
    return renames, new_names


def _rename_reads(node: ast.stmt, names: dict[str, str]) -> None:
    rewrite_statement(node, lambda expr: _renamed(expr, names))
