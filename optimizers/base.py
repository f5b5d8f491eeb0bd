"""``Optimizer``, the public base class of every optimizer of optbench (and of yours)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import ClassVar

import numpy as np

from . import _spec as spec_
from . import _validation as check
from ._engine import Engine


class Optimizer:
    r"""Base class of the optimizers: a subclass declares its hyperparameters, state and scratch
    arrays, and writes its update rule in plain NumPy; the base does everything else.

    Example, signSGD with momentum (m <- beta m + (1 - beta) g;  w <- w - lr sign(m))::

        >>> import inspect
        >>> import numpy as np
        >>> from optbench.optimizers import Hyperparameter, Optimizer
        >>> class Signum(Optimizer):
        ...     '''w <- w - lr sign(m),  m <- beta m + (1 - beta) g.'''
        ...     lr = Hyperparameter(0.01)
        ...     beta = Hyperparameter(0.9, hi=1)         # in [0, 1)
        ...     state = ("m",)                           # zeros like each parameter
        ...     scratch = ("u",)                         # one block of working memory
        ...
        ...     def static_coefficients(self, h):        # once, in float64
        ...         return {"one_minus_beta": 1 - h.beta}
        ...
        ...     def update(self, w, g, s, h):            # one block, in place
        ...         s.m *= h.beta
        ...         s.m += np.multiply(g, h.one_minus_beta, out=s.u)
        ...         w -= np.multiply(np.sign(s.m, out=s.u), h.lr, out=s.u)
        >>> inspect.signature(Signum)
        <Signature (params, lr=0.01, beta=0.9)>
        >>> w = np.array([1.0, -2.0])
        >>> opt = Signum([w], lr=0.5)
        >>> opt.step([np.array([3.0, -0.5])]); w
        array([ 0.5, -1.5])
        >>> W = np.ones((3, 2))                          # three runs, one lr each
        >>> Signum([W], lr=np.array([0.1, 0.2, 0.3])).step([np.ones((3, 2))]); W
        array([[0.9, 0.9],
               [0.8, 0.8],
               [0.7, 0.7]])

    **Declarations** (class attributes):

    - hyperparameters, ``name = Hyperparameter(default, lo, hi, ...)``, in signature order
      (see :class:`Hyperparameter`): real numbers (scalars or ``(R,)`` arrays, one value per
      run), tuples of them (``betas``), bools and strings (one value per batch). Assigning a
      plain value to an inherited hyperparameter's name fixes it (``nesterov = True``);
    - ``state``: names of arrays shaped like each parameter (zeros unless ``initial_state``
      says otherwise), kept across steps; ``opt.state[i][name]`` on an instance;
    - ``scratch``: names of working arrays as large as a block, one set per thread;
    - ``weight_decay_mode``: with a ``weight_decay`` hyperparameter, the base applies it
      before ``update``: ``"l2"`` (default, ``g <- g + wd * w`` in a buffer of its own, as
      ``torch.optim``'s ``weight_decay``), ``"decoupled"`` (``w <- w (1 - lr wd)``, as
      ``torch.optim.AdamW``) or ``None`` (the rule applies it itself); nothing at all when
      ``weight_decay`` is a scalar 0;
    - ``maximize = Hyperparameter(False)`` (optional, torch's flag): when True, the base
      negates the gradient before anything else (weight decay, ``update``), into a buffer of
      its own: gradient ascent on f, the same bits as descent on -f; nothing when False;
    - ``name`` (optional, a string): the short name the benchmark's store and report show for
      the class (default: the class name);
    - ``conventions`` (optional): ``{"torch": {option: value, ...}, "seed": {...}}``. The class
      then takes ``convention=`` (default: the first), and hyperparameters left at ``None``
      take the chosen preset's value. ``CONVENTIONS`` lists the names (empty without).

    **Hooks** (methods; ``h`` is a namespace of the float64 values: hyperparameters as Python
    floats or read-only ``(R,)`` arrays, tuples, options, ``convention``; each hook also sees
    what the hooks before it returned):

    - ``validate(self, h)``: checks across hyperparameters; raise ``ValueError`` naming them;
    - ``initial_state(self, h) -> {name: value}``: the state arrays this instance has, and
      their initial value (a float or an ``(R,)`` array); default: every ``state``, zeros;
    - ``static_coefficients(self, h) -> dict``: values computed once (``1 - beta``);
    - ``step_coefficients(self, t, h) -> dict``: values of step ``t = 1, 2, ...`` (bias
      corrections: use :func:`bias_correction`, which gives an ``(R,)`` sweep the bits of
      separate runs), the same names every step;
    - ``update(self, w, g, s, h)``: the rule, on one block (required).

    **What update receives.** ``w``: a block of a parameter, to update in place. ``g``: the
    gradient of that block (after L2 weight decay); read-only, never write into it. ``s.<name>``:
    the block's state arrays (update in place; they persist) and scratch arrays (which hold
    garbage from earlier calls: overwrite before reading). ``h.<name>``: hyperparameters and
    coefficients cast to the parameter's dtype and shaped to broadcast along the block's runs:
    a 0-d array, a ``(k, 1)`` column (a block of k runs), or ``(R, 1, ..., 1)`` (a parameter
    updated whole); bools and strings as they are. Use ``out=`` and in-place operators: a step
    should allocate nothing of a parameter's size.

    **What the base does.** Binds arguments to the declared signature (positional in declaration
    order, ``TypeError`` naming an unknown keyword); validates every value at construction
    (``ValueError`` naming the parameter and its range, ``(R,)`` lengths against the parameters'
    leading axis); creates state and scratch once; runs ``update`` over cache-sized blocks in
    threads (or whole, for arrays that are not C-contiguous: the same bits); applies weight
    decay; counts steps; ``state_dict`` / ``load_state_dict``; ``repr``.

    **Learning-rate schedules.** ``lr`` may be a callable of the step number t = 1, 2, ...
    returning the lr of the t-th update (a float or an ``(R,)`` array; the built-ins are in
    :mod:`optbench.optimizers.schedules`). Each step the base then evaluates it, checks it
    (``ValueError`` naming the step and the value if negative or not finite), and recomputes
    ``static_coefficients`` from it (and the decoupled decay ``1 - lr wd``) before
    ``step_coefficients``: ``h.lr`` and whatever a rule derives from it are step t's values,
    where torch reads ``group["lr"]`` set by a scheduler. A hook needs no change for this; with
    a float lr nothing is recomputed. ``hparams["lr"]`` is the schedule itself.
    """

    CONVENTIONS: ClassVar[tuple[str, ...]] = ()
    conventions: ClassVar[dict[str, dict]] = {}
    state: ClassVar[tuple[str, ...]] = ()
    scratch: ClassVar[tuple[str, ...]] = ()
    weight_decay_mode: ClassVar[str | None] = "l2"
    _spec: ClassVar[spec_.Spec | None] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        spec = spec_.build(cls, Optimizer)
        cls._spec = spec
        cls.CONVENTIONS = tuple(spec.conventions)
        cls.__signature__ = spec.signature
        cls.__init__ = spec_.make_init(cls, spec.signature, Optimizer.__init__)

    def __init__(self, params, *args, **kwargs):
        spec = type(self)._spec
        if spec is None:
            raise TypeError("Optimizer is a base class: subclass it with an update rule")
        try:
            bound = spec.signature.bind(params, *args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{type(self).__name__}(): {exc}") from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["params"]
        self._schedule = None
        if callable(arguments.get("lr")) and "lr" in spec.hyper:  # lr(t), step t = 1, 2, ...
            self._schedule = arguments["lr"]
            arguments["lr"] = check.scheduled_lr(self._schedule, 1, None)
        self.hparams: dict = spec.resolve(arguments)
        numeric = spec.numeric(self.hparams)
        self.R: int | None = check.runs(numeric)
        h = SimpleNamespace(**self.hparams, **spec.fixed)
        self._values = dict(vars(h))  # hyperparameters before coefficients: lr(t) replaces lr
        if self._schedule is not None:
            self.hparams["lr"] = self._schedule
        self.validate(h)
        self.params: list[np.ndarray] = check.params(params, self.R, numeric)
        self.step_count = 0
        self._extend(h, self.static_coefficients(h), "static_coefficients")
        self._h = h
        self._step_names: frozenset | None = None
        self.state: list[dict[str, np.ndarray]] = [
            self._new_state(p, self._initial_state(h)) for p in self.params
        ]
        decay, value = self._weight_decay(h, spec.weight_decay)
        self._engine = Engine(
            self.update,
            self.params,
            self.state,
            vars(h),
            spec.scratch,
            decay,
            value,
            self.R,
            maximize=getattr(h, "maximize", False) is True,
        )

    # -- hooks (override) --------------------------------------------------------------------
    def validate(self, h) -> None:
        """Checks across hyperparameters; raise ``ValueError`` naming them."""

    def initial_state(self, h) -> dict:
        """State name -> initial value (float or ``(R,)`` array); default: all, zeros."""
        return dict.fromkeys(type(self)._spec.state, 0.0)

    def static_coefficients(self, h) -> dict:
        """Float64 values computed once from the hyperparameters ``h``."""
        return {}

    def step_coefficients(self, t: int, h) -> dict:
        """Float64 values of step ``t`` (1, 2, ...), the same names every step."""
        return {}

    def update(self, w, g, s, h) -> None:
        """Update the block ``w`` in place from its gradient ``g``; see the class docstring."""
        raise NotImplementedError(f"{type(self).__name__} must define update(self, w, g, s, h)")

    # -- the step ------------------------------------------------------------------------------
    def step(self, grads) -> None:
        """One update of every parameter in place, from ``grads`` (read during the call only)."""
        grads = check.grads(grads, self.params)
        self.step_count += 1
        t, h = self.step_count, self._h
        if self._schedule is not None:
            h, lr_values = self._scheduled(t)
        per_step = self.step_coefficients(t, h)
        if per_step.keys() != self._step_names:
            self._check_step_names(per_step)
        if self._schedule is not None:
            per_step = {**lr_values, **per_step}
        self._engine.run(grads, per_step)

    def _scheduled(self, t: int) -> tuple[SimpleNamespace, dict]:
        """Step ``t``'s namespace with ``lr = schedule(t)``, and the values it changes: lr and
        every static coefficient (recomputed from it), as torch reads ``group["lr"]`` set by a
        scheduler before ``step()``; the decoupled decay ``1 - lr wd`` too."""
        lr = check.scheduled_lr(self._schedule, t, self.R)
        h = SimpleNamespace(**{**self._values, "lr": lr})
        static = self.static_coefficients(h)
        vars(h).update(static)
        decay, value = self._weight_decay(h, type(self)._spec.weight_decay)
        if decay == "decoupled":
            self._engine.set_decay_value(value)
        return h, {"lr": lr, **static}

    # -- construction helpers ------------------------------------------------------------------
    def _extend(self, h, values: dict, hook: str) -> None:
        """Add a hook's values to ``h``, refusing names ``h`` already has."""
        taken = sorted(set(values) & set(vars(h)))
        if taken:
            raise TypeError(
                f"{type(self).__name__}.{hook} returned {taken}: names h already has "
                f"({', '.join(vars(h))})"
            )
        vars(h).update(values)

    def _check_step_names(self, per_step: dict) -> None:
        if self._step_names is None:
            self._extend(SimpleNamespace(**vars(self._h)), per_step, "step_coefficients")
            self._step_names = frozenset(per_step)
            return
        raise TypeError(
            f"{type(self).__name__}.step_coefficients returned {sorted(per_step)} at step "
            f"{self.step_count}, but {sorted(self._step_names)} before: the same names every step"
        )

    def _initial_state(self, h) -> dict:
        declared = type(self)._spec.state
        initial = self.initial_state(h)
        unknown = sorted(set(initial) - set(declared))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.initial_state returned {unknown}, not declared in "
                f"state={declared!r}"
            )
        for name, value in initial.items():
            if isinstance(value, np.ndarray) and value.ndim and value.shape != (self.R,):
                raise ValueError(
                    f"the initial value of state {name!r} must be a scalar or an (R,) array with "
                    f"R={self.R}, got shape {value.shape}"
                )
        return {name: initial[name] for name in declared if name in initial}

    @staticmethod
    def _new_state(p: np.ndarray, initial: dict) -> dict[str, np.ndarray]:
        state = {}
        for name, value in initial.items():
            arr = np.empty_like(p)  # the parameter's memory order (F-ordered (R, d) too)
            if isinstance(value, np.ndarray) and value.ndim:
                value = value.reshape(value.shape + (1,) * (p.ndim - 1))
            arr[...] = value
            state[name] = arr
        return state

    @staticmethod
    def _weight_decay(h, mode: str | None) -> tuple[str | None, object]:
        """The decay the base applies (None when off) and its float64 coefficient."""
        if mode is None:
            return None, None
        wd = h.weight_decay
        if not isinstance(wd, np.ndarray) and wd == 0:
            return None, None
        return mode, (wd if mode == "l2" else 1.0 - h.lr * wd)

    # -- state -----------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"step": int, "state": [{name: array}, ...], "hparams": {...}}``.

        Arrays are copies; loading the dict into an optimizer built with the same arguments
        on the same parameter values continues the exact same sequence of iterates.
        """
        return {
            "step": self.step_count,
            "state": [{k: v.copy() for k, v in st.items()} for st in self.state],
            "hparams": {k: _copy(v) for k, v in self.hparams.items()},
        }

    def load_state_dict(self, d: dict) -> None:
        """Copy the step count and state arrays of ``d`` into this optimizer's buffers.

        Hyperparameters are not loaded: they stay those given at construction (``d`` carries
        them under ``"hparams"`` for the record).
        Raises ``ValueError`` if the state does not fit, before changing anything.
        """
        if not isinstance(d, dict) or "step" not in d or "state" not in d:
            raise ValueError("state dict must have keys 'step' and 'state'")
        step, states = d["step"], d["state"]
        if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
            raise ValueError(f"state dict 'step' must be an int >= 0, got {step!r}")
        if len(states) != len(self.state):
            raise ValueError(f"state dict holds {len(states)} states, expected {len(self.state)}")
        for i, (mine, theirs) in enumerate(zip(self.state, states, strict=True)):
            if set(mine) != set(theirs):
                raise ValueError(f"state[{i}] must have keys {sorted(mine)}, got {sorted(theirs)}")
            for k, v in mine.items():
                t = np.asarray(theirs[k])
                if t.shape != v.shape or t.dtype != v.dtype:
                    raise ValueError(
                        f"state[{i}][{k!r}] must have shape {v.shape} and dtype {v.dtype}, "
                        f"got {t.shape} {t.dtype}"
                    )
        for mine, theirs in zip(self.state, states, strict=True):
            for k, v in mine.items():
                np.copyto(v, theirs[k])
        self.step_count = int(step)

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        shapes = ", ".join(str(p.shape) for p in self.params)
        return f"{type(self).__name__}([{shapes}], {hp})"


def _copy(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, tuple):
        return tuple(_copy(x) for x in v)
    return v
