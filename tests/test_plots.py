"""Figures: what each plot function draws, from small frames (no files read)."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from test_report_synthetic import synthetic_frames

from optbench.reports import conditioning, drawing, landscape, plots
from optbench.reports.ranking import median_table, objective_matrices, scores
from optbench.reports.style import FLOOR, objective_kinds, palette
from optbench.reports.tables import setting_table, tune, tuned_runs


@pytest.fixture(scope="module")
def frames():
    return synthetic_frames()


@pytest.fixture(scope="module")
def at_tuned(frames):
    return tuned_runs(frames["runs"], tune(frames["runs"]))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def with_method(frame, at_tuned):
    return frame.merge(at_tuned[["run_id", "method"]], on="run_id")


def test_band_counts_a_diverged_run_as_inf_after_its_last_record():
    curves = pd.DataFrame({
        "problem": "p", "method": "sgd",
        "run_id": ["a"] * 4 + ["b"] * 2 + ["c"] * 4,
        "status": ["finished"] * 4 + ["diverged"] * 2 + ["finished"] * 4,
        "step": [0, 1, 2, 3, 0, 1, 0, 1, 2, 3],
        "value": [4.0, 3.0, 2.0, 1.0, 4.0, 8.0, 4.0, 2.0, 1.0, 0.5],
    })  # fmt: skip
    stats = drawing.band(curves, "value").set_index("step")
    assert stats.loc[1, "median"] == 3.0  # [3, 8, 2]
    assert stats.loc[2, "median"] == 2.0  # [2, inf, 1]
    assert stats.loc[3, "q75"] == np.inf  # [1, inf, 0.5]: h = 1.5 between 1 and inf
    assert stats.loc[3, "q25"] == pytest.approx(0.75)


def test_convergence_one_panel_per_problem_in_fixed_colors(frames, at_tuned):
    curves = with_method(frames["curves"], at_tuned)
    fig = plots.plot_convergence(curves, objective_kinds(frames["runs"]))
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3
    assert all(ax.get_yscale() == "log" for ax in axes)
    colors = palette(curves["method"])
    drawn = {to_hex(line.get_color()) for line in axes[0].get_lines()}
    assert drawn == {to_hex(c) for c in colors.values()}
    assert "suboptimality" in axes[0].get_ylabel() and axes[0].get_xlabel() == "step"
    assert "training loss" in axes[2].get_ylabel()  # the MLP has no f_star


def test_lr_sensitivity_marks_diverged_settings_instead_of_dropping_them(frames):
    settings = setting_table(frames["runs"])
    fig = plots.plot_lr_sensitivity(settings, objective_kinds(frames["runs"]))
    ax = fig.axes[0]
    crosses = [c for c in ax.collections if c.get_offsets().shape[0] and
               c.get_paths()[0].vertices.shape[0] == 4 and c.get_linewidths()[0] > 1.5]  # fmt: skip
    xs = np.concatenate([c.get_offsets()[:, 0] for c in crosses]) if crosses else []
    assert list(xs) == [1.0]  # sgd at lr = 1 diverged on every seed, and is shown
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_ecdf_ends_below_one_when_a_target_is_missed(frames, at_tuned):
    targets = with_method(frames["targets"], at_tuned)
    fig = plots.plot_ecdf(targets, budget=60)
    pooled = fig.axes[0]
    finals = {to_hex(line.get_color()): line.get_ydata()[-1] for line in pooled.get_lines()}
    colors = palette(targets["method"])
    assert finals[to_hex(colors["momentum"])] == pytest.approx(1.0)
    assert finals[to_hex(colors["sgd"])] == pytest.approx(2 / 3)  # never reaches 1e-6
    assert "1e-06" in fig.get_suptitle() and "1e-01" in fig.get_suptitle()


def test_trajectories_draw_one_seed_from_one_start_over_the_computed_landscape(frames, at_tuned):
    calls = []

    def landscape_fn(name, config):
        calls.append((name, json.loads(config)))
        return (lambda x: (x**2).sum(axis=1)), np.array([1.0, 1.0])

    paths = with_method(frames["paths"], at_tuned)
    fig = landscape.plot_trajectories(paths, frames["runs"], "RULE-TEXT", landscape_fn)
    assert {name for name, _ in calls} == {"quadratic", "rosenbrock"}
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(lines) == 3  # sgd, momentum, adam
    starts = np.array([(line.get_xdata()[0], line.get_ydata()[0]) for line in lines])
    np.testing.assert_allclose(starts, [[-1.2, 1.0]] * 3)
    assert "RULE-TEXT" in fig.get_suptitle()


def test_linear_rate_recovers_a_known_contraction():
    steps = np.unique(np.geomspace(1, 400, 40).astype(int))
    steps = np.r_[0, steps]
    rho = 0.97
    # f - f* = C rho^(2t) plus a fast transient that the late-half fit ignores
    subopt = 2.0 * rho ** (2 * steps) + 3.0 * 0.5**steps
    assert conditioning.linear_rate(steps, subopt) == pytest.approx(rho, rel=1e-6)


def test_condition_table_keeps_only_noise_free_quadratics(frames, at_tuned):
    runs = frames["runs"].copy()
    curves = with_method(frames["curves"], at_tuned)
    table = conditioning.condition_table(curves, runs)
    assert set(table["problem"]) == {"quadratic(dim=2, kappa=1e1)"}
    assert (table["kappa"] == 10.0).all()
    noisy = runs.assign(problem_config=runs["problem_config"].str.replace("}", ', "noise": 0.1}'))
    assert conditioning.condition_table(curves, noisy).empty


def test_condition_plot_draws_theory_and_measurements():
    table = pd.DataFrame({"problem": ["a", "b", "c"], "method": "sgd", "kappa": [10.0, 100.0,
                          50.0], "rho": [9 / 11, 99 / 101, 0.5], "family": ["dim=5", "dim=5",
                          "dim=2"]})  # fmt: skip
    fig = landscape.plot_condition(table)
    ax = fig.axes[0]
    measured = next(line for line in ax.get_lines() if line.get_marker() == "o")
    np.testing.assert_allclose(measured.get_ydata(), [2 / 11, 2 / 101])  # dim=5 only
    other = next(line for line in ax.get_lines() if line.get_marker() == "s")
    np.testing.assert_allclose(other.get_ydata(), [0.5])
    assert ax.get_xscale() == "log"


def test_mlp_figure_has_loss_and_accuracy_panels(frames, at_tuned):
    curves = with_method(frames["curves"], at_tuned)
    mlp = curves[curves["problem_name"] == "mlp"]
    fig = plots.plot_mlp(mlp)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["training loss", "test loss", "training accuracy", "test accuracy"]
    assert fig.axes[0].get_yscale() == "log" and fig.axes[2].get_yscale() == "linear"


def test_heatmap_annotates_every_cell_and_the_mean(frames, at_tuned):
    from optbench.reports.ranking import initial_objective

    matrices = objective_matrices(at_tuned)
    score = scores(median_table(matrices), initial_objective(frames["curves"], at_tuned))
    fig = plots.plot_score_heatmap(score)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 3 * (3 + 1)  # methods x (problems + mean)
    assert fig.axes[0].get_yticklabels()[-1].get_text() == "mean over problems"


def test_config_text_with_dollar_signs_does_not_break_rendering(tmp_path):
    curves = pd.DataFrame({"problem": "$x^$", "method": "a$b", "run_id": "r", "status":
                           "finished", "step": [0, 1], "subopt": [1.0, 0.5],
                           "loss": [1.0, 0.5]})  # fmt: skip
    fig = plots.plot_convergence(curves, pd.Series({"$x^$": "suboptimality"}))
    paths = drawing.save_figure(fig, tmp_path, "dollar")
    assert all(p.stat().st_size > 1000 for p in paths)


def test_save_figure_writes_png_and_svg(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([1, 2], [FLOOR, 1.0])
    png, svg = drawing.save_figure(fig, tmp_path / "figs", "x", svg=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(png) as image:
        assert image.mode == "P" and image.size[0] > 500  # palette PNG at 150 dpi
    assert svg.read_text().lstrip().startswith("<?xml")


def long_log_figure():
    """Two log panels: x and y over six and seven decades (their minor ticks carry no label),
    x across one decade boundary only (0.3 to 6: matplotlib labels those minor ticks), and a
    title wider than its panel (the tight bounding box reaches past the figure)."""
    fig = drawing.new_figure((6.0, 3.0))
    left, right = fig.subplots(1, 2)
    left.plot(np.logspace(-5, 1, 30), np.logspace(-6, 1, 30), marker="o")
    left.set(xscale="log", yscale="log", title="a title much wider than the panel it sits above")
    right.plot([0.3, 6.0], [2.0, 1.0])
    right.set(xscale="log", xlabel="lr")
    return fig


def pixels(source) -> np.ndarray:
    from PIL import Image

    with Image.open(source) as image:
        return np.asarray(image.convert("RGB"))


def test_save_figure_draws_the_pixels_of_savefig_with_a_tight_bounding_box(tmp_path):
    """One layout, one draw and the unlabelled minor ticks as marker lines: the same pixels as
    matplotlib's own ``savefig(dpi=150, bbox_inches="tight")``, palette reduction included."""
    import io

    from matplotlib.ticker import NullLocator
    from PIL import Image

    reference = io.BytesIO()
    long_log_figure().savefig(reference, format="png", dpi=150, bbox_inches="tight")
    reference.seek(0)
    expected = io.BytesIO()
    Image.open(reference).convert("RGB").quantize(256).save(expected, format="png")
    fig = long_log_figure()
    (png,) = drawing.save_figure(fig, tmp_path, "long")
    left, right = fig.axes
    assert isinstance(left.yaxis.get_minor_locator(), NullLocator)  # drawn as one line
    assert len(left.lines) > 1 and all(len(line.get_xdata()) > 20 for line in left.lines[1:])
    assert not isinstance(right.xaxis.get_minor_locator(), NullLocator)  # labelled: kept
    got, want = pixels(png), pixels(expected)
    assert got.shape == want.shape and got.shape[1] > 6.0 * 150  # the wide title is kept
    assert (got == want).all()


