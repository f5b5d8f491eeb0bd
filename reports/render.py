"""Render the report's sections as one self-contained HTML page and as Markdown.

A report is a list of :class:`Section`; each holds paragraphs, display tables (DataFrames of
strings), figures (PNG files under ``figures/``) and preformatted blocks. Every string that
reaches the page is escaped here, whatever its origin (problem labels, settings and the matrix
come from user configs): ``html.escape`` for HTML, and for Markdown the same plus ``|`` in
table cells. The HTML embeds each PNG as a ``data:`` URI and its CSS inline, has no scripts and
loads nothing from the network; it reflows for narrow (phone) screens.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

CSS = """
:root { color-scheme: light; --fg: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --bg: #fff;
        --accent: #2b5797; --warn: #fff4ce; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 1rem 1.25rem 3rem; color: var(--fg);
       background: var(--bg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 0.25rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
p, li { max-width: 75ch; overflow-wrap: anywhere; }
nav ol { columns: 2; padding-left: 1.2rem; }
.meta { color: var(--muted); font-size: 0.9rem; }
.partial { background: var(--warn); border-left: 4px solid #c79200; padding: 0.6rem 0.9rem; }
.table-wrap { overflow-x: auto; margin: 0.5rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.84rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.55rem; text-align: left;
         vertical-align: top; white-space: nowrap; }
th { background: #f3f5f8; position: sticky; top: 0; }
figure { margin: 1rem 0 1.8rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 0.88rem; margin-top: 0.35rem; max-width: 75ch; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 0.7rem; overflow-x: auto;
      font-size: 0.8rem; }
@media (max-width: 640px) { body { font-size: 14px; padding: 0.6rem; } nav ol { columns: 1; }
                            th, td { padding: 0.25rem 0.4rem; } }
"""


@dataclass
class Figure:
    """A saved figure: ``figures/<name>.png`` (and ``.svg`` on request), with a title and a
    caption."""

    name: str
    title: str
    caption: str


@dataclass
class Table:
    """A display table (strings) and the CSV/Markdown files it was saved as (``tables/<name>``)."""

    name: str
    title: str
    frame: pd.DataFrame


@dataclass
class Section:
    anchor: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)  # a list after the paragraphs
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (title, preformatted text)
    details: list[tuple[str, str]] = field(default_factory=list)  # the same, shown collapsed
    css_class: str = ""


def e(text) -> str:
    """HTML-escape ``text`` (quotes included)."""
    return html.escape(str(text), quote=True)


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{e(c)}</th>" for c in table.frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>"
        for row in table.frame.astype(str).itertuples(index=False)
    )
    return (
        f'<h3>{e(table.title)}</h3><div class="table-wrap"><table><thead><tr>{head}'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _html_figure(figure: Figure, out_dir: Path) -> str:
    data = base64.b64encode((out_dir / "figures" / f"{figure.name}.png").read_bytes()).decode()
    return (
        f'<figure id="fig-{e(figure.name)}"><h3>{e(figure.title)}</h3>'
        f'<img src="data:image/png;base64,{data}" alt="{e(figure.title)}" loading="eager">'
        f"<figcaption>{e(figure.caption)}</figcaption></figure>"
    )


def _html_section(section: Section, out_dir: Path) -> str:
    parts = [
        f'<section id="{e(section.anchor)}" class="{e(section.css_class)}">',
        f"<h2>{e(section.title)}</h2>",
    ]
    parts += [f"<p>{e(p)}</p>" for p in section.paragraphs]
    if section.bullets:
        parts.append("<ul>" + "".join(f"<li>{e(b)}</li>" for b in section.bullets) + "</ul>")
    parts += [_html_table(t) for t in section.tables]
    parts += [_html_figure(f, out_dir) for f in section.figures]
    parts += [f"<h3>{e(title)}</h3><pre>{e(text)}</pre>" for title, text in section.blocks]
    parts += [
        f"<details><summary>{e(title)}</summary><pre>{e(text)}</pre></details>"
        for title, text in section.details
    ]
    return "\n".join([*parts, "</section>"])


def render_html(title: str, subtitle: str, sections: list[Section], out_dir: Path) -> str:
    """The whole page as a string (figures read from ``out_dir/figures``)."""
    toc = "".join(f'<li><a href="#{e(s.anchor)}">{e(s.title)}</a></li>' for s in sections)
    body = "\n".join(_html_section(s, out_dir) for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{e(title)}</h1><p class="meta">{e(subtitle)}</p></header>'
        f"<nav><ol>{toc}</ol></nav>\n{body}\n</body></html>\n"
    )


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]"})
_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " "})  # CommonMark's line endings


def md(text) -> str:
    """Escape ``text`` for Markdown prose: HTML metacharacters become entities, the characters
    of emphasis, code and links are backslash-escaped (no injected link or markup), and line
    breaks become spaces (a label cannot start a heading, list or table of its own)."""
    return html.escape(str(text), quote=False).translate(_MD_SPECIAL).translate(_LINE_BREAKS)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (cells escaped, ``|`` too)."""

    def cell(value) -> str:
        return md(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(cell(c) for c in frame.columns) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |"
        for row in frame.astype(str).itertuples(index=False)
    ]
    return "\n".join(lines)


def _longest_run(text: str, char: str) -> int:
    run = best = 0
    for c in text:
        run = run + 1 if c == char else 0
        best = max(best, run)
    return best


def render_markdown(title: str, subtitle: str, sections: list[Section], svg: bool = False) -> str:
    """The report as Markdown, with the same tables and links to ``figures/*.png`` (and to
    the ``.svg`` files, when ``svg``)."""
    out = [f"# {md(title)}", "", md(subtitle), ""]
    for section in sections:
        out += [f"## {md(section.title)}", ""]
        for paragraph in section.paragraphs:
            out += [md(paragraph), ""]
        if section.bullets:
            out += [*(f"- {md(b)}" for b in section.bullets), ""]
        for table in section.tables:
            out += [f"### {md(table.title)}", "", markdown_table(table.frame), ""]
        for figure in section.figures:
            out += [
                f"### {md(figure.title)}",
                "",
                f"![{md(figure.title)}](figures/{figure.name}.png)",
                "",
                f"*{md(figure.caption)}*"
                + (f" (vector: [SVG](figures/{figure.name}.svg))" if svg else ""),
                "",
            ]
        for block_title, text in [*section.blocks, *section.details]:
            fence = "`" * max(3, _longest_run(text, "`") + 1)
            out += [f"### {md(block_title)}", "", fence, text.rstrip("\n"), fence, ""]
    return "\n".join(out)
