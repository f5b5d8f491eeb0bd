"""Classification data for the MLP: the UCI 8x8 digits (shipped), the seed-style spiral, and
data sets of one's own in ``.csv`` or ``.npz`` files (:func:`load_file`).

All give ``X`` (n, n_features) float64 and ``y`` (n,) int64 labels in [0, n_classes).
``split`` makes the seeded train/test split and standardizes features with train statistics.
"""

import hashlib
import io
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import check_float, check_int

DATA_DIR = Path(__file__).parent / "data"
DATASETS = ("digits", "spiral")
FILE_TYPES = (".csv", ".npz")  # any case
CELL = 20  # characters of an offending cell quoted in an error message


def load_digits():
    """The 1,797 UCI handwritten digits (CC BY 4.0, see data/DIGITS.md): 64 pixel counts in
    0..16 per image, 10 classes."""
    with np.load(DATA_DIR / "digits.npz") as f:
        pixels, labels = f["pixels"], f["labels"]
    return pixels.reshape(len(pixels), -1).astype(np.float64), labels.astype(np.int64)


def spiral(points=200, classes=3, noise=0.1, seed=0):
    """``classes`` interleaved spiral arms of ``points`` each, in 2-D (the seed's toy data style).

    Arm k: radius r = linspace(0, 1, points), angle t = linspace(4k, 4(k+1), points) +
    noise * N(0, 1), point (r sin(2.5 t), r cos(2.5 t)), label k.

    The defaults make a problem a 2-64-3 network can learn: with the classic ``noise=0.2`` the
    arms overlap (the noise moves a point by 0.5 rad) and a k-NN vote on 60,000 points, close to
    the Bayes classifier, is right on 91% of fresh points (99% at 0.1), so no optimizer reached
    0.9 test accuracy; and 100 points per arm left a 240-point training set whose fit did not
    generalize (tests/test_spiral.py).
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


# --- data sets from files -------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DataFile:
    """A data set read from a ``.csv`` or ``.npz`` file, checked; see :func:`load_file`.

    ``X`` (n, n_features) float64; ``y`` (n,) int64 classes 0..k-1; ``labels``: the file's
    label of each class when the file's labels were not already 0..k-1 (else None); ``name``:
    the file's base name; ``path``: the resolved path; ``sha256``: hex digest of its bytes.
    """

    name: str
    path: Path
    sha256: str
    X: np.ndarray
    y: np.ndarray
    labels: tuple[int, ...] | None

    def __repr__(self):
        return f"DataFile({self.name!r}, n={len(self.X)}, features={self.X.shape[1]})"


def file_path(dataset):
    """None for a built-in name, the ``Path`` of a ``.csv``/``.npz`` file, else ValueError.

    The check is by name only (any str or PathLike ending .csv or .npz, in any case); the
    message never prints a non-string argument (an array, say), only its type.
    """
    if isinstance(dataset, str) and dataset in DATASETS:
        return None
    if isinstance(dataset, (str, os.PathLike)):
        path = Path(os.fsdecode(dataset))
        if path.suffix.lower() in FILE_TYPES:
            return path
        got = repr(_short(os.fsdecode(dataset), 60))
    else:
        got = f"a {type(dataset).__name__}"
    raise ValueError(
        f"dataset must be one of {list(DATASETS)} or the path of a .csv or .npz file, got {got}"
    )


def load_file(path):
    """Read and check a ``.csv`` or ``.npz`` data set; a ``DataFile``. Every problem raises a
    ValueError naming the file and the line, column or array at fault.

    CSV: comma-separated numbers (spaces around cells allowed, blank lines skipped), one row
    per sample, the class label last; the first row is a header when its cells are not all
    numbers. NPZ: arrays ``X`` (n, n_features) and ``y`` (n,), of integers or floats. Labels
    must be integers with at least 2 distinct values; labels other than 0..k-1 are mapped
    (sorted distinct values -> 0..k-1) with a ``UserWarning``.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read dataset file {path}: {exc.strerror or exc}") from None
    parse = _parse_csv if path.suffix.lower() == ".csv" else _parse_npz
    X, y, where = parse(str(path), raw)
    y, labels = _classes(str(path), y, where)
    if labels is not None:
        warnings.warn(
            f"{path}: labels {_values(labels)} mapped to 0..{len(labels) - 1}",
            UserWarning,
            stacklevel=2,
        )
    sha = hashlib.sha256(raw).hexdigest()
    return DataFile(path.name, path.resolve(), sha, X, y, labels)


def check_split_size(data, test_fraction):
    """ValueError unless the split of ``data``'s n rows keeps round(test_fraction * n) >= 1
    test rows and at least k training rows (one per class). Bad values of ``test_fraction``
    itself are left to :func:`split`."""
    fraction = check_float("test_fraction", test_fraction, 0.0)
    n, k = len(data.y), int(data.y.max()) + 1
    n_test = round(fraction * n)
    if not 0.0 < fraction < 1.0 or (n_test >= 1 and n - n_test >= k):
        return
    raise ValueError(
        f"{data.path} has too few rows for the train/test split: test_fraction="
        f"{fraction} of {n} rows keeps round({fraction} * {n}) = {n_test} test rows and "
        f"{n - n_test} training rows; the split needs at least 1 test row and {k} training "
        f"rows (one per class, {k} classes)"
    )


