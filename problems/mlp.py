"""The MLP problem: the seed's softmax network, trained by minibatches, R runs at once.

The network: Dense -> ReLU -> ... -> Dense -> softmax cross-entropy, widths
``[n_features, *hidden, n_classes]``. ``params = [W_1, b_1, ..., W_L, b_L]`` with
``W_l: (R, n_{l-1}, n_l)`` and ``b_l: (R, 1, n_l)``.

Minibatches: every epoch each run reshuffles the training set with its own counter-based
permutation (keyed by its seed and the epoch) and takes ``steps_per_epoch = n_train //
batch_size`` consecutive batches (the last incomplete batch is dropped); ``batch_size="full"`` is
full-batch gradient descent (deterministic). The test split is fixed by ``data_seed``.
"""

from itertools import pairwise

import numpy as np

from . import datasets, layers, rng
from .base import Problem, check_array, check_choice, check_dtype, check_int

EVAL_RUNS, EVAL_SAMPLES = 16, 512  # evaluation chunks: fixed, so results never depend on R
TRAIN_RUNS = 16  # runs per chunk in loss_and_grad (cache-sized; results do not depend on it)


class MLP(Problem):
    """Softmax MLP classifier; loss = mean cross-entropy of a minibatch (exact log-softmax).

    - ``dataset``: ``"digits"`` (1,797 8x8 images, 10 classes), ``"spiral"`` (3 arms x 200
      points in 2-D), or the path (str or PathLike; relative to the current directory) of a
      ``.csv`` file (numbers, the integer class label last, optional header row) or an
      ``.npz`` file (arrays ``X`` (n, n_features) and ``y`` (n,)), checked at construction
      (``optbench.problems.datasets.load_file``). A file's ``config()`` records its base name
      and content hash, ``{"dataset": "iris.csv", "dataset_sha256": "<hex>"}`` (and
      ``"dataset_labels"``, the file's label of each class, when labels were mapped to
      0..k-1), never its folder; ``data_file`` (resolved ``Path``) and ``data_sha256`` are
      None for the built-ins;
    - ``hidden``: widths of the hidden ReLU layers (depth = len(hidden) + 1);
    - ``init``: ``"he"`` (W = sqrt(2/n_in) N(0, 1)) or ``"seed"`` (W = 0.01 N(0, 1)); b = 0;
    - ``batch_size``: minibatch size m, or ``"full"`` (or None) for the full training set;
    - ``test_fraction``, ``data_seed``: the seeded split (features standardized on train).

    ``evaluate`` returns the full training loss as ``loss`` and ``train_loss``, ``train_acc``,
    ``test_loss``, ``test_acc``; ``f_star`` is unknown (None).
    """

    name = "mlp"

    def __init__(
        self,
        dataset="digits",
        hidden=(64,),
        init="he",
        batch_size=128,
        test_fraction=0.2,
        data_seed=0,
        dtype="float64",
    ):
        path = datasets.file_path(dataset)  # None for "digits" and "spiral"
        if isinstance(hidden, int) or not all(isinstance(h, int) for h in hidden):
            raise ValueError(f"hidden must be a sequence of positive ints, got {hidden!r}")
        hidden = [check_int("hidden[i]", h, 1) for h in hidden]
        check_choice("init", init, layers.INITS)
        data_seed = check_int("data_seed", data_seed, 0)
        X, y, data = self._data(dataset, path, data_seed, test_fraction)
        Xtr, ytr, Xte, yte = datasets.split(X, y, test_fraction, seed=data_seed)
        if batch_size is None or batch_size == "full":
            batch_size = None
        elif isinstance(batch_size, str):
            raise ValueError(f"batch_size must be a positive integer or 'full', got {batch_size!r}")
        else:
            batch_size = check_int("batch_size", batch_size, 1, len(Xtr))
        self.dtype = check_dtype(dtype)
        super().__init__(
            **data, hidden=hidden, init=init, batch_size=batch_size or "full",
            test_fraction=float(test_fraction), data_seed=data_seed, dtype=self.dtype.name,
        )  # fmt: skip
        self.X_train, self.y_train = Xtr.astype(self.dtype), ytr
        self.X_test, self.y_test = Xte.astype(self.dtype), yte
        self.n_classes = int(max(y.max() + 1, 2))
        self.widths = [X.shape[1], *hidden, self.n_classes]
        self.shapes = [s for a, b in pairwise(self.widths) for s in ((a, b), (1, b))]
        self.dim = sum(a * b + b for a, b in pairwise(self.widths))
        self.batch_size = batch_size
        self.stochastic = batch_size is not None
        self.steps_per_epoch = len(Xtr) // batch_size if self.stochastic else 1
        self._nets, self._eval_net = {}, Network(len(hidden) + 1)

    def _data(self, dataset, path, data_seed, test_fraction):
        """(X, y, the data's config entries); sets ``data_file`` and ``data_sha256``."""
        self.data_file = self.data_sha256 = None
        if dataset == "digits":
            return *datasets.load_digits(), {"dataset": dataset}
        if dataset == "spiral":
            return *datasets.spiral(seed=data_seed), {"dataset": dataset}
        data = datasets.load_file(path)
        datasets.check_split_size(data, test_fraction)
        self.data_file, self.data_sha256 = data.path, data.sha256
        config = {"dataset": data.name, "dataset_sha256": data.sha256}
        if data.labels is not None:
            config["dataset_labels"] = list(data.labels)
        return data.X, data.y, config

    def _label_args(self):
        c = self._config
        args = [c["dataset"], "-".join(map(str, self.widths))]
        args += [f"m={self.batch_size}" if self.batch_size else "full-batch"]
        args += [] if c["init"] == "he" else [f"init={c['init']}"]
        return ", ".join(args + ([] if c["dtype"] == "float64" else [c["dtype"]]))

    def init_params(self, seeds):
        """[W_1, b_1, ...]: W from each run's seed (counter-based normals), b = 0."""
        seeds = self._reset(seeds)
        keys = rng.run_keys(seeds, rng.STREAM_INIT)
        self._shuffle_keys = rng.run_keys(seeds, rng.STREAM_SHUFFLE)
        self._perm = None
        R, params = len(seeds), []
        for layer, (n_in, n_out) in enumerate(pairwise(self.widths)):
            scale = 0.01 if self._config["init"] == "seed" else np.sqrt(2.0 / n_in)
            z = rng.normal(rng.step_keys(keys, layer), n_in * n_out).reshape(R, n_in, n_out)
            params += [(scale * z).astype(self.dtype), np.zeros((R, 1, n_out), self.dtype)]
        return params

    def _check(self, params):
        if not isinstance(params, (list, tuple)) or len(params) != len(self.shapes):
            raise ValueError(f"params must be a list of {len(self.shapes)} arrays [W_1, b_1, ...]")
        R = params[0].shape[0] if isinstance(params[0], np.ndarray) and params[0].ndim else None
        for i, (p, shape) in enumerate(zip(params, self.shapes, strict=True)):
            check_array(f"params[{i}]", p, (R, *shape))
        return R

    def _batch_indices(self, R):
        """(R, m) training-sample indices of this step's minibatches (None: full batch)."""
        if not self.stochastic:
            return None
        self._require_init(R)
        epoch, b = divmod(self._step, self.steps_per_epoch)
        if b == 0 or self._perm is None:
            keys = rng.step_keys(self._shuffle_keys, epoch)
            self._perm = rng.permutations(keys, len(self.X_train))
        return self._perm[:, b * self.batch_size : (b + 1) * self.batch_size]

    def _gather(self, net, idx):
        """X (r, m, n_features) and y (r, m) of the chunk's minibatches, into net's buffers."""
        if idx is None:
            return self.X_train, self.y_train
        Xb = layers._buffer(net, "_X", (*idx.shape, self.widths[0]), self.dtype)
        yb = layers._buffer(net, "_y", idx.shape, self.y_train.dtype)
        np.take(self.X_train, idx, axis=0, out=Xb)
        np.take(self.y_train, idx, out=yb)
        return Xb, yb

    def loss_and_grad(self, params):
        """(R,) minibatch losses and [dW_1, db_1, ...] (buffers); advances each run's stream.

        Runs are processed in chunks of TRAIN_RUNS so that each chunk's activations stay in
        cache; chunking changes no run's arithmetic (every run is its own slice throughout).
        """
        R = self._check(params)
        idx = self._batch_indices(R)
        loss = layers._buffer(self, "_loss", (R,), self.dtype)
        grads = [layers._buffer(self, f"_grad{i}", p.shape, p.dtype) for i, p in enumerate(params)]
        for r0 in range(0, R, TRAIN_RUNS):
            r1 = min(R, r0 + TRAIN_RUNS)
            net = self._nets.setdefault(r1 - r0, Network(len(self.widths) - 1))
            net.set([p[r0:r1] for p in params], [g[r0:r1] for g in grads])
            X, y = self._gather(net, None if idx is None else idx[r0:r1])
            loss[r0:r1] = net.forward(X, y)
            net.backward()
        self._step += 1
        return loss, grads

    def evaluate(self, params):
        """Full-data loss and accuracy, in fixed chunks of runs and samples (no randomness)."""
        R = self._check(params)
        out = {}
        for part, X, y in (
            ("train", self.X_train, self.y_train),
            ("test", self.X_test, self.y_test),
        ):
            loss, acc = np.empty(R), np.empty(R)
            for r in range(0, R, EVAL_RUNS):
                self._eval_net.set([p[r : r + EVAL_RUNS] for p in params])
                loss[r : r + EVAL_RUNS], acc[r : r + EVAL_RUNS] = self._eval_net.score(X, y)
            out[f"{part}_loss"], out[f"{part}_acc"] = loss, acc
        out["loss"] = out["train_loss"]
        return out


