"""The fair protocol: held-out tuning seeds (``runs.role``), quasi-random search, the tuning
rule's floor and tie-break, and what the harness and the report make of them."""

import json
import math
import sqlite3
import statistics
import tomllib

import numpy as np
import pandas as pd
import pytest

from optbench.benchmarks import matrix as mx
from optbench.benchmarks import plan, tuning
from optbench.benchmarks.harness import run_matrix
from optbench.reports import load_results
from optbench.reports.budget import best_of_k, budget_table
from optbench.reports.tables import Tuning

HELD_OUT = """
seeds = [0, 1, 2]
tuning = { seeds = [10, 11] }
budget = { steps = 60 }
[[optimizers]]
name = "sgd"
lr = [0.01, 0.1, 1.0, 3.0]
[[optimizers]]
name = "adam"
search = { trials = 5 }
lr = { loguniform = [1e-3, 1.0] }
[[problems]]
name = "quadratic"
dim = 5
condition_number = 10.0
start = "random"
"""


def parse(text):
    return mx.parse(tomllib.loads(text), source=text)


def error(text):
    with pytest.raises(mx.MatrixError) as info:
        parse(text)
    return str(info.value)


# --- the matrix ------------------------------------------------------------------------------


def test_tuning_seeds_must_be_disjoint_from_the_evaluation_seeds():
    text = HELD_OUT.replace("seeds = [10, 11]", "seeds = [2, 11]")
    assert "tuning.seeds: must be disjoint" in error(text) and "[2]" in error(text)
    assert "tuning.seeds: give the seeds" in error(HELD_OUT.replace("seeds = [10, 11]", ""))
    assert "tuning: unknown key 'trials'" in error(HELD_OUT.replace("seeds = [10, 11]", "trials=1"))
    assert parse(HELD_OUT).tuning_seeds == (10, 11) and parse(HELD_OUT).held_out


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("lr = { logspace = [1e-3, 1.0], num = 3 }", "in a search, give {loguniform"),
        ("lr = { loguniform = [0.0, 1.0] }", "loguniform: bounds must be > 0"),
        ("lr = { uniform = [1.0, 0.5] }", "uniform: need a < b"),
        ("lr = 0.1", "search: nothing to search"),
        ("betas = { uniform = [0.5, 0.9] }", "uniform needs a number-valued hyperparameter"),
        ("amsgrad = { uniform = [0.0, 1.0] }", "needs a number-valued hyperparameter"),
    ],
)
def test_search_errors_name_the_key(table, message):
    text = HELD_OUT.replace("lr = { loguniform = [1e-3, 1.0] }", table)
    assert message in error(text)


def test_search_table_errors():
    assert "search.trials: an integer from 1" in error(HELD_OUT.replace("trials = 5", "trials = 0"))
    assert "search.seed: an integer >= 0" in error(
        HELD_OUT.replace("trials = 5", "trials=5, seed=-1")
    )


def test_an_optimizer_table_can_be_restricted_to_some_problems():
    text = HELD_OUT + '[[problems]]\nname = "rosenbrock"\n'
    only = text.replace(
        'name = "sgd"\n', 'name = "sgd"\nproblems = [{name = "quadratic", dim = 5}]\n'
    )
    runs = plan.expand(parse(only), "t")
    sgd = {r.problem.name for r in runs if r.optimizer == "sgd"}
    adam = {r.problem.name for r in runs if r.optimizer == "adam"}
    assert sgd == {"quadratic"} and adam == {"quadratic", "rosenbrock"}
    by_name = text.replace('name = "sgd"\n', 'name = "sgd"\nproblems = ["rosenbrock"]\n')
    assert {r.problem.name for r in plan.expand(parse(by_name), "t") if r.optimizer == "sgd"} == {
        "rosenbrock"
    }
    none = text.replace(
        'name = "sgd"\n', 'name = "sgd"\nproblems = [{name = "quadratic", dim = 6}]\n'
    )
    assert "matches none of the matrix's problems" in error(none)


# --- quasi-random search ---------------------------------------------------------------------


