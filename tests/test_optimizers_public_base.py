"""The public base for writing an optimizer: declarations, binding, errors, weight decay,
state_dict, blocks and threads, as a user's subclass sees them."""

import inspect
import threading
from typing import ClassVar

import numpy as np
import pytest

from optbench import optimizers
from optbench.optimizers import REGISTRY, Hyperparameter, Momentum, Optimizer, _blocks


class Plain(Optimizer):
    """w <- w - lr g, with the base's L2 weight decay (a test subject)."""

    lr = Hyperparameter(0.1)
    weight_decay = Hyperparameter(0.0)
    scratch = ("u",)

    def update(self, w, g, s, h):
        w -= np.multiply(g, h.lr, out=s.u)


class PlainDecoupled(Plain):
    weight_decay_mode = "decoupled"


class Heavy(Optimizer):
    """A bit of everything: pair, option, string option, conventions, both coefficient hooks.

    v <- beta v + c g (c = 1 - beta if ema else 1), at t = 1 v <- g if init == "grad";
    w <- w - lr v / (1 - betas[1]^t if corrected)
    """

    lr = Hyperparameter(0.1)
    betas = Hyperparameter((0.5, 0.9), hi=1)
    ema = Hyperparameter(None)
    init = Hyperparameter("zeros", choices=("zeros", "grad"))
    corrected = Hyperparameter(False)
    conventions: ClassVar[dict] = {"plain": {"ema": False}, "average": {"ema": True}}
    state = ("v",)
    scratch = ("u",)

    def validate(self, h):
        if h.init == "grad" and h.ema:
            raise ValueError("init='grad' needs ema=False")

    def static_coefficients(self, h):
        return {"c": 1 - h.betas[0] if h.ema else 1.0}

    def step_coefficients(self, t, h):
        bc = optimizers.bias_correction(h.betas[1], t) if h.corrected else 1.0
        return {"first": t == 1 and h.init == "grad", "scale": -h.lr / bc}

    def update(self, w, g, s, h):
        if h.first:
            np.copyto(s.v, g)
        else:
            s.v *= h.betas[0]
            s.v += np.multiply(g, h.c, out=s.u)
        w += np.multiply(s.v, h.scale, out=s.u)


def test_signature_lists_the_declarations_in_order():
    assert str(inspect.signature(Plain)) == "(params, lr=0.1, weight_decay=0.0)"
    assert str(inspect.signature(Heavy)) == (
        "(params, lr=0.1, betas=(0.5, 0.9), convention: str = 'plain', "
        "ema: bool | None = None, init: str = 'zeros', corrected: bool = False)"
    )
    assert Plain.CONVENTIONS == () and Heavy.CONVENTIONS == ("plain", "average")
    for cls in [Plain, Heavy, *REGISTRY.values()]:  # the harness may read either
        init = list(inspect.signature(cls.__init__).parameters.values())
        assert init[0].name == "self" and init[1:] == list(
            inspect.signature(cls).parameters.values()
        )


def test_builtin_signatures_are_unchanged():
    expected = {
        "SGD": "lr=0.001, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, "
        "convention='torch', ema=None, buffer_init=None, lr_in_buffer=None, maximize=False",
        "Momentum": "lr=0.001, momentum=0.9, dampening=0.0, weight_decay=0.0, "
        "convention='torch', ema=None, buffer_init=None, lr_in_buffer=None, maximize=False",
        "AdaGrad": "lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=None, "
        "eps=1e-10, convention='torch', eps_inside_sqrt=None, maximize=False",
        "RMSProp": "lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0.0, momentum=0.0, "
        "centered=False, convention='torch', eps_inside_sqrt=None, bias_correction=None, "
        "maximize=False",
        "Adam": "lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False, "
        "convention='torch', correct_moments=None, eps_root=0.0, maximize=False",
        "Adamax": "lr=0.002, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, "
        "convention='torch', correct_moments=None, maximize=False",
        "Adadelta": "lr=1.0, rho=0.9, eps=1e-06, weight_decay=0.0, convention='torch', "
        "square_first=None, maximize=False",
        "Lion": "lr=0.0001, betas=(0.9, 0.99), weight_decay=0.001",
    }
    expected["Nesterov"] = expected["Momentum"]
    expected["AdamW"] = (
        "lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False, "
        "convention='torch', correct_moments=None, maximize=False"
    )
    expected["NAdam"] = (
        "lr=0.002, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, momentum_decay=0.004, "
        "decoupled_weight_decay=False, convention='torch', correct_moments=None, maximize=False"
    )
    expected["RAdam"] = (
        "lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, "
        "decoupled_weight_decay=False, convention='torch', correct_moments=None, maximize=False"
    )
    for cls in REGISTRY.values():
        params = list(inspect.signature(cls).parameters.values())
        assert params[0].name == "params"
        got = ", ".join(f"{p.name}={p.default!r}" for p in params[1:])
        assert got == expected[cls.__name__]
        assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params)