class Network:
    """Dense -> ReLU -> ... -> Dense -> SoftmaxCrossEntropy over weights referenced (not copied)
    from a params list [W_1, b_1, ...]; activations and gradients live in reused buffers.

    net.set(params); loss = net.forward(X, y); net.backward(); grads = net.grads()
    """

    def __init__(self, n_dense):
        self.dense = [None] * n_dense
        self.relu = [layers.ReLU() for _ in range(n_dense - 1)]
        self.loss = layers.SoftmaxCrossEntropy()

    def set(self, params, grads=None):
        """Use ``params`` as the weights; write gradients into ``grads`` (views) if given."""
        for i, (W, b) in enumerate(zip(params[::2], params[1::2], strict=True)):
            if self.dense[i] is None:
                self.dense[i] = layers.Dense.wrap(W, b)
            self.dense[i].weights, self.dense[i].biases = W, b
            if grads is not None:
                self.dense[i].dweights, self.dense[i].dbiases = grads[2 * i], grads[2 * i + 1]

    def logits(self, X):
        a = X
        for layer, relu in zip(self.dense[:-1], self.relu, strict=True):
            a = relu.forward(layer.forward(a))
        return self.dense[-1].forward(a)

    def forward(self, X, y):
        return self.loss.forward(self.logits(X), y)

    def backward(self):
        d = self.loss.backward()
        for i in range(len(self.dense) - 1, -1, -1):
            d = self.dense[i].backward(d, need_dinputs=i > 0)
            if i > 0:
                d = self.relu[i - 1].backward(d)

    def grads(self):
        return [g for layer in self.dense for g in (layer.dweights, layer.dbiases)]

    def score(self, X, y):
        """Mean loss and accuracy over all of X, in chunks of EVAL_SAMPLES samples."""
        total = correct = 0.0
        for s in range(0, len(X), EVAL_SAMPLES):
            Z = self.logits(X[s : s + EVAL_SAMPLES])
            n = Z.shape[-2]
            total = total + n * self.loss.forward(Z, y[s : s + EVAL_SAMPLES])
            correct = correct + n * layers.accuracy(Z, y[s : s + EVAL_SAMPLES])
        return total / len(X), correct / len(X)