def test_search_trials_map_halton_points_by_the_documented_formulas():
    from scipy.stats import qmc

    space = "eps = { uniform = [1e-8, 1e-6] }\namsgrad = [false, true]"
    lr = "lr = { loguniform = [1e-3, 1.0] }"
    text = HELD_OUT.replace(lr, f"{lr}\n{space}")
    entry = parse(text).optimizers[1]
    u = qmc.Halton(d=3, scramble=True, rng=0).random(5)  # lr, eps, amsgrad: signature order
    for (trial, hp), (a, b, c) in zip(entry.settings(), u, strict=True):
        assert trial >= 1
        assert hp["lr"] == pytest.approx(10 ** (-3 + 3 * a), rel=1e-9)
        assert hp["eps"] == pytest.approx(1e-8 + b * (1e-6 - 1e-8), rel=1e-9)
        assert hp["amsgrad"] is bool(c >= 0.5)
    assert [t for t, _ in entry.settings()] == [1, 2, 3, 4, 5]


def test_search_is_reproducible_and_a_longer_search_extends_a_shorter_one():
    first = plan.expand(parse(HELD_OUT), "t")
    again = plan.expand(parse(HELD_OUT), "t")
    assert [r.run_id for r in first] == [r.run_id for r in again]
    longer = plan.expand(parse(HELD_OUT.replace("trials = 5", "trials = 9")), "t")
    ids = {r.run_id for r in longer}
    assert {r.run_id for r in first} <= ids  # the first 5 trials are the same runs
    other_seed = plan.expand(parse(HELD_OUT.replace("trials = 5", "trials = 5, seed = 1")), "t")
    adam = {r.run_id for r in first if r.optimizer == "adam" and r.trial}
    assert not adam & {r.run_id for r in other_seed}
    # the scrambled Halton sequence of scipy: a change of its stream would change every run id
    lr = [r.hparams["lr"] for r in first if r.optimizer == "adam" and r.trial and r.seed == 10]
    assert lr[0] == 0.1323349346, lr


# --- roles -----------------------------------------------------------------------------------


def test_held_out_expansion_runs_every_setting_on_the_tuning_seeds_only():
    runs = plan.expand(parse(HELD_OUT), "t")
    tune = [r for r in runs if r.role == "tune"]
    assert {r.seed for r in tune} == {10, 11}
    assert len(tune) == (4 + 5) * 2  # sgd's 4 lr, adam's 5 trials
    assert all(r.config["role"] == "tune" for r in tune)
    defaults = [r for r in runs if r.role == "eval"]  # the search's trial 0, on the eval seeds
    assert {r.seed for r in defaults} == {0, 1, 2} and {r.trial for r in defaults} == {0}
    assert {r.setting for r in defaults} == {"defaults"} and all(not r.hparams for r in defaults)
    plain = plan.expand(parse(HELD_OUT.replace("tuning = { seeds = [10, 11] }", "")), "t")
    assert all(r.role == "eval" and "role" not in r.config for r in plain)
    assert {r.seed for r in plain} == {0, 1, 2}


@pytest.fixture(scope="module")
def held_out_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("held_out")
    m = parse(HELD_OUT)
    outcome = run_matrix(m, plan.expand(m, "t"), out, jobs=1)
    return m, out, outcome


def _rows(out):
    con = sqlite3.connect(out / "optbench.sqlite")
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM runs")]
    con.close()
    return rows


def test_the_tuned_setting_is_chosen_on_the_tuning_seeds_and_run_on_the_evaluation_seeds(
    held_out_store,
):
    _, out, outcome = held_out_store
    rows = _rows(out)
    assert not outcome.failures and not outcome.interrupted
    assert outcome.kept == outcome.planned == len(rows)
    sgd = [r for r in rows if r["optimizer"] == "sgd"]
    tune = [r for r in sgd if r["role"] == "tune"]
    assert {r["seed"] for r in tune} == {10, 11} and len({r["setting"] for r in tune}) == 4

    # the rule by hand: smallest median final suboptimality (diverged = inf, floored at 1e-14),
    # then fewer diverged seeds, then fewer median steps to the smallest target, then lower lr
    def key(setting):
        mine = [r for r in tune if r["setting"] == setting]
        obj = [math.inf if r["status"] == "diverged" else r["final_subopt"] for r in mine]
        steps = [math.inf if r["steps_to_target"] is None else r["steps_to_target"] for r in mine]
        diverged = sum(r["status"] == "diverged" for r in mine)
        return (
            max(statistics.median(obj), 1e-14),
            diverged,
            statistics.median(steps),
            mine[0]["lr"],
        )

    best = min({r["setting"] for r in tune}, key=key)
    evaluated = [r for r in sgd if r["role"] == "eval"]
    assert {r["setting"] for r in evaluated} == {best}
    assert sorted(r["seed"] for r in evaluated) == [0, 1, 2]
    # an evaluation run's config is that of a matrix without tuning: the same run
    plain = plan.expand(parse(HELD_OUT.replace("tuning = { seeds = [10, 11] }", "")), "t")
    assert {r["run_id"] for r in evaluated} <= {r.run_id for r in plain}


