"""The roofline's ceilings (``optbench.benchmarks.ceilings``): byte counts by hand, kernels that
compute what they claim, each ceiling the maximum over its kernels (a fake clock), and the rule
that a candidate above its ceiling marks the ceiling wrong (table, gate)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optbench.benchmarks import ceilings as C
from optbench.benchmarks.cli.bench import report_comparison
from optbench.benchmarks.environment import cpu_info
from optbench.benchmarks.suites.derived import best_candidates, fill_derived
from optbench.optimizers import _blocks
from optbench.reports.timing import compare_bench, different_cpus, format_table, load_bench


class FakeClock:
    """A clock that each timed call advances by the next of ``durations`` (seconds): the
    first reading of a pair is the start, the second the end."""

    def __init__(self, durations):
        self.durations, self.t, self.calls = iter(durations), 0.0, 0

    def __call__(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:
            self.t += next(self.durations)
        return self.t


def test_bytes_by_hand():
    """Reads + writes, + the write-allocate read of an output that is not an input."""
    by = {(k.name, k.in_place): k.bytes(10, 8) for k in C.STREAMS}
    assert by == {
        ("copy", False): 3 * 80,  # read a, read c's lines, write c
        ("scale", True): 2 * 80,  # read a, write a
        ("scale", False): 3 * 80,
        ("add", True): 3 * 80,  # read a, b, write a
        ("add", False): 4 * 80,  # read a, b, c's lines, write c
        ("triad", True): 3 * 80,
        ("triad", False): 4 * 80,
    }


@pytest.mark.parametrize("threads", [1, 3])
def test_kernels_compute_what_they_claim_in_blocks_and_whole(monkeypatch, threads):
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 7)  # 50 elements: 8 blocks, a short one
    rng = np.random.default_rng(0)
    s = -1.0
    expected = {"copy": lambda a, b: a, "scale": lambda a, b: s * a,
                "add": lambda a, b: a + b, "triad": lambda a, b: a + s * b}  # fmt: skip
    for kernel in C.STREAMS:
        for run in ("whole", "blocks"):
            if run == "whole" and kernel.name == "triad":
                continue
            a, b = rng.standard_normal(50), rng.standard_normal(50)
            c = np.full(50, np.nan)
            want = expected[kernel.name](a, b)
            op = C._ops(kernel, a, b, c, s)
            if run == "whole":
                op(slice(None), None)
            else:
                C.blocked(op, 50, threads, [np.empty(7) for _ in range(threads)])
            np.testing.assert_array_equal(a if kernel.in_place else c, want)


def test_the_memory_ceiling_is_the_best_kernel(monkeypatch):
    ceiling = C.memory_ceiling(1000, "float64", threads=2)
    ceiling.share = 0.0  # one call per kernel and round
    labels = [label for label, _, _ in ceiling.runs]
    assert len(labels) == 19 and len(set(labels)) == 19  # 5 kernels x 3 runs, triad 2 x 2
    assert {"copy, whole", "add in place, blocks, 2 threads", "triad, blocks, 1 thread"} <= set(
        labels
    )
    assert not any(label.startswith("triad") and "whole" in label for label in labels)
    # round 1: kernel i takes (i + 1) ms; round 2: everything 1 s (the minimum must count)
    first = [(i + 1) * 1e-3 for i in range(19)]
    ceiling.sample(2, timer=FakeClock(first + [1.0] * 19))
    work = {label: w for label, w, _ in ceiling.runs}
    rates = {label: work[label] / first[i] for i, label in enumerate(labels)}
    assert ceiling.kernels == pytest.approx(rates)
    assert ceiling.rate == max(rates.values())
    assert ceiling.kernel == max(rates, key=rates.get) == "copy, whole"  # 24 kB in 1 ms
    assert ceiling.rate == pytest.approx(3 * 8000 / 1e-3)
    assert ceiling.samples == 2
    record = ceiling.record()
    assert record["kind"] == "memory" and record["n"] == 1000 and record["dtype"] == "float64"
    json.dumps(record)


def test_the_compute_ceiling_is_the_best_gemm():
    ceiling = C.compute_ceiling("float32", gemms=((8, 8, 8), (16, 4, 2)), threads=1)
    ceiling.share = 0.0
    ceiling.sample(1, timer=FakeClock([1e-3, 1e-5]))
    assert ceiling.kernels == pytest.approx(
        {"gemm 8x8x8, 1 thread": 1024 / 1e-3, "gemm 16x4x2, 1 thread": 256 / 1e-5}
    )
    assert ceiling.kernel == "gemm 16x4x2, 1 thread" and ceiling.rate == pytest.approx(256 / 1e-5)
    both = C.compute_ceiling("float32", gemms=((8, 8, 8),), threads=2)
    assert [label for label, *_ in both.runs] == ["gemm 8x8x8, 2 threads", "gemm 8x8x8, 1 thread"]


def test_short_kernels_are_called_more_often_in_a_round():
    """One call in the first round, then as many as the best time so fits in ``share``."""
    ceiling = C.compute_ceiling("float64", gemms=((8, 8, 8), (4, 4, 4)), threads=1)
    ceiling.share = 0.01
    # first round: 8^3 in 5 ms -> 2 calls in the next, 4^3 in 1 ms -> 10 calls
    clock = FakeClock([5e-3, 1e-3] + [4e-3, 5e-3] + [2e-3] * 9 + [1e-4])
    ceiling.sample(2, timer=clock)
    assert clock.calls == 2 * (1 + 1 + 2 + 10)
    big, small = "gemm 8x8x8, 1 thread", "gemm 4x4x4, 1 thread"
    assert ceiling.calls == {big: 2, small: 50}  # 10 ms / 0.1 ms, capped
    assert ceiling.kernels == pytest.approx({big: 1024 / 4e-3, small: 128 / 1e-4})


def test_beats():
    assert C.beats(2.0, 1.0) and not C.beats(1.0, 1.0) and not C.beats(0.5, 1.0)
    assert not C.beats(None, 1.0) and not C.beats(2.0, None) and not C.beats(np.nan, 1.0)


def _bench(name, t, **info):
    return {"name": name, "fullname": f"bench_x.py::{name}", "stats": {"min": t, "median": t,
            "rounds": 3}, "options": {"timer": "perf_counter"}, "extra_info": info}  # fmt: skip


def _session(n=1000):
    """A fake-clock session: every STREAM kernel 1 ms (the ceiling: 4 arrays in 1 ms), every
    GEMM 1 us (the ceiling: 2 * 16^3 FLOPs in 1 us); two steps, the second too fast."""
    memory = C.memory_ceiling(n, "float64", threads=1)
    memory.share = 0.0
    memory.sample(1, timer=FakeClock([1e-3] * len(memory.runs)))
    compute = C.compute_ceiling("float64", gemms=((16, 16, 16),), threads=1)
    compute.share = 0.0
    compute.sample(1, timer=FakeClock([1e-6]))
    B, P = 4 * n * 8 / 1e-3, 2 * 16**3 / 1e-6
    step = dict(kind="optimizer_step", dtype="float64", n=n, bytes=7 * n * 8, flops=13 * n)
    benches = [
        _bench("test_step[adam]", 7 * n * 8 / B * 2.0, optimizer="adam", **step),  # 2x bound
        _bench("test_step[fast]", 7 * n * 8 / B * 0.8, optimizer="fast", **step),  # beats it
        _bench("test_dense[d]", 8192 / P * 1.25, kind="dense_backward", dtype="float64",
               flops=8192, bytes=16, shape=[4, 4, 4]),
    ]  # fmt: skip
    return benches, [memory.record(), compute.record()], B, P


def test_x_ceiling_and_the_wrong_ceiling_rule():
    benches, records, B, _ = _session()
    fill_derived(benches, records)
    adam, fast, dense = (b["extra_info"] for b in benches)
    assert adam["bound_by"] == "memory" and adam["bound_s"] == pytest.approx(7 * 8000 / B)
    assert adam["x_ceiling"] == pytest.approx(2.0) and adam["ceiling_wrong"] is False
    assert adam["fraction_of_peak"] == pytest.approx(0.5)
    assert fast["x_ceiling"] == pytest.approx(0.8) and fast["ceiling_wrong"] is True
    # the dense case has no n: the largest memory ceiling of its dtype; compute-bound here
    assert dense["bound_by"] == "compute" and dense["x_ceiling"] == pytest.approx(1.25)
    best = best_candidates(benches, records)
    assert best[0]["best_name"] == "test_step[fast]"
    assert best[0]["best_rate"] == pytest.approx(B / 0.8)
    assert best[1]["best_name"] == "test_dense[d]"  # the best FLOP rate under the compute one


def _write(folder, name, benches, records, cpu=None):
    fill_derived(benches, records)
    data = {"datetime": "2026-12-01T12:00:00", "benchmarks": benches,
            "machine_info": {"blas": [{"internal_api": "openblas", "version": "0.3",
                                       "architecture": "SkylakeX"}], "blas_threads": 2,
                             "optbench_cpu": cpu or cpu_info()},
            "optbench": {"ceilings": best_candidates(benches, records)}}  # fmt: skip
    path = folder / f"bench-{name}.json"
    path.write_text(json.dumps(data))
    return path


def test_the_output_says_the_ceiling_is_wrong_and_the_gate_uses_time(tmp_path, capsys):
    benches, records, _, _ = _session()
    old = _write(tmp_path, "1", benches, records)
    df = load_bench(old)
    text = format_table(df)
    assert "CEILING WRONG: 1 candidate(s) beat their ceiling" in text
    assert "bench_x::test_step[fast] ran at 1.25x its memory ceiling" in text
    assert "SkylakeX kernel" in text and "Ceilings of this session" in text
    # a new run: the machine twice as slow for everything (ceilings included), fast 10% slower
    # still; judged on time and x ceiling, only the wrong one (on its time) fails a 50% gate
    slow = json.loads(old.read_text())
    for b in slow["benchmarks"]:
        b["stats"]["min"] *= 2.2 if "fast" in b["name"] else 2.0
        b["extra_info"]["bound_s"] *= 2.0
    new = tmp_path / "bench-2.json"
    new.write_text(json.dumps(slow))
    table = compare_bench(old, new).set_index("name")
    assert table.loc["bench_x::test_step[adam]", "judged"] == "time and x ceiling"
    assert table.loc["bench_x::test_step[adam]", "judged_pct"] == pytest.approx(0.0)
    assert table.loc["bench_x::test_step[adam]", "change_pct"] == pytest.approx(100.0)
    assert table.loc["bench_x::test_step[fast]", "judged"] == "time (ceiling wrong)"
    assert table.loc["bench_x::test_step[fast]", "judged_pct"] == pytest.approx(120.0)
    assert report_comparison(compare_bench(old, new), fail_pct=50.0) == 1
    assert "1 benchmark(s) slower by more than 50%" in capsys.readouterr().err
    # a higher ceiling measured in the new run, adam 20% faster: its x ceiling grows, no slowdown
    faster = json.loads(old.read_text())
    for b in faster["benchmarks"]:
        b["stats"]["min"] *= 0.8
        b["extra_info"]["bound_s"] *= 0.5
    new.write_text(json.dumps(faster))
    table = compare_bench(old, new).set_index("name")
    assert table.loc["bench_x::test_step[adam]", "new_x"] == pytest.approx(2 * 0.8 / 0.5)
    assert table.loc["bench_x::test_step[adam]", "judged_pct"] == pytest.approx(-20.0)
    # the same step, 60% slower on a machine that measured the same ceiling: a slowdown
    slower = json.loads(old.read_text())
    for b in slower["benchmarks"]:
        b["stats"]["min"] *= 1.6
    new.write_text(json.dumps(slower))
    table = compare_bench(old, new).set_index("name")
    assert table.loc["bench_x::test_step[adam]", "judged_pct"] == pytest.approx(60.0)


def test_compare_warns_on_different_cpus(tmp_path, capsys):
    benches, records, _, _ = _session()
    a = _write(tmp_path, "a", benches, records, cpu={"model": "X", "cores": 2})
    b = _write(tmp_path, "b", benches, records, cpu={"model": "Y", "cores": 2})
    assert report_comparison(compare_bench(a, a), fail_pct=10.0) == 0
    assert "different CPUs" not in capsys.readouterr().err
    report_comparison(compare_bench(a, b), fail_pct=10.0)
    assert "the two runs come from different CPUs (X, 2 cores" in capsys.readouterr().err
    assert different_cpus({"model": "X"}, None) is None


CPUINFO = """processor\t: 0
model name\t: Test CPU 9000
physical id\t: 0
core id\t: 0
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw

