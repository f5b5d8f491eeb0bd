"""Data sets from files: CSV and NPZ parsing, every bad input's message, identity, training."""

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_mlp_problem import fd_check

from optbench.optimizers import Adam
from optbench.problems import MLP
from optbench.problems import datasets as ds

IRIS = Path(__file__).parents[1] / "docs" / "examples" / "data" / "iris.csv"
HEADER = "a,b,label\n"
ROWS = "0.5,1,0\n2,-3e-1,1\n4.25,5,2\n1,2,0\n3,3,1\n"  # 5 rows, 3 classes


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def error(path):
    """The ValueError message of MLP(dataset=path)."""
    with pytest.raises(ValueError) as info:
        MLP(dataset=path, hidden=(4,), batch_size="full")
    return str(info.value)


# --- reading ---------------------------------------------------------------------------------


def test_csv_with_and_without_header_give_the_same_data(tmp_path):
    plain = ds.load_file(write(tmp_path, ROWS, "plain.csv"))
    spaced = HEADER + "\n" + ROWS.replace(",", " ,  ").replace("\n", " \r\n") + "\n\n"
    headed = ds.load_file(write(tmp_path, "\ufeff" + spaced, "headed.CSV"))  # BOM, CRLF
    for d in (plain, headed):
        np.testing.assert_array_equal(d.X, [[0.5, 1], [2, -0.3], [4.25, 5], [1, 2], [3, 3]])
        np.testing.assert_array_equal(d.y, [0, 1, 2, 0, 1])
        assert d.X.dtype == np.float64 and d.y.dtype == np.int64 and d.labels is None
    assert plain.sha256 != headed.sha256


def test_npz_round_trip_matches_csv(tmp_path):
    csv = ds.load_file(IRIS)
    np.savez(tmp_path / "iris.npz", X=csv.X.astype(np.float32), y=csv.y.astype(np.uint8))
    with open(tmp_path / "iris64.NPZ", "wb") as f:  # np.savez would append ".npz"
        np.savez(f, X=csv.X, y=csv.y, extra=np.zeros(3))  # extra arrays: ignored
    npz = ds.load_file(tmp_path / "iris64.NPZ")
    np.testing.assert_array_equal(npz.X, csv.X)
    np.testing.assert_array_equal(npz.y, csv.y)
    p, q = (MLP(dataset=f, hidden=(4,), batch_size=8) for f in (IRIS, tmp_path / "iris64.NPZ"))
    np.testing.assert_array_equal(p.X_train, q.X_train)
    np.testing.assert_array_equal(p.y_test, q.y_test)
    small = ds.load_file(tmp_path / "iris.npz")
    np.testing.assert_array_equal(small.X, csv.X.astype(np.float32))
    assert small.X.dtype == np.float64 and small.y.dtype == np.int64


def test_iris_example():
    d = ds.load_file(IRIS)
    assert d.X.shape == (150, 4) and np.bincount(d.y).tolist() == [50, 50, 50]
    np.testing.assert_allclose(d.X.mean(axis=0), [5.84333, 3.054, 3.75867, 1.19867], atol=1e-5)
    assert IRIS.stat().st_size < 20_000
    assert d.sha256 == "7b3e4d3006a59de48e65a78aa30f8dedfad71512cf7ebdc3e604a33730b0d2da"


# --- identity --------------------------------------------------------------------------------