def _parse_csv(file, raw):
    try:
        lines = raw.decode("utf-8-sig").split("\n")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{file} is not UTF-8 text (byte {exc.start + 1})") from None
    rows = [line for line in lines if line.strip()]  # blank lines are skipped
    if not rows:
        raise ValueError(f"{file} is empty: no data rows")
    first = [cell.strip() for cell in rows[0].split(",")]
    header = None if all(map(_is_number, first)) else [c.strip("\"'") for c in first]
    body = rows if header is None else rows[1:]
    numbers = _line_numbers(lines, header is not None)
    if len(first) < 2:
        raise ValueError(
            f"{file}, line {numbers(-1 if header else 0)}: 1 column; the data need feature "
            f"columns and a label column{_delimiter_hint(first[0]) or ', separated by commas'}"
        )
    if not body:
        raise ValueError(f"{file} has a header row but no data rows")
    try:
        A = np.loadtxt(body, delimiter=",", comments=None, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        _diagnose_csv(file, body, first, header, numbers)
        raise ValueError(f"{file}: {exc}") from None  # not reached unless NumPy disagrees
    if A.shape[1] != len(first):  # every data row is short or long for the header
        _diagnose_csv(file, body, first, header, numbers)

    def where(row, col=-1):
        return f"line {numbers(row)}, {_column(col % len(first), header)}"

    bad = ~np.isfinite(A)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{file}, {where(row, col)}: {A[row, col]} is not a finite number")
    return np.ascontiguousarray(A[:, :-1]), A[:, -1], where


def _line_numbers(lines, has_header):
    """numbers(i): the 1-based file line of data row i (-1: the header); computed on demand."""

    def numbers(i):
        nonblank = [n + 1 for n, line in enumerate(lines) if line.strip()]
        return nonblank[i + has_header]

    return numbers


def _diagnose_csv(file, body, first, header, numbers):
    """Raise the ValueError of the first ragged row or non-numeric cell of ``body``."""
    for i, row in enumerate(body):
        cells = row.split(",")
        if len(cells) != len(first):
            origin = "in the header" if header else f"on line {numbers(0)}"
            raise ValueError(
                f"{file}, line {numbers(i)}: {len(cells)} cells, expected {len(first)} "
                f"(as {origin})"
            )
        for col, cell in enumerate(cells):
            if not _is_number(cell.strip()):
                what = "empty cell" if not cell.strip() else f"{_short(cell.strip())!r}"
                raise ValueError(
                    f"{file}, line {numbers(i)}, {_column(col, header)}: {what} is not a "
                    f"number{_delimiter_hint(cell)}"
                )


def _parse_npz(file, raw):
    if not raw.startswith(b"PK"):
        raise ValueError(f"{file} is not a NumPy .npz archive (np.savez writes one)")
    try:
        archive = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{file} is not a readable .npz archive: {exc}") from None
    arrays = {}
    with archive:
        for key in ("X", "y"):
            if key not in archive.files:
                raise ValueError(
                    f"{file} has no array {key!r} (it has {_short(str(archive.files), 60)}); "
                    "save the data with np.savez(path, X=features, y=labels)"
                )
            try:
                arrays[key] = archive[key]
            except ValueError:
                raise ValueError(f"{file}: array {key} holds Python objects") from None
    X, y = arrays["X"], arrays["y"]
    for key, a in arrays.items():
        if a.dtype.kind not in "iuf":
            raise ValueError(f"{file}: array {key} has dtype {a.dtype} (shape {a.shape}), "
                             "expected integers or floats")  # fmt: skip
    if X.ndim != 2 or 0 in X.shape:
        raise ValueError(f"{file}: array X has shape {X.shape}, expected (n, n_features)")
    if y.shape != X.shape[:1]:
        raise ValueError(
            f"{file}: array y has shape {y.shape}, expected ({len(X)},): one label per row of X"
        )
    X = X.astype(np.float64)
    for key, a in (("X", X), ("y", y)):
        bad = ~np.isfinite(a)
        if bad.any():
            index = ", ".join(map(str, np.argwhere(bad)[0]))
            raise ValueError(f"{file}: {key}[{index}] is {a[bad][0]}, not a finite number")
    return X, y, lambda i: f"y[{i}]"


def _classes(file, y, where):
    """(y as int64 classes 0..k-1, the file's label of each class or None if unchanged)."""
    if y.dtype.kind == "f":
        bad = (y != np.round(y)) | (np.abs(y) >= 2.0**53)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{file}, {where(i)}: label {y[i]:g} is not an integer")
    values, classes = np.unique(y, return_inverse=True)
    if len(values) < 2:
        raise ValueError(
            f"{file}: all {len(y)} labels are {values[0]:g}; a classifier needs 2 classes or more"
        )
    values = values.astype(np.int64)
    if np.array_equal(values, np.arange(len(values))):
        return classes.astype(np.int64), None
    return classes.astype(np.int64), tuple(int(v) for v in values)


def _is_number(cell):
    """As ``np.loadtxt`` reads it: Python's float syntax without digit underscores."""
    try:
        float(cell)
    except ValueError:
        return False
    return "_" not in cell


def _column(col, header):
    return f"column {col + 1}" + ("" if header is None else f" ({_short(header[col])!r})")


def _delimiter_hint(cell):
    other = "';'" if ";" in cell else "tabs" if "\t" in cell else None
    return f" (cells are separated by commas, not {other})" if other else ""


def _short(text, limit=CELL):
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _values(labels, shown=8):
    """'{1, 2, 5}', or '{1, 2, 3, ..., 98, 99} (40 values)' for many."""
    if len(labels) <= shown:
        return "{" + ", ".join(map(str, labels)) + "}"
    head, tail = ", ".join(map(str, labels[:3])), ", ".join(map(str, labels[-2:]))
    return f"{{{head}, ..., {tail}}} ({len(labels)} values)"
