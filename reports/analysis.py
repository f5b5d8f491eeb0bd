"""Everything the report computes from the store, in one place, each table once.

:func:`analyze` takes the frames of ``optbench.reports.load_results`` (docs/contracts.md §3) and
returns an :class:`Analysis`: the tuned settings (:data:`optbench.reports.tables.TUNING_RULE`),
the per-problem summary, the paired objective matrices, ranks, normalized scores and their
bootstrap intervals (:mod:`optbench.reports.ranking`), and the tuned runs' curves, paths and
targets with a ``method`` column. Each table is computed on first use and kept, so a figure can
be drawn (in a worker) while the tables it does not need are still to be computed. Drawing and
writing happen elsewhere (:mod:`optbench.reports.build`).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from optbench.reports import profiles as pf
from optbench.reports import ranking as rk
from optbench.reports.budget import best_of_k, budget_table
from optbench.reports.conditioning import condition_table
from optbench.reports.edges import edge_table, with_edges
from optbench.reports.style import method_order, objective_kinds, plugin_tag, problem_order
from optbench.reports.tables import GROUP, Tuning, divergence_table, summary_table
from optbench.reports.tables import roles as roles_of


def _tuned_rows(frame: pd.DataFrame | None, at_tuned: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` that belong to tuned runs, with their ``method``."""
    if frame is None or frame.empty:
        return pd.DataFrame(columns=[*(frame.columns if frame is not None else []), "method"])
    methods = at_tuned[["run_id", "method"]]
    return frame.merge(methods, on="run_id", how="inner")


def _references(grid: pd.DataFrame, by: str, kind: str) -> pd.Series:
    ref, sha = f"{kind}_ref", f"{kind}_sha256"
    if ref not in grid.columns or grid[ref].isna().all():
        return pd.Series(dtype=object)
    rows = grid.dropna(subset=[ref]).drop_duplicates(by)
    text = rows[ref].astype(str) + " " + rows[sha].map(plugin_tag)
    return pd.Series(text.to_numpy(), index=rows[by].to_numpy(), dtype=object)


def _in_order(frame: pd.DataFrame | None, order: list[str]) -> pd.DataFrame | None:
    """``frame`` stably sorted by problem in ``order`` (frames without problems unchanged)."""
    if frame is None or "problem" not in frame.columns or frame.empty:
        return frame
    rank = frame["problem"].map({p: i for i, p in enumerate(order)}).fillna(len(order))
    out = frame.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out


def report_tuning(runs: pd.DataFrame) -> Tuning:
    """The tuning of ``runs`` in the report's problem order (what :func:`analyze` computes)."""
    return Tuning.of(_in_order(runs, problem_order(runs)))


def analyze(
    frames: dict[str, pd.DataFrame],
    n_boot: int = 2000,
    seed: int = 0,
    tuning: Tuning | None = None,
) -> Analysis:
    """The :class:`Analysis` of ``frames`` (needs at least one run).

    ``tuning``: :func:`report_tuning` of ``frames["runs"]``, when the caller has it already
    (to load only the tuned runs' curves, paths and targets: the child frames need only hold
    those runs' rows).
    """
    return Analysis(frames, n_boot=n_boot, seed=seed, tuning=tuning)


