"""Ill-conditioned quadratics with a prescribed Hessian spectrum and optional gradient noise."""

import numpy as np

from . import rng
from .base import check_choice, check_float, check_int, rowsum
from .objective import Objective

SPECTRA = ("logspace", "linspace", "two_clusters")


def _short(x):
    """1000.0 -> '1e3', 1e6 -> '1e6', 50.0 -> '50', 3.5 -> '3.5' (labels)."""
    exponent = round(np.log10(x)) if x > 0 else 0
    if exponent >= 3 and x == 10.0**exponent:
        return f"1e{exponent}"
    return f"{x:g}".replace("e+0", "e").replace("e+", "e")


def eigenvalues(dim, condition_number, spectrum):
    """Descending eigenvalues in [1/kappa, 1]: lambda_1 = 1 and lambda_d = 1/kappa exactly.

    - ``logspace``: lambda_i = kappa^(-(i-1)/(d-1)), geometrically spaced;
    - ``linspace``: lambda_i = 1 - (1 - 1/kappa)(i-1)/(d-1), evenly spaced;
    - ``two_clusters``: the first ceil(d/2) equal to 1, the rest equal to 1/kappa.
    """
    if dim == 1:
        return np.ones(1)
    frac = np.arange(dim) / (dim - 1)
    if spectrum == "logspace":
        lam = condition_number ** (-frac)
    elif spectrum == "linspace":
        lam = 1.0 - (1.0 - 1.0 / condition_number) * frac
    else:
        lam = np.where(np.arange(dim) < (dim + 1) // 2, 1.0, 1.0 / condition_number)
    lam[0], lam[-1] = 1.0, 1.0 / condition_number
    return lam


def random_rotation(dim, seed):
    """A Haar-distributed orthogonal matrix: QR of a Gaussian matrix, signs fixed by diag(R)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


class Quadratic(Objective):
    """f(x) = 1/2 (x - x*)^T A (x - x*), A = Q diag(lambda) Q^T, with cond(A) = kappa.

    .. math::
        \\nabla f(x) = A (x - x^*) + \\sigma \\xi_t, \\quad \\xi_t \\sim N(0, I)

    - ``condition_number`` kappa >= 1: the eigenvalues lie in [1/kappa, 1] (so the gradient is
      1-Lipschitz for every kappa, and gradient descent is stable for lr < 2), spaced by
      ``spectrum`` (see ``eigenvalues``).
    - ``rotate``: Q is a random rotation drawn from ``seed`` (the same for every run), so that
      axis-aligned methods (AdaGrad, RMSProp, Adam) get no free lunch; else Q = I.
    - ``noise`` sigma >= 0: additive Gaussian gradient noise, drawn per run from its seed and
      step counter (the returned loss is the exact, noise-free f).

    Minimum f* = 0 at x* = (1, ..., 1). Standard start x = 0; random starts x* + N(0, I).
    """

    name = "quadratic"
    f_star = 0.0

    def __init__(
        self,
        dim=20,
        condition_number=100.0,
        spectrum="logspace",
        rotate=True,
        noise=0.0,
        seed=0,
        start="standard",
        dtype="float64",
    ):
        dim = check_int("dim", dim, 1)
        kappa = check_float("condition_number", condition_number, 1.0)
        if dim == 1 and kappa != 1.0:
            raise ValueError(f"condition_number must be 1 when dim == 1, got {kappa}")
        check_choice("spectrum", spectrum, SPECTRA)
        check_choice("rotate", rotate, (True, False))
        noise = check_float("noise", noise, 0.0)
        seed = check_int("seed", seed, 0)
        config = {"dim": dim, "condition_number": kappa, "spectrum": spectrum}
        config.update(rotate=bool(rotate), noise=noise, seed=seed)
        super().__init__(dim, start, dtype, config)
        self.condition_number, self.noise, self.stochastic = kappa, noise, noise > 0
        self.eigenvalues = eigenvalues(dim, kappa, spectrum)
        self.Q = random_rotation(dim, seed) if rotate else None
        if rotate:
            A = (self.Q * self.eigenvalues) @ self.Q.T
            self.A = 0.5 * (A + A.T)
        else:
            self.A = np.diag(self.eigenvalues)
        self.x_star = np.ones(dim)
        self._A = self.A.astype(self.dtype)
        self._lam = self.eigenvalues.astype(self.dtype)
        self._x_star = self.x_star.astype(self.dtype)

    def _label_args(self):
        kappa = _short(self.condition_number)
        args = [f"dim={self.dim}", f"kappa={kappa}"]
        c = self._config
        args += [f"spectrum={c['spectrum']}"] if c["spectrum"] != "logspace" else []
        args += [] if c["rotate"] else ["rotate=False"]
        args += [f"noise={self.noise:g}"] if self.noise else []
        args += [] if c["start"] == "standard" else [f"start={c['start']}"]
        args += [] if c["dtype"] == "float64" else [f"dtype={c['dtype']}"]
        return ", ".join(args)

    def _standard_start(self):
        return np.zeros(self.dim)

    def init_params(self, seeds):
        """``[X]`` (R, dim), C order; the standard start 0 or x* + N(0, I) from each seed."""
        seeds = self._reset(seeds)
        if self.start == "standard":
            X = np.zeros((len(seeds), self.dim))
        else:
            X = self.x_star + rng.normal(rng.run_keys(seeds, rng.STREAM_INIT), self.dim)
        self._noise_keys = rng.run_keys(seeds, rng.STREAM_NOISE)
        return [np.ascontiguousarray(X, dtype=self.dtype)]

    def _exact(self, X, L, G):
        """L = f(X), G = A (X - x*). D and A D are computed per run (a (1, d) @ (d, d) product
        each), so that a run's bits never depend on how many runs share the batch."""
        R = X.shape[0]
        D = self.scratch("D", X.shape, X, order="C")
        np.subtract(X, self._x_star.astype(X.dtype, copy=False), out=D)
        AD = self.scratch("AD", X.shape, D)
        if self.Q is None:
            np.multiply(D, self._lam.astype(X.dtype, copy=False), out=AD)
        else:
            np.matmul(
                D.reshape(R, 1, -1), self._A.astype(X.dtype, copy=False), out=AD.reshape(R, 1, -1)
            )
        np.copyto(G, AD)
        np.multiply(D, AD, out=D)
        rowsum(D, L)
        L *= 0.5

    def _value_and_grad(self, X, L, G):
        self._exact(X, L, G)

    def loss_and_grad(self, params):
        """(R,) exact losses and ``[G]`` with the noisy gradient; advances the noise stream."""
        L, (G,) = super().loss_and_grad(params)
        if self.noise:
            self._require_init(G.shape[0])
            z = rng.normal(rng.step_keys(self._noise_keys, self._step), self.dim)
            z *= self.noise
            G += z.astype(G.dtype, copy=False)
            self._step += 1
        return L, [G]