def test_config_records_base_name_and_hash_not_folder(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    shutil.copy(IRIS, tmp_path / "a" / "iris.csv")
    monkeypatch.chdir(tmp_path)
    p = MLP(dataset="a/iris.csv", hidden=(8,), batch_size=16)  # relative to the current dir
    assert p.config()["dataset"] == "iris.csv" and p.label == "mlp(iris.csv, 4-8-3, m=16)"
    assert p.data_file == (tmp_path / "a" / "iris.csv").resolve()
    assert p.data_sha256 == p.config()["dataset_sha256"] == ds.load_file(IRIS).sha256
    assert str(tmp_path) not in json.dumps(p.config())
    shutil.move(tmp_path / "a", tmp_path / "b")  # moving the folder keeps the identity
    q = MLP(dataset=tmp_path / "b" / "iris.csv", hidden=(8,), batch_size=16)
    assert q.config() == p.config() and q.data_file != p.data_file
    edited = IRIS.read_text().replace("5.1,3.5,1.4,0.2,0", "5.1,3.5,1.4,0.3,0", 1)
    assert edited != IRIS.read_text()
    (tmp_path / "b" / "iris.csv").write_text(edited)  # one cell changed: a new identity
    r = MLP(dataset=tmp_path / "b" / "iris.csv", hidden=(8,), batch_size=16)
    assert r.config()["dataset_sha256"] != p.config()["dataset_sha256"]
    assert {**r.config(), "dataset_sha256": None} == {**p.config(), "dataset_sha256": None}


def test_built_ins_have_no_file():
    p = MLP(dataset="spiral", hidden=(4,))
    assert p.data_file is None and p.data_sha256 is None
    assert p.config()["dataset"] == "spiral" and "dataset_sha256" not in p.config()


def test_labels_not_0_to_k_minus_1_are_mapped_with_a_warning(tmp_path):
    labels = [5, 1, 2, 5] * 3
    path = write(tmp_path, "x,cls\n" + "".join(f"{i},{c}\n" for i, c in enumerate(labels)))
    with pytest.warns(UserWarning, match=r"data\.csv: labels \{1, 2, 5\} mapped to 0\.\.2"):
        p = MLP(dataset=path, hidden=(4,), batch_size="full")
    assert p.config()["dataset_labels"] == [1, 2, 5] and p.n_classes == 3
    with pytest.warns(UserWarning, match="mapped"):
        d = ds.load_file(path)
    np.testing.assert_array_equal(d.y, [2, 0, 1, 2] * 3)
    assert d.labels == (1, 2, 5)
    many = write(tmp_path, "".join(f"{i},{2 * (i % 40) - 7}\n" for i in range(80)), "m.csv")
    with pytest.warns(UserWarning, match=r"labels \{-7, -5, -3, \.\.\., 69, 71\} \(40 values\)"):
        ds.load_file(many)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # labels 0..k-1: no warning
        assert "dataset_labels" not in MLP(dataset=IRIS, hidden=(4,), batch_size=8).config()


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,label\n1,2,0\n\n1,abc,1\n", r"line 4, column 2 \('b'\): 'abc' is not a number"),
        ("1,2,0\n1,2,0\n3,,1\n", r"line 3, column 2: empty cell is not a number"),
        ("a,b,c\n1,2,0\n1,2,3,4\n", r"line 3: 4 cells, expected 3 \(as in the header\)"),
        ("1,2,0\n\n1,2\n", r"line 3: 2 cells, expected 3 \(as on line 1\)"),
        ("a,b,c,d\n1,2,0\n1,2,3\n", r"line 2: 3 cells, expected 4 \(as in the header\)"),
        ("a,b,c\n1,2,0\nnan,2,1\n", r"line 3, column 1 \('a'\): nan is not a finite number"),
        ("1,2,0\n1,2,0\n1,-inf,1\n", r"line 3, column 2: -inf is not a finite number"),
        ("a,b,y\n1,2,0\n1,2,1.5\n", r"line 3, column 3 \('y'\): label 1.5 is not an integer"),
        ("a,b,y\n1,2,7\n3,4,7\n5,6,7.0\n", r"all 3 labels are 7; a classifier needs 2 classes"),
        ("1\n2\n", r"line 1: 1 column; the data need feature columns and a label column, sep"),
        ("a;b;y\n1;2;0\n", r"line 1: 1 column; .* \(cells are separated by commas, not ';'\)"),
        ("a,b,y\n1\t2,3,0\n", r"line 2, column 1 \('a'\): '1\\t2' is not a number \(.*not tabs"),
        ("\n\n", r"is empty: no data rows"),
        ("a,b,y\n", r"has a header row but no data rows"),
        ("1,2,0\n1,2,0x1\n", r"line 2, column 3: '0x1' is not a number"),
        ("1,2,0\n1,1_0,1\n", r"line 2, column 2: '1_0' is not a number"),
    ],
)
def test_bad_csv_names_file_line_column_and_cause(tmp_path, text, message):
    msg = error(write(tmp_path, text, "bad.csv"))
    assert re.search(r"bad\.csv[,:]? " + message, msg), msg


def test_long_cells_and_non_utf8_are_reported_briefly(tmp_path):
    msg = error(write(tmp_path, "1,2,0\n1," + "x" * 500 + ",1\n"))
    assert "'xxxxxxxxxxxxxxxxx...' is not a number" in msg and len(msg) < 200
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,b,\xe9\n1,2,0\n")
    assert re.search(r"latin\.csv is not UTF-8 text \(byte 5\)", error(path))


def test_too_few_rows_for_the_split_explains_the_numbers(tmp_path):
    path = write(tmp_path, "1,2,0\n1,3,1\n1,4,2\n", "tiny.csv")
    msg = error(path)
    assert "tiny.csv has too few rows for the train/test split" in msg
    assert "test_fraction=0.2 of 3 rows keeps round(0.2 * 3) = 1 test rows and 2 training" in msg
    assert "at least 1 test row and 3 training rows (one per class, 3 classes)" in msg
    assert "= 0 test rows" in error(write(tmp_path, "1,2,0\n1,3,1\n", "two.csv"))
    enough = write(tmp_path, "1,2,0\n1,3,1\n1,4,2\n1,5,0\n")  # 1 test row, 3 training rows
    assert len(MLP(dataset=enough, hidden=(4,), batch_size="full").X_train) == 3
    with pytest.raises(ValueError, match="test_fraction must leave training data"):
        MLP(dataset=IRIS, test_fraction=1.0)  # a bad argument is the argument's error


