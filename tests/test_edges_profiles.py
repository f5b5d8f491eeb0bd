"""Grid edges (reports.edges), performance profiles and AlgoPerf scores (reports.profiles),
computed by hand on small tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from optbench.reports.edges import edge_labels, edge_table, numeric_leaves, with_edges
from optbench.reports.profiles import (
    algoperf_score,
    headline_scores,
    profile,
    profile_scores,
    profile_table,
    ratios,
    step_costs,
)

INF = float("inf")


def setting(problem, method, lr, betas=(0.9, 0.999), nesterov=False):
    hparams = {"lr": lr, "betas": list(betas), "eps": 1e-8, "nesterov": nesterov,
               "convention": "torch", "schedule": None}  # fmt: skip
    return {"problem": problem, "method": method, "setting": f"lr={lr}, betas={betas}",
            "lr": lr, "hparams": json.dumps(hparams)}  # fmt: skip


def test_numeric_leaves_split_pairs_and_schedules_and_skip_flags():
    leaves = numeric_leaves({"lr": {"schedule": "cosine", "peak_value": 0.1}, "betas": [0.9, 1],
                             "amsgrad": True, "eps": None, "name": "x"})  # fmt: skip
    assert leaves == {"lr.peak_value": 0.1, "betas[0]": 0.9, "betas[1]": 1.0}


def test_edges_low_high_interior_pair_component_and_single_value():
    rows = [
        # "high": lr at the largest of three, betas[0] at the largest of two; betas[1], eps,
        # nesterov (a bool that varies) never flagged
        setting("P", "high", 0.1), setting("P", "high", 1.0, nesterov=True),
        setting("P", "high", 10.0, betas=(0.95, 0.999)),
        # "interior": lr = 1 between 0.1 and 10
        *(setting("P", "interior", lr) for lr in (0.1, 1.0, 10.0)),
        # "low": lr at the smallest
        setting("P", "low", 1e-5), setting("P", "low", 1e-3),
        # "single": one setting, nothing varies
        setting("P", "single", 0.5),
    ]  # fmt: skip
    settings = pd.DataFrame(rows)
    tuned = settings.iloc[[2, 4, 6, 8]]
    edges = edge_table(settings, tuned)
    got = {(r.method, r.hparam): (r.side, r.value, r.lo, r.hi, r.tried) for r in edges.itertuples()}
    assert got == {
        ("high", "lr"): ("high", 10.0, 0.1, 10.0, 3),
        ("high", "betas[0]"): ("high", 0.95, 0.9, 0.95, 2),
        ("low", "lr"): ("low", 1e-5, 1e-5, 1e-3, 2),
    }
    labels = edge_labels(edges)
    assert labels[("P", "high")] == "edge: lr at max 10; betas[0] at max 0.95"
    assert labels[("P", "low")] == "edge: lr at min 1e-05"
    summary = pd.DataFrame({"problem": "P", "method": ["high", "interior", "low", "single"]})
    assert with_edges(summary, edges)["edge"].tolist() == [
        "edge: lr at max 10; betas[0] at max 0.95",
        "",
        "edge: lr at min 1e-05",
        "",
    ]


def tuned_runs(steps: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``{(problem, method): {target: [step per seed]}}`` -> (at_tuned, targets); NaN = never
    reached; a ``None`` list leaves out the run's rows (a run without a row never reached it)."""
    runs, hits = [], []
    for (problem, method), levels in steps.items():
        seeds = len(next(v for v in levels.values() if v is not None))
        for seed in range(seeds):
            run_id = f"{problem}-{method}-{seed}"
            runs.append({"run_id": run_id, "problem": problem, "method": method, "seed": seed,
                         "objective_kind": "suboptimality"})  # fmt: skip
            for target, values in levels.items():
                if values is not None:
                    hits.append({"run_id": run_id, "target": target, "step": values[seed]})
    return pd.DataFrame(runs), pd.DataFrame(hits)


