"""The seed's softmax MLP pieces, forward and backward side by side, with an optional run axis.

Shapes (``m`` samples, ``R`` runs): every layer takes either the seed's 2-D arrays,
``X: (m, n_in)``, ``weights: (n_in, n_out)``, ``biases: (1, n_out)``, or the same with a
leading run axis, ``X: (R, m, n_in)`` (or a shared ``(m, n_in)``), ``weights: (R, n_in, n_out)``,
``biases: (R, 1, n_out)``. The attribute names are the seed's (``output``, ``dinputs``,
``dweights``, ``dbiases``); ``forward`` and ``backward`` also return their result.

Outputs live in buffers owned by the layer and are overwritten by the next call with the same
shapes (``np.matmul(..., out=...)``): copy a result you want to keep.

Checks: types, shapes, label ranges and one-hot rows are validated on every call (no pass over
the data). Values are not scanned for NaN or infinity: that would cost a pass per layer and
call, and the harness legitimately drives diverged runs (non-finite weights) through a batch.
Data sets are checked for finite values once, when they are built (``optbench.problems.datasets``).
"""

import numpy as np

from .base import check_choice, check_int

INITS = ("seed", "he")


def _buffer(obj, name, shape, dtype, fill=None):
    """``obj``'s cached array ``name``, reallocated only when the shape or dtype changes
    (and then set to ``fill``, for constant buffers, if given)."""
    buf = obj.__dict__.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = np.empty(shape, dtype=dtype) if fill is None else np.full(shape, fill, dtype)
        obj.__dict__[name] = buf
    return buf


def _check_input(name, X, n):
    if not isinstance(X, np.ndarray) or X.dtype.kind != "f":
        kind = getattr(X, "dtype", type(X).__name__)
        raise ValueError(f"{name} must be a floating NumPy array, got {kind}")
    if X.ndim not in (2, 3) or X.shape[-1] != n:
        raise ValueError(f"{name} must have shape (m, {n}) or (R, m, {n}), got {X.shape}")


class Dense:
    """Fully connected layer, Z = X W + b (the seed's ``Layer_Dense``).

    Forward:  Z = X W + b                         X (m, n_in) -> Z (m, n_out)
    Backward: dW = X^T dZ,  db = sum_m dZ,  dX = dZ W^T

    ``init``: ``"seed"`` draws W = 0.01 * randn (the seed's), ``"he"`` W = sqrt(2 / n_in) * randn;
    b = 0. ``rng``: a ``np.random.Generator`` or ``RandomState``; None draws from NumPy's global
    legacy state exactly as the seed does (``np.random.randn``). ``runs=R`` adds the run axis.
    ``weights`` and ``biases`` may be reassigned or set in place.
    """

    def __init__(self, n_in, n_out, runs=None, init="seed", rng=None, dtype=np.float64):
        n_in, n_out = check_int("n_in", n_in, 1), check_int("n_out", n_out, 1)
        check_choice("init", init, INITS)
        lead = () if runs is None else (check_int("runs", runs, 1),)
        if rng is not None and not isinstance(rng, (np.random.Generator, np.random.RandomState)):
            raise ValueError(f"rng must be a np.random.Generator, RandomState or None, got {rng!r}")
        scale = 0.01 if init == "seed" else np.sqrt(2.0 / n_in)
        if rng is None:
            z = np.random.randn(*lead, n_in, n_out)  # noqa: NPY002 (the seed's global draws)
        else:
            z = rng.standard_normal((*lead, n_in, n_out))
        self.n_in, self.n_out = n_in, n_out
        self.weights = (scale * z).astype(dtype, copy=False)
        self.biases = np.zeros((*lead, 1, n_out), dtype=dtype)
        self.dweights = np.zeros_like(self.weights)
        self.dbiases = np.zeros_like(self.biases)

    @classmethod
    def wrap(cls, weights, biases):
        """A layer whose ``weights`` and ``biases`` are the given arrays (no copy)."""
        layer = cls.__new__(cls)
        layer.n_in, layer.n_out = weights.shape[-2:]
        layer.weights, layer.biases = weights, biases
        layer.dweights, layer.dbiases = np.empty_like(weights), np.empty_like(biases)
        return layer

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, weights{self.weights.shape})"

    def forward(self, inputs):
        """Z = X W + b. X: (m, n_in) or (R, m, n_in) -> Z: (m, n_out) or (R, m, n_out)."""
        _check_input("inputs", inputs, self.n_in)
        self.inputs = inputs
        lead = np.broadcast_shapes(inputs.shape[:-2], self.weights.shape[:-2])
        out = _buffer(self, "output", (*lead, inputs.shape[-2], self.n_out), self.weights.dtype)
        np.matmul(inputs, self.weights, out=out)
        out += self.biases
        return out

    def backward(self, dvalues, need_dinputs=True):
        """dZ: like Z -> dX: like X (None when ``need_dinputs`` is False, e.g. the first layer).

        Sets dweights = X^T dZ (n_in, n_out) and dbiases = sum over samples of dZ (1, n_out).
        """
        out = self.__dict__.get("output")
        if not isinstance(dvalues, np.ndarray) or dvalues.dtype.kind != "f":
            kind = getattr(dvalues, "dtype", type(dvalues).__name__)
            raise ValueError(f"dvalues must be a floating NumPy array, got {kind}")
        if out is None or dvalues.shape != out.shape:
            expected = "forward() first" if out is None else f"shape {out.shape}, like the output"
            raise ValueError(f"dvalues must have {expected}, got {dvalues.shape}")
        X = self.inputs
        if self.dweights.shape != self.weights.shape or self.dweights.dtype != dvalues.dtype:
            self.dweights = np.empty_like(self.weights)
            self.dbiases = np.empty_like(self.biases)
        np.matmul(X.swapaxes(-1, -2), dvalues, out=self.dweights)
        ones = _buffer(self, "_ones", (1, dvalues.shape[-2]), dvalues.dtype, fill=1.0)
        np.matmul(ones, dvalues, out=self.dbiases)  # sum over samples: 2-10x faster than np.sum
        if not need_dinputs:
            self.dinputs = None
            return None
        shape = (*dvalues.shape[:-1], self.n_in)
        self.dinputs = _buffer(self, "_dinputs", shape, dvalues.dtype)
        np.matmul(dvalues, self.weights.swapaxes(-1, -2), out=self.dinputs)
        return self.dinputs