def test_positional_arguments_bind_in_declaration_order():
    w1, w2 = np.ones(3), np.ones(3)
    a = Heavy([w1], 0.2, (0.3, 0.4), "average")
    b = Heavy([w2], lr=0.2, betas=(0.3, 0.4), convention="average")
    assert a.hparams == b.hparams and a.hparams["ema"] is True
    assert a.lr == 0.2 and a.betas == (0.3, 0.4)  # the declarations read the values
    with pytest.raises(AttributeError, match="fixed at construction"):
        a.lr = 0.5


@pytest.mark.parametrize(
    ("kw", "exc", "word"),
    [
        (dict(lrr=0.1), TypeError, "unexpected keyword argument 'lrr'"),
        (dict(lr=-1.0), ValueError, r"lr must be finite and in \[0, inf\)"),
        (dict(betas=(0.5, 1.0)), ValueError, r"betas\[1\] must be finite and in \[0, 1\)"),
        (dict(betas=(0.5,)), TypeError, r"betas must be a pair \(betas\[0\], betas\[1\]\)"),
        (dict(init="ones"), ValueError, r"init must be one of \('zeros', 'grad'\)"),
        (dict(corrected=np.array([True, False])), TypeError, "corrected must be a bool"),
        (dict(ema="yes"), TypeError, "ema must be a bool"),
        (dict(convention="torch"), ValueError, r"convention must be one of \('plain'"),
        (dict(init="grad", convention="average"), ValueError, "init='grad' needs ema=False"),
        (dict(lr=np.ones(2)), ValueError, r"leading axis R=2; params\[0\] has shape \(3,\)"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(kw, exc, word):
    with pytest.raises(exc, match=word):
        Heavy([np.ones(3)], **kw)


def test_too_many_positional_arguments_and_the_abstract_base():
    with pytest.raises(TypeError, match="too many positional"):
        Plain([np.ones(2)], 0.1, 0.0, 3)
    with pytest.raises(TypeError, match="base class"):
        Optimizer([np.ones(2)])
    with pytest.raises(NotImplementedError, match="must define update"):

        class NoRule(Optimizer):
            lr = Hyperparameter(0.1)

        NoRule([np.ones(2)]).step([np.ones(2)])


def declare(body: dict, bases=(Optimizer,)):
    return type("Bad", bases, {"__qualname__": "Bad", **body})


@pytest.mark.parametrize(
    ("body", "word"),
    [
        (dict(state=("u",), scratch=("u", "d")), r"'u' is both a state name.*and a scratch name"),
        (dict(state="v"), "state must be a tuple of names"),
        (dict(scratch=("a", "a")), "repeats a name"),
        (dict(params=Hyperparameter(1.0)), "params: the name is reserved"),
        (dict(step=Hyperparameter(1.0)), "step: the name is reserved"),
        (dict(ema=Hyperparameter(None)), "ema defaults to None, so every convention"),
        (dict(lr=Hyperparameter(-1.0)), "the default of lr is invalid"),
        (dict(x=Hyperparameter("a")), "needs choices"),
        (dict(x=Hyperparameter(1.0), conventions={"a": {"y": 1}}), r"presets \['y'\]"),
        (
            dict(x=Hyperparameter(None), conventions={"a": {"x": 2.0}, "b": {"x": True}}),
            r"conventions\['b'\]\['x'\] is invalid",
        ),
        (dict(weight_decay=Hyperparameter(0.0), weight_decay_mode="decoupled"), "needs an lr"),
        (dict(weight_decay_mode="L2"), "weight_decay_mode must be one of"),
        (dict(__init__=lambda self, params: None), "defines __init__"),
    ],
)
def test_bad_declarations_raise_when_the_class_is_created(body, word):
    with pytest.raises(TypeError, match=word):
        declare(body)


def test_hooks_returning_bad_names_raise():
    def update(self, w, g, s, h):
        w -= h.lr * g

    taken = {"lr": Hyperparameter(0.1), "static_coefficients": lambda self, h: {"lr": 1.0}}
    clash = declare(dict(update=update, **taken))
    with pytest.raises(TypeError, match=r"static_coefficients returned \['lr'\]"):
        clash([np.ones(2)])
    stray = declare(dict(state=("m",), update=update, initial_state=lambda s, h: {"n": 1.0}))
    with pytest.raises(TypeError, match=r"initial_state returned \['n'\], not declared"):
        stray([np.ones(2)])
    renamed = {"step_coefficients": lambda self, t, h: {"a": 1.0} if t == 1 else {"b": 1.0}}
    moving = declare(dict(lr=Hyperparameter(0.1), update=update, **renamed))
    opt = moving([np.ones(2)])
    opt.step([np.ones(2)])
    with pytest.raises(TypeError, match="the same names every step"):
        opt.step([np.ones(2)])


def test_conventions_preset_the_options_left_at_none():
    assert Heavy([np.ones(2)]).hparams["ema"] is False
    assert Heavy([np.ones(2)], convention="average").hparams["ema"] is True
    assert Heavy([np.ones(2)], convention="average", ema=False).hparams["ema"] is False
    # the hand-derived sequence of "average": v = 0.5 * 1, then 0.25 + 0.5; w -= 0.1 v
    w = np.array([1.0])
    opt = Heavy([w], convention="average")
    opt.step([np.ones(1)])
    opt.step([np.ones(1)])
    np.testing.assert_allclose(w, [1.0 - 0.05 - 0.075], rtol=1e-15)
    assert "Heavy([(1,)], lr=0.1, betas=(0.5, 0.9), convention='average', ema=True" in repr(opt)


def test_a_plain_value_fixes_an_inherited_hyperparameter():
    assert "nesterov" not in inspect.signature(Momentum).parameters
    assert Momentum.nesterov is False
    with pytest.raises(TypeError, match="unexpected keyword argument 'nesterov'"):
        Momentum([np.ones(2)], nesterov=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weight_decay_l2_and_decoupled_are_the_hand_written_formulas(dtype):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 40)).astype(dtype)
    lr, wd = np.array([0.1, 0.05, 0.2]), np.array([0.0, 0.01, 0.5])
    l2, dec = start.copy(), start.copy()
    o1, o2 = Plain([l2], lr=lr, weight_decay=wd), PlainDecoupled([dec], lr=lr, weight_decay=wd)
    x, y = start.copy(), start.copy()
    lr_, wd_, decay = (np.asarray(v, dtype)[:, None] for v in (lr, wd, 1.0 - lr * wd))
    for t in range(5):
        g = np.cos(np.arange(40, dtype=dtype) + t) * dtype(0.5)
        o1.step([np.broadcast_to(g, l2.shape).copy()])
        o2.step([np.broadcast_to(g, dec.shape).copy()])
        x = x - lr_ * (g + wd_ * x)  # torch: grad.add(param, alpha=wd), then the rule
        y = y * decay - lr_ * g  # torch.optim.AdamW: param.mul_(1 - lr * wd), then the rule
    np.testing.assert_array_equal(l2, x)
    np.testing.assert_array_equal(dec, y)


def test_weight_decay_passes_are_skipped_at_a_scalar_zero_and_grads_are_never_written():
    seen = []

    class Spy(Plain):
        def update(self, w, g, s, h):
            seen.append(g)
            super().update(w, g, s, h)

    w, g = np.ones(8), np.full(8, 0.5)
    Spy([w]).step([g])
    assert np.shares_memory(seen[-1], g)  # no decay pass: the caller's gradient itself
    Spy([w], weight_decay=0.1).step([g])
    assert not np.shares_memory(seen[-1], g)  # g + wd w, in the base's buffer
    for name, cls in REGISTRY.items():  # and no built-in writes into a gradient
        p = np.random.default_rng(1).standard_normal((3, 7))
        grad = np.sin(p)
        kept = grad.copy()
        opt = cls([p], weight_decay=0.1, **({"momentum": 0.5} if name == "sgd" else {}))
        for _ in range(3):
            opt.step([grad])
        np.testing.assert_array_equal(grad, kept)


def test_state_dict_round_trip_of_a_user_subclass():
    kw = dict(lr=np.array([0.1, 0.2]), convention="average", corrected=True)
    rng = np.random.default_rng(2)
    w = rng.standard_normal((2, 5))
    opt = Heavy([w], **kw)
    for _ in range(3):
        opt.step([np.sin(w)])
    saved = opt.state_dict()
    assert set(saved) == {"step", "state", "hparams"} and list(saved["state"][0]) == ["v"]
    w2 = w.copy()
    opt2 = Heavy([w2], **kw)
    opt2.load_state_dict(saved)
    saved["state"][0]["v"] += 1.0  # a copy: changing it changes nothing
    for _ in range(4):
        opt.step([np.sin(w)])
        opt2.step([np.sin(w2)])
    np.testing.assert_array_equal(w, w2)
    assert opt2.step_count == 7


def test_a_user_subclass_in_blocks_and_threads_equals_the_whole_array_path():
    threads, scratch, shapes = set(), set(), []

    class Watched(Heavy):
        def update(self, w, g, s, h):
            threads.add(threading.get_ident())
            scratch.add(s.u.__array_interface__["data"][0])
            shapes.append(np.shape(h.scale))
            super().update(w, g, s, h)

    optimizers.set_num_threads(2)
    base = np.random.default_rng(3).standard_normal(1_000_000)
    kw = dict(convention="average", corrected=True)
    blocked, whole = base.copy(), np.zeros(2_000_000)[::2]  # strided: updated whole
    whole[...] = base
    ob, ow = Watched([blocked], **kw), Watched([whole], **kw)
    for _ in range(3):
        ob.step([np.cos(blocked)])
        ow.step([np.cos(whole)])
    np.testing.assert_array_equal(blocked, whole)
    # 1e6 elements, more than PARALLEL_MIN: split between 2 threads, each with its own scratch
    # (and the whole-array update's); a pool grown by earlier tests may lend other threads
    assert len(threads) >= 2 and len(scratch) == 2 + 1
    assert len(shapes) == 3 * (len(ob._engine.layouts[0]) + 1) and set(shapes) == {()}


def test_coefficients_are_shaped_along_the_runs_of_each_block(monkeypatch):
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 8)
    shapes = []

    class Watched(Plain):
        def update(self, w, g, s, h):
            shapes.append((w.shape, np.shape(h.lr), h.lr.dtype))
            super().update(w, g, s, h)

    lr = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float64)
    rows = np.ones((4, 2), dtype=np.float32)  # 8-element blocks of 4 rows: a (4, 1) column
    cols = np.ones((4, 20))  # long rows: blocks of one run, a 0-d value
    fortran = np.ones((4, 3, 2), order="F")  # updated whole: (R, 1, 1)
    Watched([rows, cols, fortran], lr=lr).step(
        [np.ones_like(rows), np.ones_like(cols), np.ones_like(fortran)]
    )
    assert shapes[0] == ((4, 2), (4, 1), np.float32)
    assert {s[1] for s in shapes[1:-1]} == {()} and len(shapes) == 1 + 4 * 3 + 1
    assert shapes[-1] == ((4, 3, 2), (4, 1, 1), np.float64)
    np.testing.assert_array_equal(cols[:, 0], 1.0 - lr)
