"""Open report.html in headless Chromium: every image decodes, nothing overflows a phone-width
screen, and the page's Content-Security-Policy blocks any script (defence in depth behind the
escaping). Skipped, with the reason, only where no Chromium is installed (CI installs Debian's
``chromium``)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from test_report_synthetic import crafted_report

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on PATH (install Debian's `chromium`; .ci/run does) - cannot render",
)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
CHECKER = """<script>window.addEventListener("load", () => {
  const images = [...document.images];
  const b = document.body;
  b.setAttribute("data-images", images.length);
  b.setAttribute("data-loaded", images.filter(i => i.complete && i.naturalWidth > 0).length);
  b.setAttribute("data-overflow", document.documentElement.scrollWidth - window.innerWidth);
  b.setAttribute("data-sections", document.querySelectorAll("section").length);
});</script>"""
CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')


@pytest.fixture(scope="module")
def report():
    return crafted_report()


def dump_body(page, tmp_path, width: int) -> str:
    """The rendered ``<body>`` start tag after the load event, as Chromium's DOM dump."""
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
               f"--window-size={width},900", "--virtual-time-budget=10000", "--dump-dom",
               page.as_uri()]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    body = re.search(r"<body[^>]*>", done.stdout)
    assert body, done.stdout[:2000]
    return body.group(0)


def attribute(tag: str, name: str) -> int:
    match = re.search(rf'{name}="(-?\d+)"', tag)
    assert match, f"{name} not set: the checker script did not run ({tag})"
    return int(match.group(1))


@pytest.mark.parametrize("width", [1280, 390])
def test_report_renders_with_every_image_loaded(report, tmp_path, width):
    html = CSP.sub("", report.read_text()).replace("</body>", CHECKER + "</body>")
    page = tmp_path / "checked.html"
    page.write_text(html)
    body = dump_body(page, tmp_path, width)
    images = attribute(body, "data-images")
    assert images == html.count("<img ") >= 7
    assert attribute(body, "data-loaded") == images
    assert attribute(body, "data-sections") >= 9
    assert attribute(body, "data-overflow") <= 0  # no horizontal scrolling of the page


def test_content_security_policy_blocks_inline_scripts(report, tmp_path):
    page = tmp_path / "with_csp.html"
    page.write_text(report.read_text().replace("</body>", CHECKER + "</body>"))
    body = dump_body(page, tmp_path, 1280)
    assert "data-images" not in body
