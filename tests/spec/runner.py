"""Replay a converted `.wast` script against wasm2py and count each command's outcome.

wasm2py is used only through its public contract: `wasm2py.translate(bytes, name=...)` gives module
source, which is exec'd into a fresh module whose `instantiate(imports)` gives an instance with
`exports`. Every command passes, fails (with a message) or is skipped; nothing escapes as a crash.
"""

from __future__ import annotations

import linecache
import time
import traceback
import types
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import wasm2py_runtime as rt

import wasm2py

from . import wast
from .values import check_results, describe_all, parse_arg

Command = dict[str, Any]

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
TEXT_MODULE_SKIP = "assert_malformed on a text-format module (out of scope: wasm2py reads binaries)"


class CommandFailed(Exception):
    """A command's expectation was not met; the message says how."""


class Skip(Exception):
    """A command this runner does not check; the message says why."""


@dataclass(frozen=True)
class Failure:
    line: int
    command: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.command}: {self.message}"


@dataclass
class FileResult:
    """The outcome of one script: counts per command type, the failures, and why things were skipped."""

    path: Path
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def record(self, command: str, outcome: str) -> None:
        self.counts.setdefault(command, Counter())[outcome] += 1

    def fail(self, line: int, command: str, message: str) -> None:
        self.record(command, FAILED)
        self.failures.append(Failure(line, command, message))

    def skip(self, command: str, reason: str) -> None:
        self.record(command, SKIPPED)
        self.skip_reasons[reason] += 1

    def total(self, outcome: str) -> int:
        return sum(counter[outcome] for counter in self.counts.values())

    @property
    def passed(self) -> int:
        return self.total(PASSED)

    @property
    def failed(self) -> int:
        return self.total(FAILED)

    @property
    def skipped(self) -> int:
        return self.total(SKIPPED)


@dataclass(frozen=True)
class BrokenModule:
    """Stands in for a module whose `module` command failed, so later commands fail with a reason."""

    line: int
    reason: str


Instance = Any  # whatever the generated module's instantiate() returns


def run_file(path: Path, *, flat: bool | None = None) -> FileResult:
    """Convert (or load from the cache) and run one script; any error is a counted failure.

    `flat` is passed to wasm2py.translate: True lowers every function with the flat control
    flow strategy, so the suite checks both strategies.
    """
    result = FileResult(path=path)
    start = time.perf_counter()
    try:
        script = wast.load(path)
    except Exception as error:
        result.fail(0, "convert", describe_exception(error))
    else:
        ScriptRunner(script, result, flat).run()
    result.seconds = time.perf_counter() - start
    return result


