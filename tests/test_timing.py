"""``optbench.reports.timing`` on the JSON of a really run, tiny ``optbench bench``."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from optbench.benchmarks import cli
from optbench.benchmarks.cli.bench import report_comparison, resolve_compare
from optbench.reports.roofline import plot_roofline, roofline_ceilings, roofline_points
from optbench.reports.timing import compare_bench, format_table, load_bench

TINY = ["--quick", "--suites", "dense", "gemm", "--shapes", "8,16,4", "--threads", "1"]
TINY += ["--clock", "cpu"]
TINY_K = ["-k", "8x16x4 or float64-1024", "--dtype", "float64"]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """Run ``optbench bench`` on the 8x16x4 dense cases and one 1024^3 GEMM, and the session's
    ceilings (~7 s)."""
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
    assert machine["optbench_cpu"]["model"] and machine["optbench_cpu"]["cores"] >= 1
    assert "architecture" in machine["blas"][0]
    (png,) = (bench_run / "bench").glob("roofline-*.png")  # the figure file, beside the JSON
    assert png.stem.removeprefix("roofline-") == path.stem.removeprefix("bench-")


def test_the_session_measured_its_ceilings(bench_run):
    """--clock cpu: 1-thread ceilings; the compute one of float64, and a memory one for the
    roofline (no step was timed: the default quick size), each with the best candidate."""
    (path,) = (bench_run / "bench").glob("bench-*.json")
    ceilings = json.loads(path.read_text())["optbench"]["ceilings"]
    kinds = {(c["kind"], c["dtype"], c["n"]) for c in ceilings}
    assert kinds == {("compute", "float64", None), ("memory", "float64", 1_000_000)}
    for c in ceilings:
        assert c["rate"] == max(c["kernels"].values()) and c["kernel"] in c["kernels"]
        assert all("2 threads" not in k for k in c["kernels"])
    compute = next(c for c in ceilings if c["kind"] == "compute")
    assert compute["best_name"] and compute["best_rate"] > 0


def test_load_bench_frame(bench_run):
    df = load_bench(bench_run)
    kinds = {"dense_backward", "dense_forward", "two_product_bound", "gemm"}
    assert set(df["kind"]) == kinds
    dense = df[df["kind"] != "gemm"]
    assert len(dense) == 3 * 2  # three kinds x (no run axis, R=4); dtype float64 only
    assert set(dense["shape"]) == {"8x16x4"} and set(dense["dtype"]) == {"float64"}
    assert sorted(dense["runs"].fillna(1)) == [1, 1, 1, 4, 4, 4]
    np.testing.assert_allclose(df["gflops"], df["flops"] / df["time_min"] / 1e9)
    np.testing.assert_allclose(df["gbps"], df["bytes"] / df["time_min"] / 1e9)
    np.testing.assert_allclose(df["x_ceiling"], df["time_min"] / df["bound_s"])
    np.testing.assert_allclose(df["fraction_of_peak"], 1 / df["x_ceiling"])
    assert (df["ceiling_wrong"] == (df["x_ceiling"] < 1)).all()
    assert set(df.loc[df["kind"] == "gemm", "bound_by"]) == {"compute"}
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


def test_table_and_roofline(bench_run):
    df = load_bench(bench_run)
    text = format_table(df)
    assert "threads: 1 (pinned)" in text and "CPU: " in text
    assert "dense_backward" in text and "GFLOP/s" in text and "x ceiling" in text
    assert "Ceilings of this session" in text
    points = roofline_points(df)
    assert len(points) == len(df)  # every kernel here has FLOPs and bytes
    np.testing.assert_allclose(points["intensity"], (df["flops"] / df["bytes"]).to_numpy())
    np.testing.assert_allclose(points["gflops"], df["gflops"].to_numpy())
    ceilings = roofline_ceilings(df)
    assert set(ceilings["kind"]) == {"memory", "compute"}
    fig = plot_roofline(df)
    (ax,) = fig.axes
    assert ax.get_xscale() == ax.get_yscale() == "log" and ax.get_title(loc="left") == "float64"
    drawn = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_allclose(
        sorted(map(tuple, drawn)), sorted(zip(points["intensity"], points["gflops"], strict=True))
    )
    peak = ceilings.loc[ceilings["kind"] == "compute", "rate"].item()
    bandwidth = ceilings.loc[ceilings["kind"] == "memory", "rate"].item()
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["compute ceiling"].get_ydata()[0] == pytest.approx(peak)
    x, y = lines["memory ceiling, n = 1e+06"].get_data()
    np.testing.assert_allclose(y, np.minimum(x * bandwidth, peak))  # the roof: min(P, I B)
    plt.close(fig)


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