def test_a_search_evaluates_its_best_of_k_settings_and_its_defaults(held_out_store):
    _, out, _ = held_out_store
    adam = [r for r in _rows(out) if r["optimizer"] == "adam"]
    tune = [r for r in adam if r["role"] == "tune"]
    assert sorted({r["trial"] for r in tune}) == [1, 2, 3, 4, 5]
    evaluated = [r for r in adam if r["role"] == "eval"]
    assert {r["trial"] for r in evaluated if r["setting"] == "defaults"} == {0}
    # the records of the trial order (a setting better than every earlier one) are evaluated
    med = {}
    for r in tune:
        med.setdefault(r["trial"], []).append(r["final_subopt"])
    records, best = [], math.inf
    for trial in sorted(med):
        value = max(statistics.median(med[trial]), 1e-14)
        if value < best:
            records.append(trial)
            best = value
    got = sorted({r["trial"] for r in evaluated} - {0})
    assert set(records) <= set(got) and all(r["seed"] in (0, 1, 2) for r in evaluated)


def test_a_rerun_chooses_the_same_and_runs_nothing(held_out_store):
    m, out, first = held_out_store
    again = run_matrix(m, plan.expand(m, "t"), out, jobs=1)
    assert again.written == 0 and again.planned == first.planned == again.kept


def test_the_report_tunes_on_the_tuning_runs_and_shows_the_evaluation_runs(held_out_store):
    _, out, _ = held_out_store
    runs = load_results(out)
    t = Tuning.of(runs)
    assert t.held_out
    assert set(t.settings["seeds"]) == {2}  # every setting seen on the two tuning seeds
    assert set(t.at_tuned["role"]) == {"eval"} and set(t.at_tuned["seed"]) == {0, 1, 2}
    assert len(t.at_tuned) == 2 * 3  # one setting per optimizer, three seeds
    budget = budget_table(t).set_index("method")
    assert budget.loc["sgd", "search"] == "grid" and budget.loc["sgd", "settings"] == "4"
    assert (
        budget.loc["adam", "search"] == "quasi-random" and budget.loc["adam", "tuning_runs"] == 10
    )
    curve = best_of_k(t)
    assert list(curve["k"]) == [0, 1, 2, 3, 4, 5]
    assert curve["eval_median"].notna().all()  # every pick was evaluated
    assert (
        curve.loc[curve["k"] == 5, "setting"].item()
        == t.tuned.set_index("method").loc["adam", "setting"]
    )


def test_without_tuning_the_report_tunes_and_reports_on_the_same_runs(tmp_path):
    m = parse(
        HELD_OUT.replace("tuning = { seeds = [10, 11] }", "").replace("trials = 5", "trials = 2")
    )
    run_matrix(m, plan.expand(m, "t"), tmp_path, jobs=1)
    t = Tuning.of(load_results(tmp_path))
    assert not t.held_out
    assert "defaults" not in set(t.settings["setting"])  # trial 0 is never a candidate
    assert set(t.at_tuned["seed"]) == {0, 1, 2}


# --- the rule --------------------------------------------------------------------------------


def _settings(rows):
    frame = pd.DataFrame(rows, columns=["problem", "method", "setting", "lr", "seed", "objective",
                                        "steps_to_target", "trial"])  # fmt: skip
    frame = frame.assign(hparams="{}", is_diverged=np.isinf(frame["objective"]))
    return tuning.setting_table(frame, ["problem", "method"])