processor\t: 1
model name\t: Test CPU 9000
physical id\t: 0
core id\t: 1
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw

processor\t: 2
model name\t: Test CPU 9000
physical id\t: 0
core id\t: 1
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw
"""


def test_cpu_info_from_proc_cpuinfo():
    cpu = cpu_info(CPUINFO)
    assert cpu["model"] == "Test CPU 9000"
    assert cpu["vector_extensions"] == ["SSE4.2", "AVX", "AVX2", "FMA", "AVX-512F", "AVX-512BW"]
    assert cpu["cores"] == 2  # two (physical id, core id) pairs; the third is a sibling


def test_the_session_measures_what_its_benchmarks_need_and_again_at_the_end(monkeypatch):
    from itertools import repeat

    from optbench.benchmarks.suites import session

    monkeypatch.setattr(session, "MEMORY_BUDGET", {True: (2, 0.0)})
    monkeypatch.setattr(session, "COMPUTE_BUDGET", {True: (2, 0.0)})
    monkeypatch.setattr(C, "QUICK_GEMMS", ((8, 8, 8),))
    clock = FakeClock(repeat(1e-3))
    ceilings = session.SessionCeilings(quick=True, threads=1, timer=clock)
    ceilings.memory(1000, "float64")  # asked for by a step, before it is timed
    assert ceilings.memory(1000, "float64").samples == 2  # measured once only
    benches = [
        _bench("step", 1.0, dtype="float64", n=1000, bytes=8),
        _bench("dense", 1.0, dtype="float64", flops=8, bytes=8),  # no n
        _bench("step32", 1.0, dtype="float32", flops=8),  # no bytes: no memory ceiling needed
    ]
    records = {(r["kind"], r["dtype"], r["n"]): r for r in ceilings.finish(benches)}
    assert set(records) == {
        ("memory", "float64", 1000),  # measured again at the end
        ("memory", "float32", session.DEFAULT_N[True]),  # the roofline of float32 needs one
        ("compute", "float64", None),
        ("compute", "float32", None),
    }
    assert records[("memory", "float64", 1000)]["samples"] == 4
    assert records[("compute", "float64", None)]["samples"] == 2
    assert records[("compute", "float64", None)]["rate"] == pytest.approx(1024 / 1e-3)


def test_the_torch_comparison_applies_the_same_rule():
    """``compare/torch_optimizers.report`` (no torch needed): x ceiling, CEILING WRONG."""
    from optbench.benchmarks.compare import torch_optimizers as T

    n = 1000
    ceiling = C.Ceiling("memory", "float32", n, kernels={"add in place, whole": 4e9})
    names = [f"optbench {k}" for k in T.OURS]
    names += [f"torch {k} {i}" for k in ("adam", "momentum") for i in T.IMPLS]
    times = {k: [2 * T.ARRAYS[k.split()[1]] * n * 4 / 4e9] for k in names}  # all at 2x
    lines = T.report(n, "float32", ceiling, times)
    assert not any("CEILING WRONG" in line for line in lines)
    assert sum(line.split()[-1] == "2.00" for line in lines) == len(names)
    times["torch adam fused"] = [0.5 * 7 * n * 4 / 4e9]  # twice the ceiling's rate
    lines = T.report(n, "float32", ceiling, times)
    assert "CEILING WRONG: torch adam fused beat the memory ceiling" in "\n".join(lines)


def test_the_suites_gemms_are_kernels_of_the_compute_ceiling(monkeypatch):
    """A square GEMM of bench_gemm that outran the ceiling's rounds raises the ceiling (it is a
    GEMM) and meets it, so it is not a candidate that proves the ceiling wrong; a dense case
    faster than every GEMM still does."""
    from itertools import repeat

    from optbench.benchmarks.suites import session
    from optbench.benchmarks.suites.derived import fill_derived

    monkeypatch.setattr(session, "COMPUTE_BUDGET", {True: (1, 0.0)})
    monkeypatch.setattr(C, "QUICK_GEMMS", ((8, 8, 8),))
    ceilings = session.SessionCeilings(quick=True, threads=1, timer=FakeClock(repeat(1e-3)))
    gemm = _bench("test_gemm[float64-64]", 2 * 64**3 / 2e6, kind="gemm", dtype="float64",
                  flops=2 * 64**3)  # 2e6 FLOP/s: twice the ceiling's 1024 FLOP / 1 ms  # fmt: skip
    dense = _bench("test_dense", 100.0 / 3e6, kind="dense", dtype="float64", flops=100)
    records = ceilings.finish([gemm, dense])
    compute = next(r for r in records if r["kind"] == "compute")
    assert compute["rate"] == pytest.approx(2e6) and compute["kernel"].startswith("test_gemm")
    fill_derived([gemm, dense], records)
    assert gemm["extra_info"]["ceiling_wrong"] is False
    assert gemm["extra_info"]["x_ceiling"] == pytest.approx(1.0)
    assert dense["extra_info"]["ceiling_wrong"] is True  # 3e6 > 2e6: the ceiling is wrong