class Analysis:
    """The report's tables of one store; each attribute is computed on first use, then kept.

    The frames are taken in the report's problem order (:func:`problem_order`).
    """

    def __init__(self, frames, n_boot: int = 2000, seed: int = 0, tuning: Tuning | None = None):
        if frames["runs"].empty:
            raise ValueError("frames['runs'] is empty: there is nothing to analyze yet")
        order = problem_order(frames["runs"])
        self.frames = {name: _in_order(frame, order) for name, frame in frames.items()}
        self.runs: pd.DataFrame = self.frames["runs"]  # every run, as loaded
        if tuning is None:
            tuning = Tuning.of(self.runs)
        elif not tuning.grid["run_id"].reset_index(drop=True).equals(self.runs["run_id"]):
            raise ValueError("tuning: not the report_tuning of frames['runs']")
        self.tuning, self.n_boot, self.seed = tuning, n_boot, seed

    @property
    def tuned(self) -> pd.DataFrame:
        """(problem, method) -> tuned setting."""
        return self.tuning.tuned

    @property
    def at_tuned(self) -> pd.DataFrame:
        """The runs at their tuned setting, with method and objective."""
        return self.tuning.at_tuned

    @property
    def settings(self) -> pd.DataFrame:
        """(problem, method, setting) -> median objective, divergences."""
        return self.tuning.settings

    @cached_property
    def methods(self) -> list[str]:
        """The methods of the matrix, in the report's order."""
        return method_order(self.tuning.grid["method"])

    @cached_property
    def all_diverged(self) -> bool:
        """Every run diverged: there is nothing to tune or rank."""
        return bool((self.runs["status"] == "diverged").all())

    @property
    def ranked(self) -> bool:
        """Whether the report compares methods: at least two, and some run that did not
        diverge (with one optimizer, or all diverged, a ranking says nothing)."""
        return len(self.methods) > 1 and not self.all_diverged

    @cached_property
    def seeds(self) -> int:
        """How many seeds the reported runs have (1: no intervals, no tests)."""
        return int(self.at_tuned["seed"].nunique()) if len(self.at_tuned) else 0

    @cached_property
    def tuning_budget(self) -> pd.DataFrame:
        """method -> grid or search, settings per problem, tuning seeds and runs."""
        return budget_table(self.tuning)

    @cached_property
    def best_of_k(self) -> pd.DataFrame:
        """(problem, method, k) -> the setting a search picks from its first k trials, with
        its tuning and evaluation medians (empty without a search)."""
        return best_of_k(self.tuning)

    @cached_property
    def seed_roles(self) -> str:
        """``"Tuning seeds: 100, 101, 102; evaluation seeds: 0, 1, 2, 3, 4."``"""
        roles = self.tuning.grid.assign(_role=roles_of(self.tuning.grid))
        seeds = {r: sorted(g["seed"].unique().tolist()) for r, g in roles.groupby("_role")}
        names = (("tune", "Tuning"), ("eval", "evaluation"))
        text = [f"{n} seeds: {', '.join(map(str, seeds[r]))}" for r, n in names if r in seeds]
        return "; ".join(text) + "."

    @cached_property
    def single_lr(self) -> bool:
        """Every (problem, method) ran one learning rate: no sensitivity line to draw."""
        return bool(self.settings.groupby(GROUP)["lr"].nunique().max() <= 1)

    @cached_property
    def references(self) -> pd.Series:
        """method -> ``"<reference> @<sha256[:12]>"`` of a user's optimizer (built-ins: none);
        empty when every method is built in."""
        return _references(self.tuning.grid, "method", "optimizer")

    @cached_property
    def problem_references(self) -> pd.Series:
        """problem -> ``"<reference> @<sha256[:12]>"`` of a user's problem."""
        return _references(self.tuning.grid, "problem", "problem")

    @cached_property
    def kinds(self) -> pd.Series:
        """problem -> "suboptimality" | "loss"."""
        return objective_kinds(self.runs)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """(problem, method) -> statistics at the tuned setting, and ``edge``
        (:func:`optbench.reports.edges.with_edges`)."""
        table = summary_table(self.runs, self.frames.get("targets"), self.tuning)
        return with_edges(table, self.edges)

    @cached_property
    def edges(self) -> pd.DataFrame:
        """Tuned values at the edge of the values tried (:mod:`optbench.reports.edges`)."""
        return edge_table(self.settings, self.tuned)

    @cached_property
    def divergence(self) -> pd.DataFrame:
        """problem x method diverged fraction over the whole grid."""
        return divergence_table(self.runs, self.tuning)

    @cached_property
    def matrices(self) -> dict[str, pd.DataFrame]:
        """problem -> method x seed final objectives of the tuned runs."""
        return rk.objective_matrices(self.at_tuned)

    @cached_property
    def f0(self) -> pd.Series:
        """problem -> median initial objective of the tuned runs."""
        return rk.initial_objective(self.curves, self.at_tuned)

    @cached_property
    def medians(self) -> pd.DataFrame:
        """problem x method median final objective (floored)."""
        return rk.median_table(self.matrices)

    @cached_property
    def ranks(self) -> pd.DataFrame:
        """problem x method rank."""
        return rk.ranks(self.medians)

    @cached_property
    def scores(self) -> pd.DataFrame:
        """problem x method normalized score."""
        return rk.scores(self.medians, self.f0)

    @cached_property
    def ranking(self) -> pd.DataFrame:
        """method -> mean rank / score with bootstrap intervals, wins and ties, profile score."""
        profile = pf.headline_scores(self.profile_scores) if len(self.profile_scores) else None
        return rk.ranking_table(
            self.matrices, self.f0, n_boot=self.n_boot, seed=self.seed, winners=self.winners,
            profile_score=profile,
        )  # fmt: skip

    @cached_property
    def winners(self) -> pd.DataFrame:
        """problem -> winner vs runner-up, paired statistics."""
        return rk.problem_winners(self.matrices, n_boot=self.n_boot, seed=self.seed)

    @cached_property
    def step_costs(self) -> pd.DataFrame:
        """(target, problem) x method median steps to the target (:mod:`.profiles`)."""
        return pf.step_costs(self.at_tuned, self.targets)

    @cached_property
    def profile_ratios(self) -> pd.DataFrame:
        """(target, problem) x method performance ratios, unsolved problems left out."""
        return pf.ratios(self.step_costs)

    @cached_property
    def profile_scores(self) -> pd.DataFrame:
        """target x method AlgoPerf scores of each level's profile, and ``problems``."""
        return pf.profile_scores(self.profile_ratios)

    @cached_property
    def profiles(self) -> pd.DataFrame:
        """Tidy steps and ratios per (target, problem, method): ``tables/profiles.csv``."""
        return pf.profile_table(self.step_costs)

    @cached_property
    def curves(self) -> pd.DataFrame:
        """The tuned runs' curves, with method."""
        return _tuned_rows(self.frames.get("curves"), self.at_tuned)

    @cached_property
    def paths(self) -> pd.DataFrame:
        """The tuned runs' 2-D paths, with method."""
        return _tuned_rows(self.frames.get("paths"), self.at_tuned)

    @cached_property
    def targets(self) -> pd.DataFrame:
        """The tuned runs' target hits, with method."""
        return _tuned_rows(self.frames.get("targets"), self.at_tuned)

    @cached_property
    def condition(self) -> pd.DataFrame:
        """Noise-free quadratics: kappa and fitted rate per method."""
        return condition_table(self.curves, self.runs) if len(self.curves) else pd.DataFrame()

    @cached_property
    def budget(self) -> float:
        """The largest step budget of a run with known f* (the ECDF's x range)."""
        return float(self.runs.loc[self.runs["f_star"].notna(), "steps"].max())