class ScriptRunner:
    """Executes one script's commands in order, holding its instances and registrations."""

    def __init__(self, script: wast.Script, result: FileResult, flat: bool | None = None):
        self.script = script
        self.result = result
        self.flat = flat
        self.current: Instance | BrokenModule | None = None
        self.named: dict[str, Instance | BrokenModule] = {}
        self.registered: dict[str, Any] = {}
        self._spectest: dict[str, object] | None = None
        self._sources: list[str] = []  # linecache keys of loaded modules, dropped at the end
        self.handlers: dict[str, Callable[[Command], None]] = {
            "module": self.do_module,
            "register": self.do_register,
            "action": self.do_action,
            "assert_return": self.do_assert_return,
            "assert_trap": self.do_assert_trap,
            "assert_exhaustion": self.do_assert_exhaustion,
            "assert_invalid": self.do_assert_invalid,
            "assert_malformed": self.do_assert_malformed,
            "assert_unlinkable": self.do_assert_unlinkable,
            "assert_uninstantiable": self.do_assert_uninstantiable,
        }

    def run(self) -> None:
        try:
            for command in self.script.commands:
                self.run_command(command)
        finally:
            for filename in self._sources:
                linecache.cache.pop(filename, None)

    def run_command(self, command: Command) -> None:
        kind, line = command.get("type", "?"), command.get("line", 0)
        handler = self.handlers.get(kind)
        try:
            if handler is None:
                raise CommandFailed(f"unknown command type {kind!r}")
            handler(command)
        except Skip as skip:
            self.result.skip(kind, str(skip))
        except CommandFailed as failure:
            self.result.fail(line, kind, str(failure))
        except Exception as error:
            self.result.fail(line, kind, "raised " + describe_exception(error))
        else:
            self.result.record(kind, PASSED)

    # ---- modules --------------------------------------------------------------------------

    def do_module(self, command: Command) -> None:
        try:
            instance = self.load(command).instantiate(self.imports())
        except Exception as error:
            broken = BrokenModule(command.get("line", 0), describe_exception(error))
            self._set_current(command, broken)
            raise CommandFailed(broken.reason) from error
        self._set_current(command, instance)

    def _set_current(self, command: Command, instance: Instance | BrokenModule) -> None:
        self.current = instance
        if command.get("name"):
            self.named[command["name"]] = instance

    def do_register(self, command: Command) -> None:
        instance = self.target(command.get("name"))
        self.registered[command["as"]] = instance.exports

    def translate(self, command: Command) -> str:
        filename = command.get("binary_filename") or command["filename"]
        if not filename.endswith(".wasm"):
            raise Skip(f"{command['type']} on a text-format module that did not convert to binary")
        data = self.script.module_bytes(filename)
        return wasm2py.translate(data, name=Path(filename).stem, flat=self.flat)

    def load(self, command: Command) -> types.ModuleType:
        """Translate a command's module and exec the source into a fresh Python module."""
        filename = command.get("binary_filename") or command["filename"]
        name = Path(filename).stem
        source = self.translate(command)
        self._sources.append(f"<{name}>")
        return load_source(source, name)

    def imports(self) -> dict[str, Any]:
        if self._spectest is None:
            self._spectest = make_spectest()
        return {"spectest": self._spectest, **self.registered}

    def target(self, name: str | None) -> Instance:
        """The instance an action or register names, or the latest module; fails if it is broken."""
        instance = self.named.get(name) if name else self.current
        if instance is None:
            raise CommandFailed(f"no module named {name!r}" if name else "no module defined yet")
        if isinstance(instance, BrokenModule):
            raise CommandFailed(
                f"module from line {instance.line} is unavailable: {instance.reason}"
            )
        return instance

    # ---- actions --------------------------------------------------------------------------

    def perform(self, action: Command) -> object:
        """Invoke an exported function or read an exported global."""
        exports = self.target(action.get("module")).exports
        name = action["field"]
        if name not in exports:
            raise CommandFailed(f"no export named {name!r}")
        if action["type"] == "invoke":
            return exports[name](*(parse_arg(arg) for arg in action.get("args", ())))
        if action["type"] == "get":
            return exports[name].value
        raise CommandFailed(f"unknown action type {action['type']!r}")

    def do_action(self, command: Command) -> None:
        self.perform(command["action"])

    def do_assert_return(self, command: Command) -> None:
        action = command["action"]
        try:
            actual = self.perform(action)
        except rt.Trap as trap:
            raise CommandFailed(
                f"{describe_action(action)} trapped ({trap.message!r}), "
                f"expected {describe_all(command['expected']) or 'no result'}"
            ) from trap
        problem = check_results(command["expected"], actual)
        if problem is not None:
            raise CommandFailed(f"{describe_action(action)}: {problem}")

    def do_assert_trap(self, command: Command) -> None:
        if "action" not in command:  # (assert_trap (module ...)) is a trap during instantiation
            self.do_assert_uninstantiable(command)
            return
        action, expected = command["action"], command["text"]
        try:
            actual = self.perform(action)
        except rt.Trap as trap:
            if not trap.message.startswith(expected):
                raise CommandFailed(
                    f"{describe_action(action)} trapped with {trap.message!r}, expected {expected!r}"
                ) from trap
            return
        raise CommandFailed(
            f"{describe_action(action)} returned {actual!r}, expected trap {expected!r}"
        )

    def do_assert_exhaustion(self, command: Command) -> None:
        action = command["action"]
        try:
            actual = self.perform(action)
        except rt.StackExhausted:
            return
        except rt.Trap as trap:
            raise CommandFailed(
                f"{describe_action(action)} trapped with {trap.message!r}, expected StackExhausted"
            ) from trap
        raise CommandFailed(
            f"{describe_action(action)} returned {actual!r}, expected StackExhausted"
        )

    # ---- module assertions ----------------------------------------------------------------

    def do_assert_invalid(self, command: Command) -> None:
        self.expect_translate_error(command, wasm2py.ValidationError)

    def do_assert_malformed(self, command: Command) -> None:
        if command.get("module_type") == "text":
            raise Skip(TEXT_MODULE_SKIP)
        self.expect_translate_error(command, wasm2py.DecodeError)

    def expect_translate_error(self, command: Command, expected: type[wasm2py.WasmError]) -> None:
        text = command.get("text", "")
        try:
            self.translate(command)
        except expected:
            return
        except wasm2py.WasmError as error:
            raise CommandFailed(
                f"expected {expected.__name__} ({text!r}), got {describe_exception(error)}"
            ) from error
        raise CommandFailed(f"translated without error, expected {expected.__name__} ({text!r})")

    def do_assert_unlinkable(self, command: Command) -> None:
        module, text = self.load(command), command.get("text", "")
        try:
            module.instantiate(self.imports())
        except rt.LinkError:
            return
        raise CommandFailed(f"instantiated without error, expected LinkError ({text!r})")

    def do_assert_uninstantiable(self, command: Command) -> None:
        module, text = self.load(command), command.get("text", "")
        try:
            module.instantiate(self.imports())
        except rt.LinkError as error:  # checked first in case LinkError derives from Trap
            raise CommandFailed(f"expected Trap ({text!r}), got LinkError: {error}") from error
        except rt.Trap as trap:
            if not trap.message.startswith(text):
                raise CommandFailed(f"trapped with {trap.message!r}, expected {text!r}") from trap
            return
        raise CommandFailed(f"instantiated without error, expected Trap ({text!r})")


