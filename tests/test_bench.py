"""``optbench bench``: argument validation, the suites' derived numbers and correctness checks."""

from __future__ import annotations

import numpy as np
import pytest

from optbench.benchmarks import cli
from optbench.benchmarks.suites import conftest, parse_shapes
from optbench.benchmarks.suites.bench_dense import (
    DenseCase,
    check_dense_backward,
    check_dense_forward,
    dense_flops,
    make_case,
    make_layer,
)
from optbench.benchmarks.suites.derived import fill_derived


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shapes", "8,16"], "'8,16' is not 'm,n_in,n_out'"),
        (["--shapes", "8,0,4"], "'8,0,4' is not 'm,n_in,n_out'"),
        (["--shapes", "8,a,4"], "'8,a,4' is not 'm,n_in,n_out'"),
        (["--shapes", "100000,100000,10"], "at most 268,435,456 allowed"),
        (["--dtype", "float16"], "invalid choice: 'float16'"),
        (["--threads", "0"], "--threads: must be a positive integer, got '0'"),
        (["--threads", "two"], "--threads: must be a positive integer, got 'two'"),
        (["--compare-fail", "-3", "--compare", "."], "must be a percentage >= 0"),
        (["--suites", "nope"], "--suites: unknown ['nope']"),
        (["--compare", "/no/such/file.json"], "--compare: /no/such/file.json does not exist"),
        (["--compare-fail", "5"], "--compare-fail needs --compare PATH"),
        (["--clock", "cpu"], "--clock cpu needs --threads 1"),
        (["--clock", "gpu"], "invalid choice: 'gpu'"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(argv, message, tmp_path, capsys):
    try:
        code = cli.main(["bench", "--out", str(tmp_path), *argv])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "bench").exists()  # rejected before any work


def test_parse_shapes():
    assert parse_shapes("8,16,4  32,64,8") == [(8, 16, 4), (32, 64, 8)]
    assert parse_shapes("") == []
    with pytest.raises(ValueError, match="'1,2,3,4' is not"):
        parse_shapes("1,2,3,4")


def test_dense_flops_by_hand():
    case = make_case((2, 3, 5), "float64", runs=4)
    # forward: 2*3*5 multiply-adds = 60 FLOPs + 10 bias adds; backward: 2 products + 10 adds.
    assert dense_flops(case, "dense_forward") == 4 * 70
    assert dense_flops(case, "dense_backward") == 4 * 130
    assert dense_flops(case, "two_product_bound") == 4 * 120


def _bench(name, t_min, **info):
    return {"name": name, "stats": {"min": t_min}, "extra_info": info}


def test_fill_derived_against_hand_values():
    ceilings = [
        {"kind": "compute", "dtype": "float64", "n": None, "rate": 200e9},
        {"kind": "compute", "dtype": "float32", "n": None, "rate": 400e9},
        {"kind": "memory", "dtype": "float64", "n": 1000, "rate": 10e9},
        {"kind": "memory", "dtype": "float64", "n": 10, "rate": 50e9},
    ]
    benches = [
        _bench("gemm", 0.02, dtype="float64", flops=2e9, bytes=1e6),  # 100 GFLOP/s
        _bench("gemm32", 0.02, dtype="float32", flops=2e9),  # other dtype
        _bench("dense", 0.01, dtype="float64", flops=1e9, bound_key="k"),
        _bench("bound", 0.008, role="bound", dtype="float64", flops=8e8, bound_key="k"),
        _bench("step", 0.5, dtype="float64", n=1000, bytes=1e9, flops=1e8),  # 2 GB/s
        _bench("stream", 1e-6, dtype="float64", bytes=1e4),  # no n: the largest B, 50 GB/s
        _bench("odd", 0.5, dtype="float16", bytes=1e9),  # no ceiling of its dtype
    ]
    fill_derived(benches, ceilings)
    info = {b["name"]: b["extra_info"] for b in benches}
    assert info["gemm"]["gflops"] == pytest.approx(100.0) and info["gemm"]["gbps"] == 0.05
    assert info["gemm"]["bound_s"] == pytest.approx(0.01)  # 2e9 / 200e9 > 1e6 / 50e9
    assert info["gemm"]["bound_by"] == "compute" and info["gemm"]["x_ceiling"] == pytest.approx(2)
    assert info["gemm"]["fraction_of_peak"] == pytest.approx(0.5)
    assert info["gemm32"]["x_ceiling"] == pytest.approx(0.02 / (2e9 / 400e9))
    assert info["dense"]["ratio_to_bound"] == pytest.approx(1.25)
    assert info["bound"]["ratio_to_bound"] == pytest.approx(1.0)
    assert info["step"]["gbps"] == pytest.approx(2.0) and info["step"]["bound_by"] == "memory"
    assert info["step"]["x_ceiling"] == pytest.approx(5.0)  # 0.5 s / (1e9 B / 10 GB/s)
    assert info["stream"]["bound_s"] == pytest.approx(1e4 / 50e9)
    assert info["stream"]["x_ceiling"] == pytest.approx(5.0)
    assert "x_ceiling" not in info["odd"] and "bound_s" not in info["odd"]
    assert not any(i.get("ceiling_wrong") for i in info.values())


