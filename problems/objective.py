"""Deterministic test functions f: R^dim -> R evaluated for R runs at once: the shared bases.

``TestFunction`` is the public base: a subclass states its minimum, its standard start and
box, and writes ``value_and_grad(X)`` in plain NumPy (see its docstring). ``Objective`` is
the lower-level base it builds on, whose subclasses write into preallocated buffers
(``Quadratic``). The functions themselves (Rosenbrock, Beale, ...) are in
``optbench.problems.functions``.

``X`` has shape ``(R, dim)``, in any memory order. ``init_params`` returns it Fortran-ordered
(structure of arrays: each coordinate contiguous across runs), which makes the column-wise
formulas of 2-D functions contiguous passes; the gradient buffer copies the layout of ``X``.
"""

import inspect
import re

import numpy as np

from . import rng
from .base import (
    Problem,
    check_array,
    check_choice,
    check_dtype,
    check_float,
    check_int,
    jsonable,
)

STARTS = ("standard", "random")


def box_bounds(box, dim):
    """``(low, high)``, each (dim,): from one pair ``(low, high)`` shared by every coordinate,
    or from ``dim`` pairs, one per coordinate (``((-3, 3), (-2, 2))``)."""
    b = np.asarray(box, dtype=np.float64)
    if b.shape == (2,):
        b = np.tile(b, (dim, 1))
    if b.shape != (dim, 2):
        raise ValueError(
            f"box must be a pair (low, high) or {dim} pairs, one per coordinate; got {box!r}"
        )
    low, high = b[:, 0], b[:, 1]
    if not (np.isfinite(b).all() and (low < high).all()):
        raise ValueError(f"box must have finite bounds with low < high, got {box!r}")
    return low, high


class Objective(Problem):
    """A function with a known minimum ``f_star`` at ``x_star``; ``params == [X]``.

    Subclasses define ``box`` (the random-start box), ``_standard_start()`` and
    ``_value_and_grad(X, L, G)`` writing f into ``L`` (R,) and the gradient into ``G``.
    """

    box = (-5.0, 5.0)
    param_names = ("X",)

    def __init__(self, dim, start, dtype, config):
        """``config``: the subclass's constructor arguments (start and dtype are added);
        ``dim`` None: the subclass sets it later."""
        config = dict(config, start=check_choice("start", start, STARTS))
        config["dtype"] = check_dtype(dtype).name
        super().__init__(**config)
        if dim is not None:
            self.dim = int(dim)
        self.start = start
        self.dtype = check_dtype(dtype)
        self._buffers = {}

    def _label_args(self):
        config = self._config.items()
        args = {k: v for k, v in config if k not in _DEFAULT_LABEL or _DEFAULT_LABEL[k] != v}
        return ", ".join(f"{k}={v}" for k, v in args.items())

    def _standard_start(self):
        raise NotImplementedError

    def _value_and_grad(self, X, L, G):
        raise NotImplementedError

    def init_params(self, seeds):
        """``[X]`` with X (R, dim), Fortran order: the standard start, or uniform in ``box``."""
        seeds = self._reset(seeds)
        if self.start == "standard":
            X = np.tile(self._standard_start(), (len(seeds), 1))
        else:
            low, high = box_bounds(self.box, self.dim)
            X = low + (high - low) * rng.uniform(rng.run_keys(seeds, rng.STREAM_INIT), self.dim)
        return [np.asfortranarray(X, dtype=self.dtype)]

    def _check(self, params):
        if not isinstance(params, (list, tuple)) or len(params) != 1:
            raise ValueError("params must be a list [X] with X of shape (R, dim)")
        return check_array("X", params[0], (None, self.dim))

    def scratch(self, name, shape, like, order=None):
        """A cached buffer of ``shape``, dtype of ``like``, memory order ``order`` or like's."""
        if order is None:
            order = "F" if like.flags.f_contiguous and not like.flags.c_contiguous else "C"
        key = (name, shape, like.dtype, order)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty(shape, dtype=like.dtype, order=order)
        return buf

    def loss_and_grad(self, params):
        """(R,) losses and ``[G]``, G (R, dim) = grad f; both are buffers reused next call."""
        X = self._check(params)
        L = self.scratch("loss", X.shape[:1], X)
        G = self.scratch("grad", X.shape, X)
        self._value_and_grad(X, L, G)
        return L, [G]

    def evaluate(self, params):
        """{"loss": f(X)} in fresh arrays (the buffers of ``loss_and_grad`` stay untouched)."""
        X = self._check(params)
        L = np.empty(X.shape[0], dtype=X.dtype)
        self._value_and_grad(X, L, np.empty_like(X))
        return {"loss": L}