def load_source(source: str, name: str) -> types.ModuleType:
    """Exec generated source into a fresh module; the source goes to linecache for tracebacks."""
    filename = f"<{name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(name)
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


def make_spectest() -> dict[str, object]:
    """The spec's `spectest` host module, fresh for each script."""

    def ignore(*args: object) -> None:
        return None

    functions = ["print", "print_i32", "print_i64", "print_f32", "print_f64"]
    functions += ["print_i32_f32", "print_f64_f64"]
    spectest: dict[str, object] = dict.fromkeys(functions, ignore)
    spectest.update(
        global_i32=rt.Global("i32", 666),
        global_i64=rt.Global("i64", 666),
        global_f32=rt.Global("f32", rt.f32_from_bits(0x4426A666)),  # 666.6 rounded to f32
        global_f64=rt.Global("f64", 666.6),
        table=rt.Table("funcref", 10, 20),
        memory=rt.Memory(1, 2),
    )
    return spectest


def describe_action(action: Command) -> str:
    """`add(1, 2)` or `get g`, with the module name when the action names one."""
    where = f"{action['module']}." if action.get("module") else ""
    if action["type"] == "get":
        return f"get {where}{action['field']}"
    args = ", ".join(f"{a.get('value', '')}" for a in action.get("args", ()))
    return f"{where}{action['field']}({args})"


def describe_exception(error: BaseException) -> str:
    """`Type: message [at file:line in function]`, naming the innermost frame."""
    text = f"{type(error).__name__}: {error}"
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        frame = frames[-1]
        text += f" [at {Path(frame.filename).name}:{frame.lineno} in {frame.name}"
        text += f": {frame.line.strip()}]" if frame.line else "]"
    return text


def format_result(result: FileResult, max_failures: int = 5, width: int = 300) -> str:
    """A file's counts per command type, skip reasons and its first failures, one per line."""
    lines = [
        f"{result.path.name}: {result.passed} passed, {result.failed} failed, "
        f"{result.skipped} skipped ({result.seconds:.1f}s)"
    ]
    lines.append("    " + format_counts(result.counts))
    for reason, count in result.skip_reasons.items():
        lines.append(f"    skipped {count}: {reason}")
    for failure in result.failures[:max_failures]:
        text = str(failure)
        lines.append("    FAIL " + (text if len(text) <= width else text[: width - 3] + "..."))
    if len(result.failures) > max_failures:
        lines.append(f"    ... and {len(result.failures) - max_failures} more failures")
    return "\n".join(lines)


def format_counts(counts: dict[str, Counter[str]]) -> str:
    """`assert_return 374/0/0  module 1/0/0` (passed/failed/skipped), in a stable order."""
    return "  ".join(
        f"{kind} {c[PASSED]}/{c[FAILED]}/{c[SKIPPED]}" for kind, c in sorted(counts.items())
    )