class ReLU:
    """A = max(0, Z); backward dZ = dA * [Z > 0] (the seed's ``Activation_ReLU``). Any shape."""

    def forward(self, inputs):
        self.inputs = inputs
        self.output = _buffer(self, "_output", inputs.shape, inputs.dtype)
        np.maximum(inputs, 0, out=self.output)
        return self.output

    def backward(self, dvalues):
        mask = _buffer(self, "_mask", self.inputs.shape, np.bool_)
        np.greater(self.inputs, 0, out=mask)
        self.dinputs = _buffer(self, "_dinputs", dvalues.shape, dvalues.dtype)
        np.multiply(dvalues, mask, out=self.dinputs)
        return self.dinputs


class Softmax:
    """P = exp(Z - max Z) / sum exp(Z - max Z) over the last axis (numerically stable).

    Backward (the full Jacobian-vector product; the seed leaves it to the combined loss):
    dZ = P * (dP - sum_j dP_j P_j). Z: (..., n_classes).
    """

    def forward(self, inputs):
        P = _buffer(self, "_output", inputs.shape, inputs.dtype)
        self.max = _buffer(self, "_max", (*inputs.shape[:-1], 1), inputs.dtype)
        self.sum = _buffer(self, "_sum", (*inputs.shape[:-1], 1), inputs.dtype)
        row_max(inputs, out=self.max)
        np.subtract(inputs, self.max, out=P)
        np.exp(P, out=P)
        ones = _buffer(self, "_ones", (inputs.shape[-1], 1), inputs.dtype, fill=1.0)
        np.matmul(P, ones, out=self.sum)  # row sums; NumPy's axis=-1 sum is slow for few classes
        P /= self.sum
        self.output = P
        return P

    def backward(self, dvalues):
        P = self.output
        s = np.sum(dvalues * P, axis=-1, keepdims=True)
        self.dinputs = P * (dvalues - s)
        return self.dinputs


def row_max(Z, out):
    """out[..., 0] = max_j Z[..., j]; for few columns, one np.maximum per column (a reduction
    over a short last axis is several times slower in NumPy). Max is exact in any order."""
    if Z.shape[-1] > 16:
        return np.max(Z, axis=-1, keepdims=True, out=out)
    o = out[..., 0]
    np.copyto(o, Z[..., 0])
    for j in range(1, Z.shape[-1]):
        np.maximum(o, Z[..., j], out=o)
    return out


def check_labels(y_true, shape):
    """Validate labels for scores of ``shape`` (..., m, C); returns (kind, y).

    Integer arrays are sparse class indices in [0, C) of shape (..., m) or a shared (m,);
    floating arrays are one-hot (or probability) rows of shape (..., m, C) or a shared (m, C).
    """
    if not isinstance(y_true, np.ndarray):
        raise ValueError(f"y_true must be a NumPy array, got {type(y_true).__name__}")
    C = shape[-1]
    if len(shape) >= 2 and shape[-2] == 0:
        raise ValueError("need at least one sample (m >= 1), got m = 0")
    if y_true.dtype.kind in "iu":
        if y_true.shape not in (shape[:-1], shape[-2:-1]):
            raise ValueError(f"sparse y_true must have shape {shape[:-1]}, got {y_true.shape}")
        if y_true.size and (y_true.min() < 0 or y_true.max() >= C):
            bad = y_true[(y_true < 0) | (y_true >= C)].flat[0]
            raise ValueError(f"labels must lie in [0, n_classes={C}), got {bad}")
        return "sparse", y_true
    if y_true.dtype.kind == "f":
        if y_true.shape not in (shape, shape[-2:]):
            raise ValueError(f"one-hot y_true must have shape {shape}, got {y_true.shape}")
        rows = y_true.sum(axis=-1)
        if not (np.all(y_true >= 0) and np.all(np.abs(rows - 1) <= 1e-6)):
            raise ValueError(
                "one-hot y_true rows must be probabilities: entries >= 0 that sum to 1"
            )
        return "onehot", y_true
    raise ValueError(f"y_true must hold integer labels or one-hot floats, got {y_true.dtype}")


