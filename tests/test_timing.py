"""``optbench.reports.timing`` on the JSON of a really run, tiny ``optbench bench``."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from optbench.benchmarks import cli
from optbench.benchmarks.cli.bench import report_comparison, resolve_compare
from optbench.reports.timing import compare_bench, format_table, load_bench, plot_fraction_of_peak

TINY = ["--quick", "--suites", "dense", "gemm", "--shapes", "8,16,4", "--threads", "1"]
TINY += ["--clock", "cpu"]
TINY_K = ["-k", "8x16x4 or float64-1024", "--dtype", "float64"]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """Run ``optbench bench`` on the 8x16x4 dense cases and one 1024^3 GEMM (~3 s)."""
    out = tmp_path_factory.mktemp("bench")
    code = cli.main(["bench", "--out", str(out), *TINY, *TINY_K])
    assert code == 0
    return out


def test_the_run_saved_one_json_with_the_machine_record(bench_run):
    (path,) = (bench_run / "bench").glob("bench-*.json")
    machine = json.loads(path.read_text())["machine_info"]
    assert machine["threads_pinned"] == 1
    assert machine["blas_threads"] == 1
    assert machine["blas"] and machine["blas"][0]["internal_api"]


def test_load_bench_frame(bench_run):
    df = load_bench(bench_run)
    kinds = {"dense_backward", "dense_forward", "two_product_bound", "gemm"}
    assert set(df["kind"]) == kinds
    dense = df[df["kind"] != "gemm"]
    assert len(dense) == 3 * 2  # three kinds x (no run axis, R=4); dtype float64 only
    assert set(dense["shape"]) == {"8x16x4"} and set(dense["dtype"]) == {"float64"}
    assert sorted(dense["runs"].fillna(1)) == [1, 1, 1, 4, 4, 4]
    np.testing.assert_allclose(df["gflops"], df["flops"] / df["time_min"] / 1e9)
    gemm = df[df["kind"] == "gemm"].iloc[0]
    assert gemm["fraction_of_peak"] == pytest.approx(1.0)
    np.testing.assert_allclose(df["fraction_of_peak"], df["gflops"] / gemm["gflops"])
    for _, rows in dense.groupby(dense["runs"].fillna(1)):
        t = rows.set_index("kind")["time_min"]
        ratio = rows.set_index("kind")["ratio_to_bound"]
        assert ratio["dense_backward"] == pytest.approx(
            t["dense_backward"] / t["two_product_bound"]
        )
        assert ratio["two_product_bound"] == pytest.approx(1.0)
        assert np.isnan(ratio["dense_forward"])  # the forward pass has no two-product bound
    assert df.attrs["blas_threads"] == 1 and df.attrs["blas"]
    assert df.attrs["timer"] == "thread_time"


def test_load_bench_without_results(tmp_path):
    assert load_bench(tmp_path) is None
    assert format_table(None) == "No benchmark results."


def test_table_and_figure(bench_run):
    df = load_bench(bench_run)
    text = format_table(df)
    assert "threads: 1 (pinned)" in text
    assert "dense_backward" in text and "GFLOP/s" in text and "x bound" in text
    assert "exceed the measured peak" not in text
    busy = format_table(df.assign(fraction_of_peak=np.where(df["role"] == "peak", 1.0, 1.5)))
    assert f"Note: {(df['role'] != 'peak').sum()} rate(s) exceed the measured peak" in busy
    fig = plot_fraction_of_peak(df)
    titles = ["dense backward", "two product bound", "dense forward", "gemm"]
    assert [ax.get_title(loc="left") for ax in fig.axes] == titles
    bars = [p.get_width() for p in fig.axes[0].patches]
    backward = df[df["kind"] == "dense_backward"]["fraction_of_peak"]
    np.testing.assert_allclose(sorted(bars), sorted(backward))
    plt.close(fig)
    with pytest.raises(ValueError, match="fraction_of_peak"):
        plot_fraction_of_peak(df.assign(fraction_of_peak=np.nan))


def test_comparison_fails_on_a_slowdown(bench_run, tmp_path, capsys):
    (path,) = (bench_run / "bench").glob("bench-*.json")
    data = json.loads(path.read_text())
    for bench in data["benchmarks"]:
        bench["stats"]["min"] *= 1.5 if "backward" in bench["name"] else 1.0
    slower = tmp_path / "bench-slower.json"
    slower.write_text(json.dumps(data))
    table = compare_bench(path, slower)
    assert len(table) == len(data["benchmarks"])
    assert table["change_pct"].iloc[0] == pytest.approx(50.0)
    assert report_comparison(table, fail_pct=49.0) == 1
    assert report_comparison(table, fail_pct=51.0) == 0
    assert "slower by more than 49%" in capsys.readouterr().err


def test_compare_path_resolution(bench_run, tmp_path):
    (path,) = (bench_run / "bench").glob("bench-*.json")
    assert resolve_compare(str(bench_run)) == path  # a results directory: its bench/ subfolder
    assert resolve_compare(str(path.parent)) == path
    assert resolve_compare(str(path)) == path
    with pytest.raises(ValueError, match=r"no bench-\*\.json in"):
        resolve_compare(str(tmp_path))


def test_a_directory_keeps_the_newest_result_of_every_benchmark(bench_run, tmp_path):
    """A later run of one suite replaces only its own benchmarks in the report's table."""
    (path,) = (bench_run / "bench").glob("bench-*.json")
    data = json.loads(path.read_text())
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "bench-20000101-000000-000000.json").write_text(json.dumps(data))
    gemm = [b for b in data["benchmarks"] if "gemm" in b["fullname"]]
    assert gemm and len(gemm) < len(data["benchmarks"])
    for b in gemm:
        b["stats"]["min"] *= 2.0
    newer = {**data, "benchmarks": gemm}
    (tmp_path / "bench" / "bench-20990101-000000-000000.json").write_text(json.dumps(newer))
    df = load_bench(tmp_path)
    assert len(df) == len(data["benchmarks"])  # nothing lost, nothing twice
    old = {b["name"]: b["stats"]["min"] for b in json.loads(path.read_text())["benchmarks"]}
    for _, row in df.iterrows():
        factor = 2.0 if row["kind"] == "gemm" else 1.0
        assert row["time_min"] == pytest.approx(factor * old[row["name"]])