def test_failed_cases_are_left_out_of_the_json(monkeypatch):
    monkeypatch.setattr(conftest, "FAILED", set())
    for nodeid, failed in (("bench_x.py::test_a", True), ("bench_x.py::test_b", False)):
        report = type("Report", (), {"nodeid": nodeid, "failed": failed})
        conftest.pytest_runtest_logreport(report)
    output = {"benchmarks": [_bench("a", 1.0), _bench("b", 1.0)]}
    for b in output["benchmarks"]:
        b["fullname"] = f"bench_x.py::test_{b['name']}"
    conftest.pytest_benchmark_update_json(None, [], output)
    assert [b["name"] for b in output["benchmarks"]] == ["b"]
    assert output["optbench"]["failed"] == ["bench_x.py::test_a"]


class SeedDense:
    """The seed's Layer_Dense (forward/backward as in the seed document), batched by ``@``."""

    def __init__(self, W, b, X):
        self.weights, self.biases, self.inputs = W, b, X

    def backward(self, dZ):
        self.dweights = np.swapaxes(self.inputs, -1, -2) @ dZ
        self.dbiases = np.sum(dZ, axis=-2, keepdims=True)
        return dZ @ np.swapaxes(self.weights, -1, -2)


class MeanBias(SeedDense):
    def backward(self, dZ):
        dX = super().backward(dZ)
        self.dbiases = self.dbiases / dZ.shape[-2]
        return dX


class NoTranspose(SeedDense):
    def backward(self, dZ):
        dX = super().backward(dZ)
        self.dweights = np.swapaxes(dZ, -1, -2) @ self.inputs
        return dX


class ShiftedDX(SeedDense):
    def backward(self, dZ):
        dX = super().backward(dZ)
        return dX + 1e-3 * np.abs(dX).max()


@pytest.mark.parametrize("runs", [None, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_check_accepts_the_right_backward_and_rejects_wrong_ones(runs, dtype):
    case = make_case((6, 5, 5), dtype, runs, seed=1)  # square W: a missing transpose fits

    def run(cls):
        layer = cls(case.W, case.b, case.X)
        dX = layer.backward(case.dZ)
        check_dense_backward(case, layer.dweights, layer.dbiases, dX)

    run(SeedDense)
    for wrong, name in ((MeanBias, "db"), (NoTranspose, "dW"), (ShiftedDX, "dX")):
        with pytest.raises(AssertionError, match=name):
            run(wrong)


def test_check_rejects_a_wrong_shape():
    case = make_case((4, 3, 2), "float64", None)
    layer = SeedDense(case.W, case.b, case.X)
    dX = layer.backward(case.dZ)
    with pytest.raises(AssertionError, match=r"db: shape \(2,\)"):
        check_dense_backward(case, layer.dweights, layer.dbiases.ravel(), dX)


@pytest.mark.parametrize("runs", [None, 2])
def test_problems_dense_passes_the_checks(runs):
    case: DenseCase = make_case((5, 4, 3), "float64", runs, seed=2)
    layer = make_layer(case)
    check_dense_forward(layer.forward(case.X), case)
    dX = layer.backward(case.dZ)
    check_dense_backward(case, layer.dweights, layer.dbiases, dX)


def test_report_is_rebuilt_only_next_to_a_store(tmp_path, monkeypatch, capsys):
    from optbench import reports
    from optbench.benchmarks.cli.bench import refresh_report

    built = []
    monkeypatch.setattr(
        reports, "build_report", lambda out, **_: built.append(out) or out / "r.html"
    )
    refresh_report(tmp_path, skip=False)  # no store: only a hint
    (tmp_path / "optbench.sqlite").touch()
    refresh_report(tmp_path, skip=True)  # --quick or --no-report
    assert built == []
    assert capsys.readouterr().out.count("`optbench report --out") == 2
    refresh_report(tmp_path, skip=False)
    assert built == [tmp_path]
