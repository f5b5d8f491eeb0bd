"""The report's figures: which there are, what each draws, and drawing them on every core.

:data:`FIGURES` lists them in reading order with the section each belongs to. :func:`jobs` turns
an :class:`~optbench.reports.analysis.Analysis` into one :class:`Job` per figure that has data:
a plot function (of :mod:`.plots`, :mod:`.landscape` or :mod:`.timing`) and its inputs, small
picklable frames, heaviest first (:data:`COST`, seconds measured on the default matrix) so that
the workers of a :class:`~optbench.reports.workers.Renderer` finish together. A figure's file
does not depend on where it was drawn: Agg renders the same pixels in any process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from optbench.reports.render import Figure
from optbench.reports.style import FLOOR
from optbench.reports.tables import TUNING_RULE
from optbench.reports.workers import Job

SHORT_RULE = "median over seeds of the final suboptimality f - f* (diverged = +inf)"
FIGURES = (
    (Figure("score_heatmap", "Normalized score per optimizer and problem",
            "1 = the best optimizer on that problem; 0 = no progress from the start, or "
            "diverged. The last row is the mean over problems."), "ranking"),
    (Figure("profiles", "Performance profiles on steps to target",
            "Dolan–Moré profiles, one panel per target level: the fraction of problems (with a "
            "known f*; those no optimizer solves at that level left out) on which an "
            "optimizer's median number of steps to the target is within a factor tau of the "
            "fastest optimizer's; a curve that stays below 1 did not reach the target on some "
            "problems. The profile score integrates each curve from tau = 1 to the dotted line "
            "at tau = 4."), "ranking"),
    (Figure("convergence", "Convergence at tuned settings",
            "Objective (log scale) vs step; line = median over seeds, band = interquartile "
            f"range; X = the median run diverged there. Values below {FLOOR:.0e} drawn at "
            f"{FLOOR:.0e}."), "curves"),
    (Figure("lr_sensitivity", "Learning-rate sensitivity",
            "Median final objective over seeds vs lr, over the whole grid. Hollow markers: some "
            "seeds diverged; x in the top strip: the median diverged (kept, not dropped). "
            f"Values below {FLOOR:.0e} drawn at {FLOOR:.0e}."), "curves"),
    (Figure("best_of_k", "Performance against search budget",
            "For each optimizer tuned by quasi-random search: the median final objective of the "
            "setting the tuning rule picks from the first k trials, on the evaluation seeds "
            "(solid) and on the tuning seeds it was picked on (dashed); k = 0 (dot) is the "
            "optimizer's defaults (X: they diverged). A gap: the pick's median diverged. "
            "Crowded Valley's view of a budget (Schmidt et al., 2021)."),
     "curves"),
    (Figure("ecdf", "Fixed-target ECDF (COCO style)",
            "Fraction of (problem, target, seed) triples whose suboptimality reached the target "
            "by a given step, at tuned settings; targets never reached keep the curve below 1."),
     "curves"),
    (Figure("trajectories", "Trajectories on the 2-D problems",
            "Every optimizer at its tuned setting from the same start (one seed), over the "
            "contours of the exact objective (log-spaced levels). " + TUNING_RULE), "geometry"),
    (Figure("condition", "Linear rate vs condition number (noise-free quadratics)",
            "1 - rho, rho the fitted per-step contraction of |x - x*| at tuned settings, against "
            "the worst-case optimum of each form with its lr (and momentum) tuned: gradient "
            "descent 2/(k + 1), heavy ball 2/(sqrt(k) + 1) (Polyak), Nesterov 2/sqrt(3k + 1) "
            "(Lessard, Recht & Packard); each label is the measured rate's percentage of its "
            "method's optimum. The rate is fitted on the later half of each run before the "
            "float64 floor; within a finite budget it can beat the worst case when the slowest "
            "eigen-directions carry little of the initial error. Hollow: the run never left its "
            "transient (the caption below the figure names them). Marker shape = quadratic "
            "family (dimension, spectrum); lines join one family only."), "geometry"),
    (Figure("mlp", "MLP: loss and accuracy per epoch",
            "Training and test cross-entropy (log scale) and accuracy per epoch at tuned "
            "settings (tuned on the final training loss); median over seeds, band = IQR."), "mlp"),
    (Figure("timing", "Roofline of the timed kernels",
            "Arithmetic intensity (FLOP/byte) against attained GFLOP/s, log-log, per dtype, "
            "under the compute ceiling (best GEMM) and the memory ceilings (best STREAM kernel "
            "per size) measured in the same optbench bench session; red edge: above a ceiling."),
     "timing"),
)  # fmt: skip
"""Every figure of the report, in order, with the section it belongs to."""
COST = {"lr_sensitivity": 3.5, "convergence": 2.5, "mlp": 1.7, "trajectories": 1.0,
        "condition": 0.4, "ecdf": 0.4, "score_heatmap": 0.4, "timing": 0.4,
        "best_of_k": 0.5, "profiles": 1.0}  # fmt: skip


_PLOTS, _GEOMETRY = "optbench.reports.plots", "optbench.reports.landscape"


def jobs(analysis, bench=None, landscape=None) -> Iterator[tuple[str, Job | str | None]]:
    """``(name, Job)`` for every figure of :data:`FIGURES`, the heaviest (:data:`COST`) first,
    each computed just before it is yielded (a renderer can start drawing it while the next
    one's inputs are computed); instead of the Job, None where the matrix has no data for the
    figure, or a string that says why it is not drawn.

    ``analysis``: an Analysis, or None for an empty store; ``bench``: the frame of
    :func:`optbench.reports.timing.load_bench`, or None; ``landscape``: the contour function of
    :func:`optbench.reports.landscape.plot_trajectories` (default: the problems' own).
    """
    for figure, _ in sorted(FIGURES, key=lambda item: -COST[item[0].name]):
        if figure.name == "timing":
            draw = "optbench.reports.roofline:plot_roofline"
            yield figure.name, None if bench is None else Job(figure.name, draw, (bench,))
        else:
            yield figure.name, None if analysis is None else _job(figure.name, analysis, landscape)


def _job(name: str, a, landscape) -> Job | str | None:
    """The job of figure ``name`` from the analysis ``a``; None without data for it, or why
    it is not drawn."""
    match name:
        case "lr_sensitivity":
            return Job(name, f"{_PLOTS}:plot_lr_sensitivity", (a.settings, a.kinds))
        case "convergence":
            return Job(name, f"{_PLOTS}:plot_convergence", (a.curves, a.kinds))
        case "best_of_k":
            if len(a.best_of_k):
                return Job(name, "optbench.reports.budget:plot_best_of_k", (a.best_of_k, a.kinds))
        case "mlp":
            mlp_problems = a.runs.loc[a.runs["problem_name"] == "mlp", "problem"]
            curves = a.curves[a.curves["problem"].isin(mlp_problems)]
            if len(curves):
                return Job(name, f"{_PLOTS}:plot_mlp", (curves,))
        case "trajectories":
            if len(a.paths):
                columns = ["problem", "problem_name", "problem_config", "problem_ref"]
                info = a.runs[[c for c in columns if c in a.runs.columns]]
                args = (a.paths, info.drop_duplicates("problem"), SHORT_RULE)
                if landscape is not None:
                    args += (landscape,)
                return Job(name, f"{_GEOMETRY}:plot_trajectories", args)
        case "condition":
            if len(a.condition):
                return Job(name, f"{_GEOMETRY}:plot_condition", (a.condition,))
        case "ecdf":
            if len(a.targets) and a.targets["step"].isna().all():
                return "no run reached any target"
            if len(a.targets):
                return Job(name, f"{_PLOTS}:plot_ecdf", (a.targets, a.budget))
        case "profiles":
            if a.ranked and len(a.profile_ratios):
                return Job(name, f"{_PLOTS}:plot_profiles", (a.profile_ratios,))
        case "score_heatmap":
            if a.ranked:  # its section, the ranking, is shown only then
                return Job(name, f"{_PLOTS}:plot_score_heatmap", (a.scores,))
        case _:
            raise ValueError(f"no figure {name!r}")
    return None


def adapted(figure: Figure, a) -> Figure:
    """``figure`` with its caption saying what a degenerate matrix leaves out of it (one
    learning rate: points, no lines; one seed: no bands)."""
    if a is None:
        return figure
    caption = figure.caption
    if figure.name == "lr_sensitivity" and a.single_lr:
        caption += (
            " Each optimizer ran a single learning rate per problem here: the figure shows "
            "one point per optimizer, and no sensitivity line can be drawn."
        )
    if figure.name in ("convergence", "mlp") and a.seeds < 2:
        caption += " One seed: the line is that run, and there is no band."
    return figure if caption == figure.caption else replace(figure, caption=caption)