def test_objectives_below_the_floor_tie_and_the_faster_setting_is_tuned():
    rows = [
        ("p", "m", "slow", 0.1, 0, 1e-30, 90, 1), ("p", "m", "slow", 0.1, 1, 1e-31, 100, 1),
        ("p", "m", "fast", 0.5, 0, 1e-20, 40, 2), ("p", "m", "fast", 0.5, 1, 1e-18, 50, 2),
        ("p", "m", "bad", 1.0, 0, 1e-3, None, 3), ("p", "m", "bad", 1.0, 1, math.inf, None, 3),
    ]  # fmt: skip
    settings = _settings(rows).set_index("setting")
    assert settings.loc["slow", "time"] == 95 and settings.loc["bad", "time"] == math.inf
    assert settings.loc["bad", "median"] == math.inf and settings.loc["bad", "diverged"] == 1
    assert tuning.choose(_settings(rows), ["problem", "method"])["setting"].item() == "fast"
    above = [r if r[2] != "slow" else (*r[:5], 1e-13, *r[6:]) for r in rows]  # above the floor
    assert tuning.choose(_settings(above), ["problem", "method"])["setting"].item() == "fast"
    rows[2:4] = [(*r[:5], 1e-10, *r[6:]) for r in rows[2:4]]  # fast but no longer at the floor
    assert tuning.choose(_settings(rows), ["problem", "method"])["setting"].item() == "slow"


def test_best_of_first_k_trials_is_the_running_choice():
    rows = [("p", "m", f"t{i}", 0.1 * i, 0, obj, None, i)
            for i, obj in enumerate([3.0, 5.0, 1.0, 2.0, 0.5], start=1)]  # fmt: skip
    picks = tuning.best_of_first(_settings(rows), ["problem", "method"])
    assert list(picks["k"]) == [1, 2, 3, 4, 5]
    assert list(picks["setting"]) == ["t1", "t1", "t3", "t3", "t5"]


def test_tuning_runs_carry_their_role_and_trial_into_the_store(held_out_store):
    _, out, _ = held_out_store
    for row in _rows(out):
        config = json.loads(row["config"])
        assert row["role"] in ("tune", "eval")
        assert ("role" in config) == (row["role"] == "tune")
        if row["optimizer"] == "sgd":
            assert row["trial"] is None


FRAGILE = '''
class Fragile:
    """Plain SGD that raises on its large learning rates (a user's bug)."""

    def __init__(self, params, lr=0.1):
        self.params, self.lr = params, lr

    def step(self, grads):
        if self.lr > 0.5:
            raise RuntimeError("too hot")
        for p, g in zip(self.params, grads):
            p -= self.lr * g
'''


def test_a_failed_tuning_batch_leaves_its_optimizer_unevaluated_and_says_so(tmp_path):
    from optbench.reports import build_report

    (tmp_path / "fragile.py").write_text(FRAGILE)
    text = HELD_OUT.replace('name = "sgd"', 'name = "fragile.py:Fragile"')
    path = tmp_path / "m.toml"
    path.write_text(text)
    m = mx.load(path)
    outcome = run_matrix(m, plan.expand(m, "t"), tmp_path / "out", jobs=1, max_batch=2)
    assert outcome.failures and not outcome.interrupted
    assert any("Fragile on quadratic" in n and "not evaluated" in n for n in outcome.messages)
    rows = _rows(tmp_path / "out")
    assert not [r for r in rows if r["optimizer"] == "Fragile" and r["role"] == "eval"]
    assert [r for r in rows if r["optimizer"] == "adam" and r["role"] == "eval"]
    build_report(tmp_path / "out")  # the report still builds, from what is stored
    assert "Fragile" in (tmp_path / "out" / "report.md").read_text()


def test_dry_run_counts_both_phases(tmp_path, capsys):
    from optbench.benchmarks.cli import main as cli

    path = tmp_path / "m.toml"
    path.write_text(HELD_OUT)
    assert cli(["run", "--config", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    # tuning: (4 + 5) settings x 2 seeds + the defaults on 3 eval seeds; then 2 x 3 eval runs
    assert "18 tuning runs and 3 of a search's defaults in" in out
    assert "then at least 6 evaluation runs" in out


def test_the_search_example_matrix_plans_both_budgets():
    from pathlib import Path

    m = mx.load(Path(__file__).parents[1] / "docs" / "examples" / "search.toml")
    runs = plan.expand(m, "t")
    tune = [r for r in runs if r.role == "tune"]
    per = {name: {r.setting for r in tune if r.optimizer == name} for name in ("sgd", "momentum")}
    assert len(per["sgd"]) == len(per["momentum"]) == 16  # the same budget, two ways
    assert {r.seed for r in tune} == {100, 101}
