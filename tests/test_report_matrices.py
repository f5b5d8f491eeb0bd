"""Every matrix gets a report, through the command line: one optimizer, one learning rate, one
seed, every run diverged, the MLP alone, and their combinations; which runs a report shows
(the latest invocation's matrix by default, ``--all``, ``--invocation``); the user's code and
the failed batches in it; and no markup from the store in report.html or report.md.

Tiny budgets and few runs keep each report to a few seconds."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from html.parser import HTMLParser

import pytest

from optbench.benchmarks.cli import main

OPTIMIZERS = {
    "sgd": '[[optimizers]]\nname = "sgd"\nlr = {lr}\n',
    "adam": '[[optimizers]]\nname = "adam"\nlr = {lr}\n',
}
PROBLEMS = {
    "quadratic": '[[problems]]\nname = "quadratic"\ndim = 2\ncondition_number = 10.0\n'
    "noise = {noise}\n",
    "rosenbrock": '[[problems]]\nname = "rosenbrock"\n',
    "mlp": '[[problems]]\nname = "mlp"\ndataset = "spiral"\nhidden = [4]\nbatch_size = 60\n'
    "budget = {{ epochs = 2 }}\n",
}


def matrix(optimizers, problems, seeds=(0, 1), lr="[0.01, 0.1]", noise=0.0, steps=40) -> str:
    text = f"seeds = {list(seeds)}\nbudget = {{ steps = {steps} }}\n"
    text += "recording = { points = 8, path_points = 20 }\ntargets = [1e-1, 1e-3]\n"
    text += "".join(OPTIMIZERS[o].format(lr=lr) for o in optimizers)
    return text + "".join(PROBLEMS[p].format(noise=noise) for p in problems)


def run(tmp_path, text: str, out=None, *extra: str) -> object:
    """``optbench run`` of the matrix ``text`` into ``out`` (it builds the report too)."""
    out = out or tmp_path / "out"
    config = tmp_path / f"m{len(list(tmp_path.glob('m*.toml')))}.toml"
    config.write_text(text)
    args = ["run", "--config", str(config), "--out", str(out), "--quiet", "--jobs", "1"]
    assert main([*args, *extra]) == 0
    return out


def sections(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def md_tables(md: str) -> list[list[str]]:
    """The Markdown tables of ``md``, each as its lines."""
    tables, current = [], []
    for line in md.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


def columns(line: str) -> int:
    """The cells of a Markdown table row (a ``\\|`` is no separator)."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def assert_sound(out):
    """report.html exists; report.md's tables are rectangular and hold no NaN."""
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    assert "<section" in html and md.startswith("# optbench")
    for table in md_tables(md):
        assert len({columns(line) for line in table}) == 1, table
        for line in table:
            assert not re.search(r"\bnan\b", line, re.I), line
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (out / link).is_file(), link
    return html, md


def test_one_optimizer_is_not_ranked_against_itself(tmp_path):
    out = run(tmp_path, matrix(["sgd"], ["quadratic", "rosenbrock"]))
    html, md = assert_sound(out)
    assert "ranking" not in sections(html) and "Overall ranking" not in md
    assert " wins" not in md and "sign test" not in md and "P(best)" not in md
    assert "One optimizer, sgd: there is nothing to rank it against" in md
    assert "quadratic(dim=2, kappa=10): sgd at its tuned setting lr=0.1 reaches" in md
    assert md.count("| optimizer | tuned setting | edge | final subopt: median \\[IQR\\]") == 2
    for name in ("convergence", "lr_sensitivity", "trajectories"):
        assert (out / "figures" / f"{name}.png").is_file(), name
    assert not (out / "figures" / "score_heatmap.png").exists()
    assert not (out / "tables" / "ranking.csv").exists()


def test_one_learning_rate_shows_points_and_says_so(tmp_path):
    out = run(tmp_path, matrix(["sgd", "adam"], ["quadratic"], lr="0.05"))
    html, md = assert_sound(out)
    assert "ranking" in sections(html)
    assert "single learning rate per problem here" in md
    assert (out / "figures" / "lr_sensitivity.png").stat().st_size > 5_000


