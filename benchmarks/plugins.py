"""A user's optimizer or problem class, named in the matrix, found and loaded anywhere.

A matrix names code in one of four ways (``[[optimizers]] name = ...``, ``[[problems]]`` alike):

==============================  ================================================================
``"adam"``                      optbench's own (``optbench.optimizers.REGISTRY``)
``"lion"``                      an installed entry point of the group ``optbench.optimizers``
                                (``optbench.problems`` for problems), as pytest finds plugins
``"path/to/lion.py:Lion"``      a class in a file; a relative path is relative to the folder
                                of the matrix file
``"mypackage.optim:Lion"``      a class in an importable module
==============================  ================================================================

:func:`resolve` imports the class once, in the planning process, and checks it before any run:
it must be a class, an optimizer must have ``step`` and a problem ``init_params``,
``loss_and_grad`` and ``evaluate``. Every failure is a :class:`PluginError` naming the
reference and the cause.

What the harness keeps of it is a :class:`Code`, plain data that pickles to any worker:

- ``identity`` enters the run id: the registry name for optbench's own code (which the
  optbench version keys), else ``"<file or module>:<Class>"`` beside ``sha256``, the hash of
  the module's source file, so that editing the code re-runs its runs. Moving the file does
  not (its folder is not part of the identity).
- ``target`` is how a worker imports it: the module name, or the file's absolute path. A
  worker that cannot read the file with the same hash (a remote Dask worker, say) imports the
  module from ``source``, the text the planning process read, compiled under the file's
  name, so tracebacks still point into it. Such a module may import installed packages,
  but not modules beside it: give those as an importable package instead.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import sys
import threading
import types
from dataclasses import dataclass, field
from pathlib import Path

GROUPS = {"optimizer": "optbench.optimizers", "problem": "optbench.problems"}
REQUIRED = {"optimizer": ("step",), "problem": ("init_params", "loss_and_grad", "evaluate")}


class PluginError(ValueError):
    """A reference that names no usable class (its message names the reference)."""


@dataclass(frozen=True)
class Code:
    """Where a class comes from; see the module docstring."""

    kind: str  # "optimizer" or "problem"
    ref: str  # as the matrix wrote it
    name: str  # short display name: the class's ``name`` attribute, or its class name
    identity: str  # what the run id hashes (with ``sha256``)
    target: str  # "optbench:<name>", "<module>:<qualname>" or "<absolute path>:<qualname>"
    sha256: str | None = None  # of the module's source file; None for optbench's own
    path: str | None = None  # the module's file
    per_run: bool = False  # an optimizer that is not an ``optbench.optimizers.Optimizer``
    source: str | None = field(default=None, repr=False, compare=False)

    @property
    def builtin(self) -> bool:
        return self.sha256 is None

    def load(self) -> type:
        """The class (imported once per process and source hash)."""
        return _load(self)


def resolve(kind: str, ref, base: Path | None = None) -> Code:
    """The :class:`Code` of ``ref`` (see the module docstring), checked; ``base``: the folder
    relative file paths start from (the matrix file's). Raises :class:`PluginError`."""
    registry = _registry(kind)
    if not isinstance(ref, str) or not ref.strip():
        raise PluginError(f"required, a string: one of {sorted(registry)} or 'file.py:Class'")
    if ref in registry:
        return Code(kind, ref, ref, ref, f"optbench:{ref}")
    entry = _entry_point(kind, ref)
    target = entry.value if entry is not None else ref
    module_part, colon, qualname = target.rpartition(":")
    if not colon or not module_part or not qualname:
        installed = [e.name for e in entry_points(kind)]
        raise PluginError(
            f"unknown {kind} {ref!r}; allowed: {sorted(registry)}, an installed "
            f"'{GROUPS[kind]}' entry point ({', '.join(installed) or 'none installed'}), "
            "'path/to/file.py:Class' (next to the matrix file) or 'package.module:Class'"
            + _hint(ref.rpartition(".")[0], ref.rpartition(".")[2], base)
        )
    try:
        if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
            code = _from_file(kind, ref, Path(module_part), qualname, base)
        else:
            try:
                code = _from_module(kind, ref, module_part, qualname)
            except PluginError as exc:
                raise PluginError(f"{exc}{_hint(module_part, qualname, base)}") from None
        _check_class(code)
    except PluginError as exc:
        if entry is None:
            raise
        raise PluginError(f"entry point {ref!r} = {entry.value!r} ({entry.group}): {exc}") from None
    return code


def entry_points(kind: str) -> list[importlib.metadata.EntryPoint]:
    """The installed entry points of ``kind``'s group, sorted by name."""
    found = importlib.metadata.entry_points(group=GROUPS[kind])
    return sorted(found, key=lambda e: e.name)


def display_names(codes: list[Code]) -> dict[str, str]:
    """``{ref: display name}``, unique: where two different classes share a name, each shows
    its reference instead (two references to one class, with one source, share its name)."""
    by_name: dict[str, set[tuple]] = {}
    for code in codes:
        by_name.setdefault(code.name, set()).add((code.identity, code.sha256))
    return {c.ref: c.name if len(by_name[c.name]) == 1 else c.ref for c in codes}


# --- internals -------------------------------------------------------------------------------


def _registry(kind: str) -> dict:
    if kind == "optimizer":
        from optbench.optimizers import REGISTRY
    else:
        from optbench.problems import REGISTRY
    return REGISTRY


def _entry_point(kind: str, ref: str):
    for entry in entry_points(kind):
        if entry.name == ref:
            return entry
    return None


def _hint(module: str, qualname: str, base: Path | None) -> str:
    """The hint "did you mean 'lion.py:Lion'?" when a file ``module.py`` lies next to the matrix."""
    if not module or not qualname:
        return ""
    file = Path(*module.split(".")).with_suffix(".py")
    if ((base or Path.cwd()) / file).is_file():
        return f"; did you mean '{file.as_posix()}:{qualname}' (a file next to the matrix)?"
    return ""


def _from_file(kind: str, ref: str, file: Path, qualname: str, base: Path | None) -> Code:
    path = file if file.is_absolute() else (base or Path.cwd()) / file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PluginError(f"cannot read {ref!r} ({path}): {exc.strerror}") from None
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PluginError(f"{ref!r}: {path} is not UTF-8 text") from None
    path = path.resolve()
    module, siblings = _exec_file(path, source, ref)
    code = Code(
        kind, ref, qualname.rpartition(".")[2], f"{path.name}:{qualname}", f"{path}:{qualname}",
        _digest(data, siblings), str(path), source=source + _listing(siblings),
    )  # fmt: skip
    with _LOCK:
        _LOADED[(code.target, code.sha256)] = _attribute(code, module, str(path), qualname)
    return _named(code)


def _digest(data: bytes, siblings: list[tuple[str, bytes]]) -> str:
    """The file's SHA-256; with modules it imported from its folder, of all of them."""
    h = hashlib.sha256(data)
    for rel, text in siblings:
        h.update(b"\0" + rel.encode() + b"\0" + text)
    return h.hexdigest()


def _listing(siblings: list[tuple[str, bytes]]) -> str:
    return "".join(
        f"\n# ---- {rel}, imported from the plugin's folder ----\n"
        + text.decode("utf-8", errors="replace")
        for rel, text in siblings
    )


def _from_module(kind: str, ref: str, module_name: str, qualname: str) -> Code:
    module = _import(ref, lambda: importlib.import_module(module_name))
    path = getattr(module, "__file__", None)
    if path is None:
        raise PluginError(f"{ref!r}: module {module_name!r} has no source file to hash")
    data = Path(path).read_bytes()
    code = Code(
        kind, ref, qualname.rpartition(".")[2], f"{module_name}:{qualname}",
        f"{module_name}:{qualname}", hashlib.sha256(data).hexdigest(), path,
        source=data.decode("utf-8", errors="replace"),
    )  # fmt: skip
    return _named(code)


def _named(code: Code) -> Code:
    """``code`` with its class's display name and, for optimizers, whether it runs per run."""
    from optbench.optimizers import Optimizer

    cls = code.load()
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.strip() or not inspect.isclass(cls):
        name = code.name
    per_run = code.kind == "optimizer" and not (inspect.isclass(cls) and issubclass(cls, Optimizer))
    return Code(
        code.kind, code.ref, " ".join(name.split())[:60], code.identity, code.target,
        code.sha256, code.path, per_run, code.source,
    )  # fmt: skip


def _check_class(code: Code) -> None:
    obj = code.load()
    if not inspect.isclass(obj):
        what = type(obj).__name__
        raise PluginError(f"{code.ref!r} names a {what}, not a class")
    missing = [m for m in REQUIRED[code.kind] if not callable(getattr(obj, m, None))]
    if code.kind == "optimizer" and not missing:
        from optbench.optimizers import Optimizer

        if issubclass(obj, Optimizer) and obj.update is Optimizer.update:
            raise PluginError(
                f"{code.ref!r}: class {obj.__name__} defines no update(self, w, g, s, h), the "
                "rule that an Optimizer subclass must write (help(optbench.optimizers.Optimizer))"
            )
    if missing:
        what = "method" if len(missing) == 1 else "methods"
        section = "1" if code.kind == "optimizer" else "2"
        raise PluginError(
            f"{code.ref!r}: class {obj.__name__} has no {what} {', '.join(missing)}; "
            f"{'an' if code.kind == 'optimizer' else 'a'} {code.kind} needs "
            f"{', '.join(REQUIRED[code.kind])} (docs/contracts.md "
            f"section {section})"
        )


_LOADED: dict[tuple, object] = {}
_LOCK = threading.Lock()


def _load(code: Code):
    if code.builtin:
        return _registry(code.kind)[code.target.partition(":")[2]]
    key = (code.target, code.sha256)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _import_target(code)
        return _LOADED[key]


def _import_target(code: Code):
    where, _, qualname = code.target.rpartition(":")
    if code.path is not None and where == code.path:
        module = _file_module(code)
    else:
        module = _import(code.ref, lambda: importlib.import_module(where))
        _same_source(code, Path(module.__file__).read_bytes())
    return _attribute(code, module, where, qualname)


def _attribute(code: Code, module, where: str, qualname: str):
    obj = module
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"{code.ref!r}: {where} defines no {qualname!r}") from None
    return obj