def npz(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


BIG = np.full((60, 3), 123456.0)  # a distinctive value that must never appear in a message
Y = np.arange(60) % 3


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": BIG}, r"bad\.npz has no array 'y' \(it has \['X'\]\); save the data with np.savez"),
        ({"features": BIG, "y": Y}, r"has no array 'X' \(it has \['features', 'y'\]\)"),
        ({"X": BIG.ravel(), "y": Y}, r"array X has shape \(180,\), expected \(n, n_features\)"),
        ({"X": BIG[:, :0], "y": Y}, r"array X has shape \(60, 0\), expected"),
        ({"X": BIG, "y": Y[:, None]}, r"array y has shape \(60, 1\), expected \(60,\)"),
        ({"X": BIG, "y": Y[:59]}, r"array y has shape \(59,\), expected \(60,\): one label per"),
        ({"X": BIG.astype(str), "y": Y}, r"array X has dtype <U\d+ \(shape \(60, 3\)\), expected"),
        ({"X": BIG, "y": Y > 0}, r"array y has dtype bool \(shape \(60,\)\), expected integers"),
        ({"X": np.where(np.eye(60, 3) > 0, np.nan, BIG), "y": Y}, r"X\[0, 0\] is nan, not a fin"),
        ({"X": BIG, "y": np.where(Y == 2, np.inf, Y)}, r"y\[2\] is inf, not a finite number"),
        ({"X": BIG, "y": Y + 0.25 * (np.arange(60) == 7)}, r"y\[7\]: label 1.25 is not an int"),
        ({"X": BIG, "y": 0 * Y}, r"all 60 labels are 0; a classifier needs 2 classes or more"),
    ],
)
def test_bad_npz_names_the_array_and_its_shape_never_its_contents(tmp_path, arrays, message):
    msg = error(npz(tmp_path, **arrays))
    assert re.search(message, msg), msg
    assert "123456" not in msg and len(msg) < 200


def test_files_that_are_not_npz_archives(tmp_path):
    obj = np.empty(60, dtype=object)
    assert re.search(r"bad\.npz: array X holds Python objects", error(npz(tmp_path, X=obj, y=Y)))
    write(tmp_path, "1,2,0\n", "text.npz")
    assert re.search(r"text\.npz is not a NumPy \.npz archive", error(tmp_path / "text.npz"))
    (tmp_path / "cut.npz").write_bytes(npz(tmp_path, X=BIG, y=Y).read_bytes()[:100])
    assert re.search(r"cut\.npz is not a readable \.npz archive", error(tmp_path / "cut.npz"))


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ("mnist", r"dataset must be one of \['digits', 'spiral'\] or the path of a \.csv or \.np"),
        ("data.txt", r"or the path of a \.csv or \.npz file, got 'data.txt'"),
        (Path("digits"), r"got 'digits'"),
        (np.full((1000, 4), 123456.0), r"got a ndarray$"),
        (None, r"got a NoneType$"),
        ("x" * 500 + ".tsv", r"got 'x{57}\.\.\.'$"),
    ],
)
def test_bad_dataset_values_give_short_messages(dataset, message):
    with pytest.raises(ValueError, match=message) as info:
        MLP(dataset=dataset)
    assert len(str(info.value)) < 200


def test_missing_file(tmp_path):
    msg = error(tmp_path / "nope.csv")
    assert "cannot read dataset file" in msg and "nope.csv" in msg and "No such file" in msg
    (tmp_path / "dir.npz").mkdir()
    assert "cannot read dataset file" in error(tmp_path / "dir.npz")


# --- the MLP on a file -----------------------------------------------------------------------


def test_mlp_trains_on_the_example_csv():
    p = MLP(dataset=str(IRIS), hidden=(16,), batch_size=16)
    params = p.init_params([0, 1, 2])
    before = p.evaluate(params)["train_loss"]
    opt = Adam(params, lr=0.03)
    for _ in range(3 * p.steps_per_epoch):  # 21 steps
        opt.step(p.loss_and_grad(params)[1])
    after = p.evaluate(params)
    assert (after["train_loss"] < 0.3).all() and (before > 0.8).all()
    assert (after["train_acc"] > 0.85).all() and (after["test_acc"] > 0.7).all()  # chance: 1/3


@pytest.mark.parametrize("batch_size", [None, 8])
def test_gradient_on_a_file_dataset_matches_central_differences(tmp_path, batch_size):
    X, y = ds.spiral(points=12, classes=3, seed=0)
    rows = "".join(f"{a:.3f}, {b:.3f}, {2 * c + 1}\n" for (a, b), c in zip(X, y, strict=True))
    with pytest.warns(UserWarning, match=r"labels \{1, 3, 5\} mapped to 0\.\.2"):
        p = MLP(dataset=write(tmp_path, rows), hidden=(5,), batch_size=batch_size)
    params = p.init_params([3, 8])
    for b in params[1::2]:
        b += 0.1 * np.random.default_rng(0).standard_normal(b.shape)
    fd_check(p, [3, 8], params)