def test_one_seed_gives_no_intervals(tmp_path):
    out = run(tmp_path, matrix(["sgd", "adam"], ["quadratic", "rosenbrock"], seeds=[3]))
    html, md = assert_sound(out)
    assert "ranking" in sections(html)
    assert "single seed, so there is no sampling error to estimate" in md
    assert "95% CI" not in md and "IQR" not in md and "sign test" not in md
    header = "| optimizer | mean normalized score | mean rank | profile score | problems won |"
    assert header + " tied for first |" in md
    assert "on a single seed (no interval and no test)" in md
    assert "One seed: the line is that run, and there is no band." in md


def test_every_run_diverged(tmp_path):
    out = run(tmp_path, matrix(["sgd"], ["rosenbrock"], seeds=[0], lr="1.0"))
    html, md = assert_sound(out)
    assert "Every run diverged: 1 run on 1 problem with 1 seed" in md
    assert "ranking" not in sections(html)
    assert "| problem | optimizer | runs | diverged | lr tried |" in md
    assert "| rosenbrock(dim=2) | sgd | 1 | 1 | 1 |" in md
    assert "Fixed-target ECDF (COCO style): no run reached any target." in md
    assert (out / "figures" / "lr_sensitivity.png").is_file()


def test_every_run_of_several_optimizers_diverged(tmp_path):
    out = run(tmp_path, matrix(["sgd", "adam"], ["rosenbrock"], seeds=[0], lr="[30.0, 100.0]"))
    html, md = assert_sound(out)
    assert "Every run diverged: 4 runs" in md and "ranking" not in sections(html)
    assert "| rosenbrock(dim=2) | adam | 2 | 2 | 30 – 100 |" in md


def test_the_mlp_alone_has_no_f_star(tmp_path):
    out = run(tmp_path, matrix(["sgd", "adam"], ["mlp"], lr="[0.05, 0.3]"))
    html, md = assert_sound(out)
    assert {"ranking", "mlp"} <= set(sections(html))
    assert "final train loss: median \\[IQR\\]" in md
    assert (out / "figures" / "mlp.png").is_file()
    assert "Fixed-target ECDF (COCO style): not applicable" in md


def test_one_optimizer_one_seed_one_problem(tmp_path):
    out = run(tmp_path, matrix(["sgd"], ["quadratic"], seeds=[0], noise=0.01))
    html, md = assert_sound(out)
    assert "ranking" not in sections(html)
    assert "(one seed)" in md and "IQR" not in md
    assert "8 runs" not in md and "2 runs on 1 problem with 1 seed" in md


@pytest.fixture(scope="module")
def two_matrices(tmp_path_factory):
    """One store, three invocations: noise 0.01 (6 runs), noise 0.02 (6 runs), then noise
    0.01 again (nothing new to run); no report built."""
    tmp = tmp_path_factory.mktemp("two")
    out = tmp / "out"
    for noise in (0.01, 0.02, 0.01):
        text = matrix(["sgd"], ["quadratic"], seeds=[0, 1, 2], noise=noise, steps=20)
        (tmp / "m.toml").write_text(text)
        args = ["run", "--config", str(tmp / "m.toml"), "--out", str(out), "--quiet"]
        assert main([*args, "--jobs", "1", "--no-report"]) == 0
    con = sqlite3.connect(out / "optbench.sqlite")
    ids = [r[0] for r in con.execute("SELECT invocation_id FROM invocations ORDER BY started")]
    con.close()
    return out, ids