_DEFAULT_LABEL = {"start": "standard", "dtype": "float64"}  # left out of labels


class _Checked(type):
    """Metaclass of ``TestFunction``: a ``dim`` argument is checked before ``__init__`` runs;
    once it has returned, the instance is checked and the call's arguments become its
    ``config()``."""

    def __call__(cls, *args, **kwargs):
        try:
            bound = inspect.signature(cls).bind(*args, **kwargs)
        except TypeError:
            return super().__call__(*args, **kwargs)  # raises Python's own TypeError
        bound.apply_defaults()
        if "dim" in bound.arguments:
            bound.arguments["dim"] = check_int("dim", bound.arguments["dim"], 1)
        self = super().__call__(*bound.args, **bound.kwargs)
        self._finish(bound)
        return self

    @property
    def __signature__(cls):
        """The signature of ``__init__`` without ``self`` (the metaclass's ``__call__`` would
        otherwise hide it from ``inspect.signature(cls)``)."""
        sig = inspect.signature(cls.__init__)
        return sig.replace(parameters=list(sig.parameters.values())[1:])


class TestFunction(Objective, metaclass=_Checked):
    """The public base of test functions f: R^dim -> R, R runs at once; ``params == [X]``.

    A subclass sets, as class attributes (or in ``__init__``, after ``super().__init__``):

    ========== ===============================================================================
    ``dim``    the number of coordinates, an int (or set from a constructor argument ``dim``)
    ``x0``     the standard start: a scalar (every coordinate) or ``dim`` numbers
    ``box``    random starts are uniform in it: a pair ``(low, high)`` for every coordinate,
               or ``dim`` pairs, one per coordinate (``((-3, 3), (-2, 2))``); default (-5, 5)
    ``f_star`` the minimum value (None: unknown)
    ``x_star`` a minimizer: a scalar or ``dim`` numbers (None: unknown)
    ``name``   the name in ``label``; default: the class name in snake case
    ========== ===============================================================================

    and writes ``value_and_grad(X)``: for ``X`` of shape ``(R, dim)`` (one row per run, the
    problem's dtype, any memory order, not to be modified), return the values ``f`` of shape
    ``(R,)`` and the gradient ``G`` of shape ``(R, dim)``, new arrays, vectorized over rows:

    >>> import numpy as np
    >>> from optbench.problems import TestFunction
    >>> class Sphere(TestFunction):
    ...     '''f(x) = sum_i x_i^2, grad f = 2 x; f* = 0 at x* = 0.'''
    ...     f_star, x_star, x0 = 0.0, 0.0, 1.0
    ...
    ...     def __init__(self, dim=2, start="standard", dtype="float64"):
    ...         super().__init__(start, dtype)
    ...         self.dim = dim
    ...
    ...     def value_and_grad(self, X):
    ...         return np.sum(X * X, axis=1), 2.0 * X
    >>> p = Sphere(dim=3)
    >>> p.label, p.config()
    ('sphere(dim=3)', {'dim': 3, 'start': 'standard', 'dtype': 'float64'})
    >>> losses, [G] = p.loss_and_grad(p.init_params(seeds=[0, 1]))
    >>> losses, G[0]
    (array([3., 3.]), array([2., 2., 2.]))

    Constructor arguments are keyword arguments with defaults and JSON-able values (numbers,
    strings, booleans, None, lists); they are the problem's matrix arguments, read by the
    harness with ``inspect.signature(cls)``. ``config()`` returns the arguments of the call,
    defaults filled in, so that ``type(p)(**p.config())`` rebuilds ``p``: no config dict to
    pass. Keep ``start="standard" | "random"`` and ``dtype="float32" | "float64"`` and hand
    them to ``super().__init__``; a subclass without ``__init__`` has exactly these two. Check
    your own arguments with a ``ValueError`` naming the argument (``check_int`` and friends in
    ``optbench.problems.base``); the base checks ``dim``, ``x0``, ``box``, ``x_star`` and
    ``f_star`` once ``__init__`` returns (``ValueError``; ``TypeError`` without
    ``value_and_grad``).

    The base provides the rest of the problem interface (docs/contracts.md §2):
    ``init_params(seeds)``, ``loss_and_grad([X])`` and ``evaluate([X])`` (which call
    ``value_and_grad``), ``config()``, ``label``, ``steps_per_epoch == 1``, ``stochastic ==
    False``. Check a gradient with ``optbench.problems.check_gradient(p)``. The built-in
    functions override ``_value_and_grad(X, L, G)`` instead, which writes f into ``L`` (R,) and
    the gradient into ``G`` (R, dim), preallocated buffers: no allocation per step.
    """

    __test__ = False  # not a pytest test class, nor are its subclasses named Test...

    x0 = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__)
            cls.name = cls.name.lower()

    def __init__(self, start="standard", dtype="float64"):
        super().__init__(None, start, dtype, {})

    def value_and_grad(self, X):
        """``f`` (R,) and its gradient ``G`` (R, dim) at the rows of ``X`` (R, dim): new arrays."""
        X = check_array("X", X, (None, self.dim))
        L, G = np.empty(X.shape[0], dtype=X.dtype), np.empty_like(X)
        self._value_and_grad(X, L, G)
        return L, G

    def _value_and_grad(self, X, L, G):
        """``value_and_grad(X)`` copied into the buffers, after checking the shapes it returns."""
        f, g = self.value_and_grad(X)
        f, g = np.asarray(f), np.asarray(g)
        if f.shape != L.shape or g.shape != G.shape:
            raise ValueError(
                f"{type(self).__name__}.value_and_grad(X) must return f of shape {L.shape} and "
                f"G of shape {G.shape} for X of shape {X.shape}, got {f.shape} and {g.shape}"
            )
        np.copyto(L, f)
        np.copyto(G, g)

    def _standard_start(self):
        return self.x0

    def _finish(self, bound):
        """Check what the subclass set; record the call's arguments as ``config()``."""
        cls = type(self)
        if (
            cls.value_and_grad is TestFunction.value_and_grad
            and cls._value_and_grad is TestFunction._value_and_grad
        ):
            raise TypeError(f"{cls.__name__} must define value_and_grad(X)")
        if "_buffers" not in vars(self):
            raise TypeError(f"{cls.__name__}.__init__ must call super().__init__(start, dtype)")
        if self.dim == Problem.dim and "dim" not in vars(self):
            raise ValueError(f"{cls.__name__} must set dim: a class attribute or self.dim")
        self.dim = check_int("dim", self.dim, 1)
        if self.x0 is None:
            raise ValueError(f"{cls.__name__} must set x0, the standard start")
        self.x0 = _point(cls, "x0", self.x0, self.dim)
        self.x_star = None if self.x_star is None else _point(cls, "x_star", self.x_star, self.dim)
        self.f_star = None if self.f_star is None else check_float("f_star", self.f_star)
        box_bounds(self.box, self.dim)
        self._config = _arguments(bound)


def _point(cls, name, value, dim):
    """A scalar or ``dim`` finite numbers -> a new (dim,) float64 array."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        a = np.full(2, np.nan)  # not numbers: the error below
    if a.ndim > 1 or a.size not in (1, dim) or not np.isfinite(a).all():
        raise ValueError(
            f"{cls.__name__}.{name} must be a scalar or {dim} finite numbers, got {value!r}"
        )
    return np.broadcast_to(a, (dim,)).copy()


def _arguments(bound):
    """The bound constructor arguments (``**kwargs`` flattened) as a JSON-able dict."""
    config = {}
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                raise TypeError(f"problems take keyword arguments, got positional {value!r}")
        elif kind is inspect.Parameter.VAR_KEYWORD:
            config.update({k: jsonable(k, v) for k, v in value.items()})
        else:
            config[name] = jsonable(name, value)
    return config
