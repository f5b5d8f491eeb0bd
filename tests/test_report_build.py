"""The whole report: from a small real matrix run, and from synthetic frames (partial store,
crafted labels, empty store). Checks every section, figure and table is there and non-empty,
and that nothing from a config reaches the page unescaped."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
import test_report_synthetic as synthetic
from test_report_synthetic import CRAFTED, synthetic_frames

from optbench.reports.build import write_report

SMALL_MATRIX = f"""# {CRAFTED} in a comment of the matrix must be shown, escaped
seeds = [0, 1, 2]
budget = {{ steps = 120 }}
targets = [1e-1, 1e-3, 1e-6]
recording = {{ points = 20, spacing = "log", path_points = 50 }}

[[optimizers]]
name = "sgd"
lr = [1e-2, 0.1, 1.0, 3.0]

[[optimizers]]
name = "momentum"
lr = [1e-3, 1e-2, 0.1]

[[optimizers]]
name = "adam"
lr = [1e-2, 0.1]

[[problems]]
name = "rosenbrock"
dim = 2

[[problems]]
name = "quadratic"
dim = 2
condition_number = 10.0

[[problems]]
name = "quadratic"
dim = 5
condition_number = 100.0

[[problems]]
name = "mlp"
hidden = [8]
budget = {{ epochs = 1 }}
"""
SECTIONS = ("summary", "method", "ranking", "problems", "curves", "geometry", "mlp", "timing",
            "matrix", "metadata")  # fmt: skip
FIGURES = ("score_heatmap", "profiles", "convergence", "lr_sensitivity", "ecdf", "trajectories",
           "condition", "mlp", "timing")  # fmt: skip


def write_bench_json(out) -> None:
    """A minimal pytest-benchmark JSON as `optbench bench --out` saves it (contracts §5)."""

    def bench(kind, shape, seconds, flops, peak):
        return {"name": f"test_{kind}[{shape}]", "fullname": f"benchmarks/bench_x.py::test_{kind}",
                "stats": {"min": seconds, "median": 1.1 * seconds, "rounds": 5},
                "options": {"timer": "perf_counter"},
                "extra_info": {"kind": kind, "shape": shape, "dtype": "float64", "runs": None,
                               "flops": flops, "gflops": flops / seconds / 1e9,
                               "fraction_of_peak": flops / seconds / peak}}  # fmt: skip

    data = {"datetime": "2026-11-29T12:00:00", "machine_info": {
                "blas": [{"internal_api": "openblas", "version": "0.3"}], "blas_threads": 1,
                "threads_pinned": 1},
            "benchmarks": [bench("gemm", "1024x1024x1024", 0.1, 2 * 1024**3, 2.147e10),
                           bench("dense_backward", "64x784x256", 2e-3, 4 * 64 * 784 * 256,
                                 2.147e10)]}  # fmt: skip
    (out / "bench").mkdir()
    (out / "bench" / "bench-2026-11-29T120000.json").write_text(json.dumps(data))


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """The store of SMALL_MATRIX, no report."""
    from optbench.benchmarks.cli import main

    out = tmp_path_factory.mktemp("store")
    config = out / "small.toml"
    config.write_text(SMALL_MATRIX)
    assert main(["run", "--config", str(config), "--out", str(out), "--quiet", "--no-report"]) == 0
    return out / "optbench.sqlite"


def report_copy(store, folder):
    folder.mkdir()
    (folder / store.name).write_bytes(store.read_bytes())
    return folder


@pytest.fixture(scope="module")
def real_report(small_store, tmp_path_factory):
    from optbench.reports import build_report

    out = report_copy(small_store, tmp_path_factory.mktemp("real") / "out")
    write_bench_json(out)
    return build_report(out, svg=True)


def section_text(html: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"section {anchor} missing"
    return match.group(1)


def test_real_report_has_every_section_and_figure(real_report):
    out = real_report.parent
    html = real_report.read_text()
    for anchor in SECTIONS:
        assert len(section_text(html, anchor)) > 200, anchor
    for name in FIGURES:
        for ext in ("png", "svg"):
            assert (out / "figures" / f"{name}.{ext}").stat().st_size > 5_000, (name, ext)
        assert f'id="fig-{name}"' in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == len(FIGURES)
    for data in images:
        png = base64.b64decode(data)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def test_real_report_summary_names_winners_with_confidence(real_report):
    summary = section_text(real_report.read_text(), "summary")
    for problem in ("rosenbrock(dim=2)", "mlp("):
        assert problem in summary
    assert "bootstrap" in summary and "sign test p" in summary
    assert "diverged" in summary


def test_real_report_tables_are_written_and_match_the_store(real_report):
    from optbench.reports import load_results

    out = real_report.parent
    runs = load_results(out)
    summary = pd.read_csv(out / "tables" / "summary.csv")
    assert len(summary) == runs.groupby(["problem", "optimizer"]).ngroups
    diverged = runs.assign(d=runs["status"] == "diverged").groupby(["problem", "optimizer"])["d"]
    rate = summary.set_index(["problem", "method"])["diverged_grid"]
    np.testing.assert_allclose(rate.sort_index().to_numpy(), diverged.mean().sort_index())
    for name in ("ranking", "winners", "settings", "scores", "condition"):
        assert len(pd.read_csv(out / "tables" / f"{name}.csv")) > 0, name
    md = (out / "report.md").read_text()
    for title in re.findall(r"<h3>([^<]+)</h3><div class=\"table-wrap\">", real_report.read_text()):
        assert f"### {title}" in md.replace("\\", "")
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (out / link).is_file(), link


def test_real_report_shows_the_matrix_escaped_and_loads_nothing(real_report):
    html = real_report.read_text()
    matrix = section_text(html, "matrix")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in matrix
    assert "name = &quot;rosenbrock&quot;" in matrix
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "numpy_version" in section_text(html, "metadata")


def test_real_report_includes_the_timing_section(real_report):
    timing = section_text(real_report.read_text(), "timing")
    assert "dense_backward" in timing and "openblas 0.3" in timing


@pytest.fixture(scope="module")
def crafted_report():
    return synthetic.crafted_report()


def test_crafted_labels_are_escaped_everywhere(crafted_report):
    html = crafted_report.read_text()
    assert CRAFTED not in html and "<script" not in html.lower()
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") > 5
    md = (crafted_report.parent / "report.md").read_text()
    prose = re.sub(r"```.*?```", "", md, flags=re.S)  # fenced code shows text verbatim
    assert CRAFTED not in prose and "&lt;script&gt;" in prose


def test_partial_store_is_reported_as_partial(crafted_report):
    html = crafted_report.read_text()
    assert "PARTIAL RESULTS" in section_text(html, "summary")
    assert 'class="partial"' in html
    assert "PARTIAL RESULTS" in (crafted_report.parent / "report.md").read_text()


def test_empty_store_still_gives_a_report(tmp_path):
    frames = synthetic_frames(partial=True)
    frames["runs"] = frames["runs"].iloc[0:0]
    path = write_report(frames, tmp_path)
    html = path.read_text()
    assert "no runs yet" in section_text(html, "summary")
    assert "<pre>" in section_text(html, "matrix")


def test_summary_sentences_for_ties_exact_and_sampled_differences():
    from optbench.reports.verdicts import problem_sentences

    winners = pd.DataFrame([
        {"problem": "p", "winner": "a", "runner_up": "b", "winner_median": 1e-14,
         "runner_up_median": 1e-14, "factor": 1.0, "factor_lo": 1.0, "factor_hi": 1.0,
         "better": 0, "paired": 3, "p": 1.0, "tied": "a, b", "seed_independent": True},
        {"problem": "q", "winner": "b", "runner_up": "a", "winner_median": 1e-4,
         "runner_up_median": 2e-4, "factor": 2.0, "factor_lo": 2.0, "factor_hi": 2.0,
         "better": 3, "paired": 3, "p": 0.25, "tied": "", "seed_independent": True},
        {"problem": "r", "winner": "a", "runner_up": "b", "winner_median": 1e-4,
         "runner_up_median": 3e-4, "factor": 3.0, "factor_lo": 1.5, "factor_hi": 6.0,
         "better": 6, "paired": 6, "p": 0.03125, "tied": "", "seed_independent": False},
    ])  # fmt: skip
    summary = pd.DataFrame({"problem": "p", "method": ["a", "b"], "success@1e-08": [1.0, 1.0],
                            "steps@1e-08": [40.0, 25.0], "success@1e-01": [1.0, 1.0],
                            "steps@1e-01": [2.0, 3.0]})  # fmt: skip
    text = problem_sentences(winners, summary)
    assert text[0].startswith("p: tie between a, b, all reach the 1e-14 floor")
    assert "fastest to f - f* <= 1e-08 on every seed: b (median 25 steps)" in text[0]
    assert "deterministic problem" in text[1] and "factor 2" in text[1]
    assert "factor 3 [1.5, 6]" in text[2] and "p = 0.0312, significant" in text[2]


def test_report_command_on_a_missing_store_says_what_to_do(tmp_path, capsys):
    from optbench.benchmarks.cli import main

    assert main(["report", "--out", str(tmp_path / "nothing")]) == 2
    assert "optbench run" in capsys.readouterr().err


def test_report_command_and_package_import_lightly():
    import subprocess
    import sys

    code = (
        "import sys, optbench.reports, optbench.benchmarks.cli.report; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'seaborn') if m in sys.modules)); "
        "from optbench.reports import build_report, load_results; print(callable(build_report))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "True"]


def test_a_matrix_without_2d_problems_or_targets_says_which_figures_do_not_apply(tmp_path):
    frames = synthetic_frames()
    mlp = frames["runs"].loc[frames["runs"]["problem_name"] == "mlp", "run_id"]
    for name in ("runs", "curves", "paths", "targets"):
        frames[name] = frames[name][frames[name]["run_id"].isin(mlp)]
    html = write_report(frames, tmp_path, n_boot=50).read_text()
    for title in ("Trajectories on the 2-D problems", "Fixed-target ECDF (COCO style)",
                  "Linear rate vs condition number (noise-free quadratics)"):  # fmt: skip
        assert f"{title}: not applicable to this matrix (no data)." in html
    assert html.count("<img ") == 4  # heatmap, convergence, lr sensitivity, MLP


def test_renderers_escape_markup_pipes_and_markdown_links(tmp_path):
    from optbench.reports.render import Section, Table, markdown_table, render_html, render_markdown

    crafted = 'a|b <img src=x onerror="alert(1)"> [x](javascript:alert(1)) `code`'
    frame = pd.DataFrame({crafted: [crafted]})
    row = markdown_table(frame).splitlines()[2]
    assert row.count(" | ") == 0 and row.startswith("| ") and "\\|" in row
    block = (crafted, "```\n" + crafted)
    table = Table("t", crafted, frame)
    section = Section("s", crafted, [crafted], bullets=[crafted], tables=[table], blocks=[block])
    html = render_html(crafted, crafted, [section], tmp_path)
    assert "<img" not in html and "onerror=&quot;" in html
    md = render_markdown(crafted, crafted, [section])
    assert "<img" not in md.split("````")[0] and "\\[x\\](javascript" in md
    assert "````\n```\n" in md  # the fence is longer than any backtick run inside


def test_figures_drawn_by_workers_are_the_files_drawn_here(small_store, tmp_path):
    from optbench.reports import build_report

    calls = []
    here = report_copy(small_store, tmp_path / "here")
    there = report_copy(small_store, tmp_path / "there")
    build_report(here, jobs=1, progress=lambda *call: calls.append(call))
    build_report(there, jobs=2)
    files = sorted(p.relative_to(here) for p in (here / "figures").iterdir())
    files += sorted(p.relative_to(here) for p in (here / "tables").iterdir())
    assert len(files) > 30 and not any(p.suffix == ".svg" for p in files)  # SVG on request
    for name in files:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    drawn = [call[2] for call in calls]
    assert [call[:2] for call in calls] == [(i, len(drawn)) for i in range(1, len(drawn) + 1)]
    assert sorted(drawn) == sorted(p.stem for p in (here / "figures").iterdir())
    assert "vector: [SVG]" not in (here / "report.md").read_text()


def test_the_tuning_is_computed_once_per_report(small_store, tmp_path, monkeypatch):
    from optbench.reports import build_report
    from optbench.reports.tables import Tuning

    computed = []
    of = Tuning.of.__func__
    monkeypatch.setattr(
        Tuning, "of", classmethod(lambda cls, runs: computed.append(1) or of(cls, runs))
    )
    build_report(report_copy(small_store, tmp_path / "once"))
    assert len(computed) == 1


def test_report_command_prints_a_line_per_figure_unless_quiet(small_store, tmp_path, capsys):
    from optbench.benchmarks.cli import main

    out = report_copy(small_store, tmp_path / "cli")
    assert main(["report", "--out", str(out), "--jobs", "1"]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 8 and lines[0].startswith("report: figure 1/8: ")
    assert captured.out.strip() == str(out / "report.html")
    assert main(["report", "--out", str(out), "--jobs", "1", "--quiet", "--svg"]) == 0
    assert capsys.readouterr().err == ""
    assert (out / "figures" / "convergence.svg").is_file()


def test_a_notebook_that_imports_the_reports_keeps_its_backend(small_store, tmp_path):
    import subprocess
    import sys

    out = report_copy(small_store, tmp_path / "notebook")
    code = (
        "import matplotlib; matplotlib.use('pdf')\n"
        "import optbench.reports.build, optbench.reports.plots, optbench.reports.timing\n"
        "import optbench.reports.drawing, optbench.reports.landscape\n"
        "from optbench.reports import build_report\n"
        f"build_report({str(out)!r})\n"
        "import matplotlib.pyplot as plt\n"
        "print(matplotlib.get_backend(), plt.get_fignums())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["pdf", "[]"]