def report(out, *extra) -> tuple[int, str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", "--out", str(out), "--jobs", "1", *extra])
    return code, err.getvalue()


def test_the_latest_matrix_by_default_and_every_run_with_all(two_matrices):
    out, (_, second, third) = two_matrices
    code, err = report(out)
    assert code == 0
    _, md = assert_sound(out)
    assert "6 runs on 1 problem with 3 seeds" in md and "noise=0.01" in md
    assert "noise=0.02" not in md.split("## The exact matrix")[0]
    note = (
        "the store holds 6 other runs, which that matrix did not plan: the command "
        "optbench report --all"
    )
    assert note in err and note.replace("`", "\\`") in md
    assert f"the latest invocation {third}" in err  # a rerun that ran nothing: still its matrix
    assert "6 of its 12 runs shown" in md
    code, err = report(out, "--all")
    assert code == 0 and "other runs" not in err
    _, md = assert_sound(out)
    assert "12 runs on 2 problems with 3 seeds" in md and "from 3 invocations" in md
    code, err = report(out, "--invocation", second)
    assert code == 0 and f"invocation {second}" in err
    _, md = assert_sound(out)
    assert "noise=0.02" in md and "6 runs on 1 problem" in md
    code, err = report(out, "--invocation", "nope")
    assert code == 2 and "no invocation 'nope'" in err


def test_export_keeps_every_run(two_matrices, tmp_path):
    import pandas as pd

    out, _ = two_matrices
    assert main(["export", "--out", str(out), "--dest", str(tmp_path / "x")]) == 0
    assert len(pd.read_csv(tmp_path / "x" / "runs.csv")) == 12


CRAFTED = "<script>alert(1)</script>|x"
SOURCE = 'class Lion:\n    """</pre><script>alert(2)</script> | a\n| b"""\n    name = "x"\n'


@pytest.fixture(scope="module")
def crafted_store(tmp_path_factory):
    """A real tiny store, then rewritten as a user's plugin would leave it, with markup in
    every text the report shows: names, references, source, settings, errors, labels; and
    adam's lr=0.01 batch (2 runs) recorded as failed instead of stored."""
    tmp = tmp_path_factory.mktemp("crafted")
    out = tmp / "out"
    text = matrix(["sgd", "adam"], ["quadratic"], seeds=[0, 1], steps=20)
    (tmp / "m.toml").write_text(text)
    args = ["run", "--config", str(tmp / "m.toml"), "--out", str(out), "--quiet"]
    assert main([*args, "--jobs", "1", "--no-report"]) == 0
    sha = hashlib.sha256(SOURCE.encode()).hexdigest()
    con = sqlite3.connect(out / "optbench.sqlite")
    (invocation,) = con.execute("SELECT invocation_id FROM invocations").fetchone()
    config = json.dumps({"dim": 2, "dataset_sha256": "d" * 64})
    with con:
        con.execute(
            "UPDATE runs SET optimizer = ?, convention = '', optimizer_ref = ?, "
            "optimizer_sha256 = ?, setting = setting || ?, problem = problem || ?, "
            "problem_config = ? WHERE optimizer = 'sgd'",
            (CRAFTED, f"{CRAFTED}.py:Lion", sha, f", mode={CRAFTED}", f" {CRAFTED}", config),
        )
        con.execute("UPDATE runs SET problem = problem || ? WHERE optimizer = 'adam'",
                    (f" {CRAFTED}",))  # fmt: skip
        failed = [r for (r,) in con.execute(
            "SELECT run_id FROM runs WHERE optimizer = 'adam' AND lr = 0.01")]  # fmt: skip
        for table in ("curves", "paths", "targets"):
            con.execute(f"DELETE FROM {table} WHERE run_key IN (SELECT run_key FROM runs "
                        "WHERE optimizer = 'adam' AND lr = 0.01)")  # fmt: skip
        con.execute("DELETE FROM runs WHERE optimizer = 'adam' AND lr = 0.01")
        rows = [
            ("optimizer", f"{CRAFTED}.py:Lion", sha, CRAFTED, "/x", SOURCE, invocation),
            ("dataset", f"{CRAFTED}.csv", "d" * 64, CRAFTED, None, None, invocation),
            ("optimizer", "unused.py:U", "e" * 64, "Unused", None, "unused", invocation),
        ]
        con.executemany("INSERT INTO plugins VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute(
            "INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?, ?)",
            (invocation, CRAFTED, f"quadratic {CRAFTED}", 2, json.dumps(failed),
             f"ValueError: {CRAFTED}\n| c | d |", "Traceback\n</pre><script>x</script>"),
        )  # fmt: skip
    con.close()
    code, _ = report(out)
    assert code == 0
    return out


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_no_markup_from_the_store_reaches_the_html(crafted_store):
    html = (crafted_store / "report.html").read_text()
    parser = Tags()
    parser.feed(html)
    names = {tag for tag, _ in parser.tags}
    assert "script" not in names and names <= {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "nav", "ol",
        "li", "a", "section", "h2", "h3", "ul", "div", "table", "thead", "tr", "th", "tbody",
        "td", "figure", "img", "figcaption", "pre", "details", "summary",
    }  # fmt: skip
    for tag, attrs in parser.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") > 10
    assert "&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_markdown_tables_keep_their_columns(crafted_store):
    md = (crafted_store / "report.md").read_text()
    tables = md_tables(md)
    assert len(tables) >= 5
    for table in tables:
        assert len({columns(line) for line in table}) == 1, table
    prose = re.sub(r"```.*?```", "", md, flags=re.S)
    assert "<script" not in prose and "&lt;script&gt;" in prose


def test_the_users_code_and_data_and_failed_batches_are_listed(crafted_store):
    html = (crafted_store / "report.html").read_text()
    md = (crafted_store / "report.md").read_text()
    sha = hashlib.sha256(SOURCE.encode()).hexdigest()
    metadata = html.split('<section id="metadata"')[1]
    assert "<td>optimizer</td><td>&lt;script&gt;alert(1)&lt;/script&gt;|x</td>" in metadata
    assert f"<td>{sha[:12]}</td>" in metadata and f"<td>{'d' * 12}</td>" in metadata
    assert "Unused" not in html  # a plugin of the store that these runs did not use
    assert "<details><summary>source of optimizer" in metadata
    assert "| optimizer | code | tuned setting |" in md
    assert f"<td>&lt;script&gt;alert(1)&lt;/script&gt;|x.py:Lion @{sha[:12]}</td>" in html
    failures = html.split('<section id="failures"')[1].split("</section>")[0]
    assert "1 batch raised an error; their 2 runs" in failures
    assert "ValueError: &lt;script&gt;" in failures and "<details><summary>traceback" in failures
    summary = html.split('<section id="summary"')[1].split("</section>")[0]
    assert "2 planned runs of 8 are missing because their batch raised an error" in summary
    assert "PARTIAL" not in html


def test_a_matrix_whose_every_batch_failed_still_gets_a_report(tmp_path):
    out = tmp_path / "out"
    text = matrix(["sgd"], ["quadratic"], seeds=[0], steps=10)
    run(tmp_path, text, out, "--no-report")
    con = sqlite3.connect(out / "optbench.sqlite")
    with con:
        (invocation,) = con.execute("SELECT invocation_id FROM invocations").fetchone()
        ids = [r for (r,) in con.execute("SELECT run_id FROM runs")]
        for table in ("curves", "paths", "targets", "runs"):
            con.execute(f"DELETE FROM {table}")
        con.execute(
            "INSERT INTO failures VALUES (?, 'sgd', 'quadratic', ?, ?, 'ImportError: x', NULL)",
            (invocation, len(ids), json.dumps(ids)),
        )
    con.close()
    code, _ = report(out)
    assert code == 0
    html, md = assert_sound(out)
    assert "every batch raised an error (see Failed batches)" in md
    assert sections(html)[:2] == ["summary", "failures"] and "PARTIAL" not in md
    assert "| sgd | quadratic | 2 | ImportError: x |" in md


def test_two_codes_under_one_name_are_told_apart_by_their_hash():
    import pandas as pd

    from optbench.reports.selection import distinct_problems
    from optbench.reports.style import add_method

    a, b = "a" * 64, "b" * 64
    runs = pd.DataFrame(
        {
            "optimizer": ["adam", "adam", "Lion", "Lion", "sgd"],
            "convention": ["torch", "", "", "", "torch"],
            "optimizer_sha256": [None, a, a, b, None],
            "problem": ["p", "p", "p", "q", "q"],
            "problem_name": ["P", "P", "P", "q", "q"],
            "problem_config": ["{}", "{}", "{}", "{}", "{}"],
            "problem_sha256": [a, b, b, None, None],
        }
    )
    methods = add_method(runs)["method"].tolist()
    assert methods == ["adam", f"adam @{'a' * 12}", f"Lion @{'a' * 12}", f"Lion @{'b' * 12}", "sgd"]
    labels = distinct_problems(runs).tolist()
    assert labels == [f"p @{'a' * 12}", f"p @{'b' * 12}", f"p @{'b' * 12}", "q", "q"]
    assert add_method(runs.drop(columns="optimizer_sha256").iloc[[0, 4]])["method"].tolist() == [
        "adam",
        "sgd",
    ]