def test_save_figure_writes_svg_only_on_request(tmp_path):
    assert [p.name for p in drawing.save_figure(long_log_figure(), tmp_path, "a")] == ["a.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_figures_leave_pyplot_alone():
    fig = plots.plot_score_heatmap(pd.DataFrame({"sgd": [0.5, 1.0]}, index=["p", "q"]))
    assert type(fig).__module__ == "matplotlib.figure" and fig.canvas.manager is None
    assert plt.get_fignums() == []


@pytest.mark.parametrize("title", ["rosenbrock(dim=2)", "quadratic(dim=50, kappa=1e3)\ngy"])
def test_a_log_panel_title_sits_where_matplotlib_would_place_it(tmp_path, title):
    def panel(place):
        fig = drawing.new_figure((4.0, 3.0))
        ax = fig.subplots()
        ax.plot([1, 10, 100], [1e-9, 1e-3, 1e2])
        ax.set(xscale="log", yscale="log", xlabel="step")
        place(ax)
        return fig

    (auto,) = drawing.save_figure(panel(lambda ax: ax.set_title(title)), tmp_path / "a", "p")
    (fixed,) = drawing.save_figure(
        panel(lambda ax: drawing.log_panel_title(ax, title)), tmp_path / "b", "p"
    )
    assert (pixels(auto) == pixels(fixed)).all()