def _file_module(code: Code) -> types.ModuleType:
    """The module of a file plugin in a worker: from the file, checked against the planned
    hash (with its sibling modules), or from the shipped text when the file is not here."""
    path = Path(code.path)
    try:
        data = path.read_bytes()
    except OSError:
        data = None  # not on this worker: use the text the planning process read
    text = data.decode("utf-8") if data is not None else code.source
    module, siblings = _exec_file(path, text, code.ref)
    if data is not None:
        _same_source(code, data, siblings)
    return module


def _exec_file(path: Path, text: str, ref: str) -> tuple[types.ModuleType, list]:
    """Run a plugin file as a module named after its path and text. Its folder is on
    ``sys.path`` while it runs, so its top-level imports find modules beside it (not imports
    inside functions, run later). Returns the module and the sibling modules it imported,
    ``[(relative path, bytes)]``, which are part of its hash."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    name = f"optbench_plugin_{path.stem}_{digest[:12]}"
    folder = path.parent
    module = sys.modules.get(name)
    if module is not None and _unchanged(folder, module.__optbench_siblings__):
        return module, module.__optbench_siblings__
    added = folder.is_dir() and str(folder) not in sys.path
    if added:  # while it runs: its top-level imports may find modules beside it
        sys.path.insert(0, str(folder))
    for stale in [m for m, mod in list(sys.modules.items()) if _sibling_file(mod, folder)]:
        del sys.modules[stale]  # imported afresh below: what this plugin imports, we see
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # before running it: dataclasses and pickle look it up

    def run():
        exec(compile(text, str(path), "exec"), module.__dict__)

    try:
        _import(ref, run)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        if added:
            sys.path.remove(str(folder))
    siblings = _siblings(folder)
    module.__optbench_siblings__ = siblings
    return module, siblings


def _unchanged(folder: Path, siblings: list[tuple[str, bytes]]) -> bool:
    try:
        return all((folder / rel).read_bytes() == text for rel, text in siblings)
    except OSError:
        return False


def _siblings(folder: Path) -> list[tuple[str, bytes]]:
    found = {}
    for mod in list(sys.modules.values()):
        file = _sibling_file(mod, folder)
        if file is not None:
            found[file.relative_to(folder).as_posix()] = file.read_bytes()
    return sorted(found.items())


def _sibling_file(module, folder: Path) -> Path | None:
    """The file of ``module`` if it was imported from ``folder`` as a top-level module or
    package of it (not optbench, not a plugin, not something below a venv in it)."""
    name = getattr(module, "__name__", "") or ""
    file = getattr(module, "__file__", None)
    if not file or name.startswith("optbench"):
        return None
    try:
        rel = Path(file).resolve().relative_to(folder)
    except (ValueError, OSError):
        return None
    return Path(file).resolve() if Path(rel.parts[0]).stem == name.split(".")[0] else None


def _same_source(code: Code, data: bytes, siblings: list | None = None) -> None:
    if code.sha256 is not None and _digest(data, siblings or []) != code.sha256:
        raise PluginError(
            f"{code.ref!r}: {code.path} (or a module beside it that it imports) changed since "
            "the matrix was planned; run again"
        )


def _import(ref: str, action):
    """Run ``action`` (an import); any exception becomes a PluginError naming ``ref``, with the
    line of the user's file that raised."""
    try:
        return action()
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"cannot import {ref!r}: {describe_error(exc)}") from exc


def describe_error(exc: BaseException) -> str:
    """``"lion.py, line 12: ZeroDivisionError: division by zero"``: an exception raised in a
    user's code, with the innermost line of theirs."""
    return f"{_where(exc)}{type(exc).__name__}: {exc}"


def _where(exc: BaseException) -> str:
    """``"file.py, line 3: "`` of the innermost frame outside optbench and importlib."""
    import traceback

    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in f.filename and not f.filename.startswith(_OWN)
    ]
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{Path(exc.filename).name}, line {exc.lineno}: "
    if not frames:
        return ""
    return f"{Path(frames[-1].filename).name}, line {frames[-1].lineno}: "


_ROOT = Path(__file__).resolve().parent.parent
_OWN = (
    *(str(_ROOT / part) for part in ("optimizers", "problems", "benchmarks", "reports")),
    str(Path(importlib.util.find_spec("numpy").origin).parent),
)  # optbench's own code and NumPy's (docs/examples, in the same checkout, is a user's)