def _pick(P, y):
    """P[..., i, y_i]: (..., m) for sparse labels y of shape (..., m) or (m,)."""
    y = np.broadcast_to(y, P.shape[:-1])
    flat = np.ascontiguousarray(P).reshape(-1, P.shape[-1])
    return flat[np.arange(y.size), y.ravel()].reshape(y.shape)


class CategoricalCrossEntropy:
    """Per-sample loss -log(clip(p_y)) (the seed's ``Loss_CategoricalCrossentropy``).

    forward(y_pred (..., m, C), y_true) -> (..., m) per-sample losses, p clipped to
    [clip, 1 - clip]. backward(dvalues = y_pred, y_true) -> dP = -Y / P / m, the gradient of
    the mean loss (Y one-hot; exact where no probability is clipped).
    """

    def __init__(self, clip=1e-7):
        self.clip = clip

    def forward(self, y_pred, y_true):
        kind, y = check_labels(y_true, y_pred.shape)
        p = np.clip(y_pred, self.clip, 1 - self.clip)
        correct = _pick(p, y) if kind == "sparse" else np.sum(p * y, axis=-1)
        return -np.log(correct)

    def backward(self, dvalues, y_true):
        kind, y = check_labels(y_true, dvalues.shape)
        if kind == "sparse":
            y = np.eye(dvalues.shape[-1], dtype=dvalues.dtype)[y]
        self.dinputs = -y / dvalues
        self.dinputs = self.dinputs / dvalues.shape[-2]
        return self.dinputs


class SoftmaxCrossEntropy:
    """Softmax and categorical cross-entropy combined, with the fast backward (the seed's
    ``Activation_Softmax_Loss_CategoricalCrossentropy``).

    forward(logits Z (..., m, C), y_true) -> mean over the m samples of
        loss_i = log sum_j exp(Z_ij - max_i Z_i) - (Z_iy - max_i Z_i) = -log softmax(Z_i)_y,
    a scalar for 2-D Z, (R,) for (R, m, C). ``clip=c`` instead takes -log(clip(P_iy, c, 1 - c)),
    the seed's values (c = 1e-7), whose derivative differs from ``backward`` where P is clipped.
    backward() -> dZ = (P - Y) / m, with Y the one-hot labels. ``output`` holds P.
    """

    def __init__(self, clip=None):
        self.activation = Softmax()
        self.clip = clip

    def forward(self, logits, y_true):
        if not isinstance(logits, np.ndarray) or logits.dtype.kind != "f" or logits.ndim < 2:
            raise ValueError("logits must be a floating array of shape (m, C) or (R, m, C)")
        self._kind, self._y = check_labels(y_true, logits.shape)
        sparse = self._kind == "sparse"
        P = self.output = self.activation.forward(logits)
        if self.clip is not None:
            p = np.clip(P, self.clip, 1 - self.clip)
            nll = -np.log(_pick(p, self._y) if sparse else np.sum(p * self._y, axis=-1))
        else:
            log_sum, top = np.log(self.activation.sum[..., 0]), self.activation.max[..., 0]
            if sparse:
                nll = top - _pick(logits, self._y)  # max_j Z_ij - Z_iy >= 0, then + log sum
                nll += log_sum
            else:
                shifted = logits - self.activation.max
                nll = log_sum * self._y.sum(axis=-1) - np.sum(self._y * shifted, axis=-1)
        return np.add.reduce(nll, axis=-1) / nll.shape[-1]  # np.mean's bits, less overhead

    def backward(self):
        """dZ = (P - Y) / m, same shape as the logits (a reused buffer)."""
        P = self.output
        d = self.dinputs = _buffer(self, "_dinputs", P.shape, P.dtype)
        if self._kind == "sparse":
            np.copyto(d, P)
            y = np.broadcast_to(self._y, P.shape[:-1]).ravel()
            d.reshape(-1, P.shape[-1])[np.arange(y.size), y] -= 1
        else:
            np.subtract(P, self._y, out=d)
        d /= P.shape[-2]
        return d


def accuracy(scores, y_true):
    """Fraction of samples whose arg-max score is the label: scalar, or (R,) for (R, m, C)."""
    kind, y = check_labels(y_true, scores.shape)
    if kind == "onehot":
        y = np.argmax(y, axis=-1)
    return np.mean(np.argmax(scores, axis=-1) == y, axis=-1)
