"""Classification data for the MLP: the UCI 8x8 digits (shipped) and the seed-style spiral.

Both return ``X`` (n, n_features) float64 and ``y`` (n,) int64 labels in [0, n_classes).
``split`` makes the seeded train/test split and standardizes features with train statistics.
"""

from pathlib import Path

import numpy as np

from .base import check_float, check_int

DATA_DIR = Path(__file__).parent / "data"
DATASETS = ("digits", "spiral")


def load_digits():
    """The 1,797 UCI handwritten digits (CC BY 4.0, see data/DIGITS.md): 64 pixel counts in
    0..16 per image, 10 classes."""
    with np.load(DATA_DIR / "digits.npz") as f:
        pixels, labels = f["pixels"], f["labels"]
    return pixels.reshape(len(pixels), -1).astype(np.float64), labels.astype(np.int64)


def spiral(points=100, classes=3, noise=0.2, seed=0):
    """``classes`` interleaved spiral arms of ``points`` each, in 2-D (the seed's toy data style).

    Arm k: radius r = linspace(0, 1, points), angle t = linspace(4k, 4(k+1), points) +
    noise * N(0, 1), point (r sin(2.5 t), r cos(2.5 t)), label k.
    """
    points = check_int("points", points, 1)
    classes = check_int("classes", classes, 2)
    noise = check_float("noise", noise, 0.0)
    gen = np.random.default_rng(seed)
    X = np.empty((points * classes, 2))
    y = np.repeat(np.arange(classes, dtype=np.int64), points)
    r = np.linspace(0.0, 1.0, points)
    for k in range(classes):
        t = np.linspace(4.0 * k, 4.0 * (k + 1), points) + noise * gen.standard_normal(points)
        X[k * points : (k + 1) * points] = np.column_stack(
            [r * np.sin(2.5 * t), r * np.cos(2.5 * t)]
        )
    return X, y


def check_data(X, y):
    """Non-empty, finite 2-D features and matching 1-D integer labels, else ValueError."""
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype.kind not in "fiu":
        raise ValueError(f"X must be a 2-D numeric array, got {getattr(X, 'shape', X)!r}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"the data set is empty: X has shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X must be finite (found NaN or inf)")
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or y.shape != X.shape[:1]:
        raise ValueError(f"y must be integer labels of shape ({X.shape[0]},)")
    if y.min() < 0:
        raise ValueError(f"labels must be >= 0, got {y.min()}")


def split(X, y, test_fraction=0.2, seed=0):
    """Seeded random train/test split; features standardized with the train mean and std.

    z = (x - mean_train) / std_train, with std = 1 for constant features. Returns
    (X_train, y_train, X_test, y_test); the test part has round(test_fraction * n) samples.
    """
    check_data(X, y)
    test_fraction = check_float("test_fraction", test_fraction, 0.0)
    n_test = round(test_fraction * len(X))
    if test_fraction >= 1.0 or n_test >= len(X):
        raise ValueError(f"test_fraction must leave training data, got {test_fraction}")
    if n_test == 0:
        raise ValueError(f"test_fraction must give at least one test sample, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    mean = X[train].mean(axis=0)
    std = X[train].std(axis=0)
    std[std == 0] = 1.0
    return (X[train] - mean) / std, y[train], (X[test] - mean) / std, y[test]
