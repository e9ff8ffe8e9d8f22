"""Import binding and the Instance an instantiation returns."""

from __future__ import annotations

from collections.abc import Mapping

from .functions import Func, host_function, signature
from .globals import Global
from .memory import Memory
from .table import Table


class LinkError(Exception):
    """An import is missing or does not match what the module declares."""


class Imports:
    """Looks up and type-checks each import a generated module declares."""

    def __init__(self, imports, module_name: str):
        self.imports = imports or {}
        self.module_name = module_name

    def _lookup(self, module: str, name: str):
        try:
            return self.imports[module][name]
        except (KeyError, TypeError, IndexError):
            pass
        namespace = self.imports.get(module) if isinstance(self.imports, Mapping) else None
        if namespace is not None and not isinstance(namespace, Mapping):
            value = getattr(namespace, name, None)
            if value is not None:
                return value
        raise LinkError(f"unknown import: {module!r} {name!r} is not provided")

    def _mismatch(self, module: str, name: str, why: str) -> LinkError:
        return LinkError(f"incompatible import type for {module!r} {name!r}: {why}")

    def func(self, module: str, name: str, params: tuple, results: tuple) -> Func:
        value = self._lookup(module, name)
        if isinstance(value, Func):
            if value.sig != signature(params, results):
                raise self._mismatch(
                    module, name, f"expected [{signature(params, results)}], got [{value.sig}]"
                )
            return value
        if isinstance(value, (Memory, Table, Global)) or not callable(value):
            raise self._mismatch(module, name, "expected a function")
        return host_function(value, params, results, f"{module}.{name}")

    def memory(self, module: str, name: str, minimum: int, maximum: int | None) -> Memory:
        value = self._lookup(module, name)
        if not isinstance(value, Memory):
            raise self._mismatch(module, name, "expected a memory")
        if not value.matches(minimum, maximum):
            raise self._mismatch(module, name, "memory limits do not match")
        return value

    def table(
        self, module: str, name: str, element: str, minimum: int, maximum: int | None
    ) -> Table:
        value = self._lookup(module, name)
        if not isinstance(value, Table):
            raise self._mismatch(module, name, "expected a table")
        if not value.matches(element, minimum, maximum):
            raise self._mismatch(module, name, "table type does not match")
        return value

    def global_(self, module: str, name: str, valtype: str, mutable: bool) -> Global:
        value = self._lookup(module, name)
        if not isinstance(value, Global):
            raise self._mismatch(module, name, "expected a global")
        if value.valtype != valtype or value.mutable != mutable:
            raise self._mismatch(module, name, "global type does not match")
        return value


class Instance:
    """An instantiated module. `exports` maps export name to object; names are attributes too."""

    def __init__(self, exports: dict):
        self.exports = ExportMap(exports)

    def __getattr__(self, name: str):
        try:
            return self.__dict__["exports"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self):
        return list(self.exports)

    def __repr__(self) -> str:
        return f"<Instance exports={list(self.exports)}>"


class ExportMap(Mapping):
    """A read-only mapping of export names that also allows attribute access."""

    def __init__(self, exports: dict):
        self._exports = exports

    def __getitem__(self, name: str):
        return self._exports[name]

    def __iter__(self):
        return iter(self._exports)

    def __len__(self) -> int:
        return len(self._exports)

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_exports"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"ExportMap({list(self._exports)})"