NAN = float("nan")
SMALL = {
    # level 1e-2: p1 a 10, b median(20, 20, never) = 20, c median(never, never, 5) = inf;
    # p2 a = b = 30 (a tie), c 45; p3 nobody: left out. Level 1e-4: only a reaches p1.
    ("p1", "a"): {1e-2: [10, 10, 10], 1e-4: [50, 50, 50]},
    ("p1", "b"): {1e-2: [20, 20, NAN], 1e-4: [NAN, NAN, NAN]},
    ("p1", "c"): {1e-2: [NAN, NAN, 5], 1e-4: None},
    ("p2", "a"): {1e-2: [30, 30, 30], 1e-4: [NAN, NAN, NAN]},
    ("p2", "b"): {1e-2: [30, 30, 30], 1e-4: [NAN, NAN, NAN]},
    ("p2", "c"): {1e-2: [45, 40, 50], 1e-4: [NAN, NAN, NAN]},
    ("p3", "a"): {1e-2: [NAN] * 3, 1e-4: [NAN] * 3},
    ("p3", "b"): {1e-2: [NAN] * 3, 1e-4: [NAN] * 3},
    ("p3", "c"): {1e-2: [NAN] * 3, 1e-4: [NAN] * 3},
}


def test_profiles_and_scores_by_hand():
    costs = step_costs(*tuned_runs(SMALL))
    assert costs.loc[(1e-2, "p1")].tolist() == [10, 20, INF]
    assert costs.loc[(1e-2, "p2")].tolist() == [30, 30, 45]
    assert costs.loc[(1e-4, "p1")].tolist() == [50, INF, INF]  # c: no rows at all
    r = ratios(costs)
    assert list(r.index) == [(1e-2, "p1"), (1e-2, "p2"), (1e-4, "p1")]  # p3 left out
    assert r.loc[(1e-2, "p1")].tolist() == [1, 2, INF]
    assert r.loc[(1e-2, "p2")].tolist() == [1, 1, 1.5]
    level = r.xs(1e-2, level="target")
    tau = np.array([1.0, 1.4, 1.5, 2.0, 3.9, 100.0])
    np.testing.assert_array_equal(profile(level["a"], tau), [1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(profile(level["b"], tau), [0.5, 0.5, 0.5, 1, 1, 1])
    np.testing.assert_array_equal(profile(level["c"], tau), [0, 0, 0.5, 0.5, 0.5, 0.5])
    scores = profile_scores(r)
    # b: rho = 1/2 on [1, 2), 1 on [2, 4]: (1/2 * 1 + 1 * 2) / 3; c: 1/2 on [1.5, 4]: 1.25 / 3
    assert scores.loc[1e-2, ["a", "b", "c"]].tolist() == pytest.approx([1.0, 2.5 / 3, 1.25 / 3])
    assert scores.loc[1e-2, "problems"] == 2 and scores.loc[1e-4, "problems"] == 1
    assert scores.loc[1e-4, ["a", "b", "c"]].tolist() == [1.0, 0.0, 0.0]
    headline = headline_scores(scores)
    assert headline.tolist() == pytest.approx([1.0, 2.5 / 6, 1.25 / 6])
    tidy = profile_table(costs)
    assert not tidy.loc[tidy["problem"] == "p3", "included"].any()
    assert len(tidy) == 2 * 3 * 3


def test_algoperf_score_is_the_exact_integral_of_the_step_profile():
    r = np.array([1.0, 1.0, 1.7, 3.2, 4.0, 9.0, INF])
    # by hand: (3 + 3 + 2.3 + 0.8 + 0 + 0 + 0) / 7 / 3
    assert algoperf_score(r) == pytest.approx(9.1 / 21)
    tau = np.linspace(1.0, 4.0, 300_001)
    riemann = profile(r, tau).mean()  # the mean of rho over [1, 4] = the normalized integral
    assert algoperf_score(r) == pytest.approx(riemann, abs=1e-4)
    assert algoperf_score(np.ones(3)) == 1.0 and algoperf_score(np.full(2, INF)) == 0.0


def test_edge_sentences_name_the_side_and_the_values_tried():
    from optbench.reports.edges import edge_sentences

    rows = [setting("P", "adagrad", lr) for lr in (0.01, 0.1, 10.0)]
    settings = pd.DataFrame(rows)
    text = edge_sentences(edge_table(settings, settings.iloc[[2]]))
    assert text == ["P: adagrad's tuned lr = 10 is the largest of the 3 values tried (high edge)."]
