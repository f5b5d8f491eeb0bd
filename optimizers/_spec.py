"""What an ``Optimizer`` subclass declares, read and checked once, when the class is created.

:func:`build` collects the class's hyperparameters (declaration order, inherited ones first; a
plain value assigned to an inherited hyperparameter's name fixes it), its conventions, state and
scratch names and weight-decay mode, and raises ``TypeError`` naming the class and the faulty
declaration. The resulting :class:`Spec` binds and validates constructor arguments.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from . import _validation as check
from .hyperparameter import BOOL, CHOICE, REAL, TUPLE, Hyperparameter

WEIGHT_DECAY_MODES = ("l2", "decoupled", None)
#: Names the base uses for itself: not available as hyperparameter names.
RESERVED = frozenset({"params", "convention", "hparams", "R", "step_count"})
_POK = inspect.Parameter.POSITIONAL_OR_KEYWORD


@dataclass(frozen=True)
class Spec:
    """The declarations of one optimizer class."""

    hyper: dict[str, Hyperparameter]  # constructor arguments after params, but convention
    kinds: dict[str, str]  # name -> REAL, TUPLE, BOOL or CHOICE
    fixed: dict[str, object]  # inherited hyperparameters fixed by the class to a value
    conventions: dict[str, dict]  # convention -> preset values of options left at None
    signature: inspect.Signature  # (params, <hyperparameters, with convention>)
    state: tuple[str, ...]
    scratch: tuple[str, ...]
    weight_decay: str | None  # "l2", "decoupled", or None: the base applies none

    def resolve(self, arguments: dict) -> dict:
        """Bound arguments (without ``params``) -> validated values, in signature order."""
        preset: dict = {}
        if self.conventions:
            check.choice("convention", arguments["convention"], tuple(self.conventions))
            preset = self.conventions[arguments["convention"]]
        out = {}
        for name in list(self.signature.parameters)[1:]:
            value = arguments[name]
            if name == "convention":
                out[name] = value
                continue
            if value is None and name in preset:
                value = preset[name]
            out[name] = self.hyper[name].validate(value, self.kinds[name])
        return out

    def numeric(self, hparams: dict) -> dict:
        """The real-valued entries of ``hparams`` by name (tuples as ``name[i]``)."""
        out = {}
        for name, kind in self.kinds.items():
            if kind == REAL:
                out[name] = hparams[name]
            elif kind == TUPLE:
                out.update({f"{name}[{i}]": v for i, v in enumerate(hparams[name])})
        return out


def build(cls, base) -> Spec:
    """The :class:`Spec` of ``cls``, a subclass of ``base``; ``TypeError`` on a bad declaration."""
    where = cls.__qualname__
    if "__init__" in cls.__dict__ and not getattr(cls.__init__, "_generated", False):
        raise TypeError(
            f"{where} defines __init__: declare its hyperparameters as class attributes "
            "(lr = Hyperparameter(1e-3)) and put checks in validate(self, h)"
        )
    hyper, fixed = _collect(cls, base)
    reserved = RESERVED | set(dir(base))
    for name in hyper:
        if name in reserved:
            raise TypeError(f"{where}.{name}: the name is reserved by the base Optimizer")
    conventions = _conventions(where, getattr(cls, "conventions", {}), hyper)
    kinds = {name: _kind(where, hp, conventions) for name, hp in hyper.items()}
    for name, hp in hyper.items():
        if hp.default is not None:
            _check_value(where, f"the default of {name}", hp, hp.default, kinds[name])
        for conv, preset in conventions.items():
            if name in preset:
                label = f"conventions[{conv!r}][{name!r}]"
                _check_value(where, label, hp, preset[name], kinds[name])
    state = _names(where, "state", getattr(cls, "state", ()))
    scratch = _names(where, "scratch", getattr(cls, "scratch", ()))
    both = sorted(set(state) & set(scratch))
    if both:
        raise TypeError(
            f"{where}: {both[0]!r} is both a state name (state={state!r}) and a scratch name "
            f"(scratch={scratch!r}); s.{both[0]} must mean one array"
        )
    return Spec(
        hyper=hyper,
        kinds=kinds,
        fixed=fixed,
        conventions=conventions,
        signature=_signature(hyper, kinds, conventions),
        state=state,
        scratch=scratch,
        weight_decay=_weight_decay(where, getattr(cls, "weight_decay_mode", "l2"), hyper, fixed),
    )


def _collect(cls, base) -> tuple[dict[str, Hyperparameter], dict[str, object]]:
    hyper: dict[str, Hyperparameter] = {}
    fixed: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if not issubclass(klass, base) or klass is base:
            continue
        for name, value in vars(klass).items():
            if isinstance(value, Hyperparameter):
                hyper[name] = value  # a redeclaration keeps its place in the signature
                fixed.pop(name, None)
            elif name in hyper:  # a plain value fixes an inherited hyperparameter
                del hyper[name]
                fixed[name] = value
    return hyper, fixed


def _conventions(where: str, conventions, hyper: dict) -> dict[str, dict]:
    if not isinstance(conventions, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in conventions.items()
    ):
        raise TypeError(f"{where}.conventions must map names to dicts of preset values")
    for conv, preset in conventions.items():
        unknown = sorted(set(preset) - set(hyper))
        if unknown:
            raise TypeError(f"{where}.conventions[{conv!r}] presets {unknown}: not hyperparameters")
    for name, hp in hyper.items():
        missing = [c for c, p in conventions.items() if name not in p]
        if hp.default is None and (missing or not conventions):
            raise TypeError(
                f"{where}.{name} defaults to None, so every convention must preset it"
                + (f"; missing in {missing}" if conventions else "; there are no conventions")
            )
    return {k: dict(v) for k, v in conventions.items()}


def _kind(where: str, hp: Hyperparameter, conventions: dict) -> str:
    try:
        kind = hp.kind_of_default()
    except TypeError as exc:
        raise TypeError(f"{where}.{exc}") from None
    if kind is not None:
        return kind
    value = next(iter(conventions.values()))[hp.name]
    probe = Hyperparameter(value)
    probe.name = hp.name
    try:
        kind = probe.kind_of_default()
    except TypeError as exc:
        raise TypeError(f"{where}.conventions: {exc}") from None
    if kind == CHOICE and hp.choices is None:
        raise TypeError(f"{where}.{hp.name}: a string option needs choices=(...)")
    return kind


def _check_value(where: str, label: str, hp: Hyperparameter, value, kind: str) -> None:
    try:
        hp.validate(value, kind)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: {label} is invalid: {exc}") from None


def _names(where: str, what: str, names) -> tuple[str, ...]:
    if not isinstance(names, tuple | list) or not all(
        isinstance(n, str) and n.isidentifier() for n in names
    ):
        raise TypeError(f"{where}.{what} must be a tuple of names, got {names!r}")
    if len(set(names)) != len(names):
        raise TypeError(f"{where}.{what} repeats a name: {names!r}")
    return tuple(names)


def _weight_decay(where: str, mode, hyper: dict, fixed: dict) -> str | None:
    names = {*hyper, *fixed}
    if mode not in WEIGHT_DECAY_MODES:
        raise TypeError(f"{where}.weight_decay_mode must be one of {WEIGHT_DECAY_MODES}")
    if "weight_decay" not in names:
        return None
    if mode == "decoupled" and "lr" not in names:
        raise TypeError(f"{where}: decoupled weight decay w <- w (1 - lr wd) needs an lr")
    return mode


def _signature(hyper: dict, kinds: dict, conventions: dict) -> inspect.Signature:
    """``(params, <hyperparameters>)``, ``convention`` (if any) before the first option that
    the conventions preset, else last."""
    annotation = {BOOL: bool, CHOICE: str}
    parameters = []
    for name, hp in hyper.items():
        ann = annotation.get(kinds[name], inspect.Parameter.empty)
        if hp.default is None and ann is not inspect.Parameter.empty:
            ann = ann | None
        parameters.append(inspect.Parameter(name, _POK, default=hp.default, annotation=ann))
    if conventions:
        preset = {name for p in conventions.values() for name in p}
        at = next(
            (
                i
                for i, p in enumerate(parameters)
                if p.name in preset and kinds[p.name] in (BOOL, CHOICE)
            ),
            len(parameters),
        )
        default = next(iter(conventions))
        parameters.insert(
            at, inspect.Parameter("convention", _POK, default=default, annotation=str)
        )
    return inspect.Signature([inspect.Parameter("params", _POK), *parameters])


def make_init(cls, signature: inspect.Signature, base_init):
    """An ``__init__`` for ``cls`` whose signature is ``(self, *signature)`` (what
    ``inspect.signature(cls.__init__)`` shows), calling ``base_init``."""

    def __init__(self, params, *args, **kwargs):
        base_init(self, params, *args, **kwargs)

    self_param = inspect.Parameter("self", _POK)
    __init__.__signature__ = signature.replace(
        parameters=[self_param, *signature.parameters.values()]
    )
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.__doc__ = f"Validate and bind ``{cls.__name__}{signature}``."
    __init__._generated = True
    return __init__
