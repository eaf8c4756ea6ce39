"""The two HTML pages (`imr report`, `imr evaluate`) render in a real headless browser.

Chromium loads each page from disk with a script appended that records, once the page has
loaded, how many images it has and how many decoded, how many tables, and the page size; the
browser prints the DOM and the test reads that record. A screenshot of the page must show
content (not a blank or broken page). Without Chromium the tests skip, unless
IMR_REQUIRE_BROWSER=1 (CI sets it and installs Debian's chromium first).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LETTERS = ROOT / "examples" / "letters"
BROWSER = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
WIDTH = 1280

if BROWSER is None:
    if os.environ.get("IMR_REQUIRE_BROWSER") == "1":
        raise RuntimeError("IMR_REQUIRE_BROWSER=1 but no chromium on PATH")
    pytest.skip("no chromium on PATH (set IMR_REQUIRE_BROWSER=1 to make this an error)", allow_module_level=True)

CHECK = """
<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const out = {images: imgs.length,
               decoded: imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0).length,
               drawn: imgs.filter(i => i.getBoundingClientRect().width > 100).length,
               tables: document.querySelectorAll("table").length,
               scroll_width: document.documentElement.scrollWidth,
               height: document.documentElement.scrollHeight,
               text_chars: document.body.innerText.length};
  const pre = document.createElement("pre");
  pre.id = "imr-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium(*args: str) -> subprocess.CompletedProcess:
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--hide-scrollbars", f"--window-size={WIDTH},2400", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def render(page: Path, tmp: Path) -> tuple[dict, Path]:
    """(what the loaded page reports about itself, a screenshot of the unmodified page)."""
    probe = tmp / f"{page.stem}_probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"), encoding="utf-8")
    res = _chromium("--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    m = re.search(r'<pre id="imr-check">(\{.*?\})</pre>', res.stdout)
    assert m, f"the page did not finish loading in the browser: {res.stderr[-500:]}"
    shot = tmp / f"{page.stem}.png"
    res = _chromium(f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), res.stderr[-500:]
    return json.loads(m.group(1)), shot


def ink(png: Path) -> float:
    """Share of the screenshot's pixels that are not near-white (text, tables, figures)."""
    from PIL import Image

    img = Image.open(png).convert("L")
    assert img.size == (WIDTH, 2400)
    hist = img.histogram()
    return sum(hist[:200]) / (img.size[0] * img.size[1])


def imr(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imr", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("pages")
    res = imr("score", LETTERS, "--out", tmp / "scored.jsonl")
    assert res.returncode == 0, res.stderr
    res = imr("report", tmp / "scored.jsonl", "--out", tmp / "analytics")
    assert res.returncode == 0, res.stderr
    res = imr("evaluate", "--data", LETTERS, "--out", tmp / "evaluation")
    assert res.returncode == 0, res.stderr
    return {"analytics": tmp / "analytics" / "analytics.html", "evaluation": tmp / "evaluation" / "report.html"}


@pytest.mark.parametrize("name", ["analytics", "evaluation"])
def test_page_renders_with_every_figure_decoded(name, pages, tmp_path):
    page = pages[name]
    embedded = page.read_text(encoding="utf-8").count("data:image/png;base64,")
    seen, shot = render(page, tmp_path)
    assert embedded >= 4
    assert seen["images"] == seen["decoded"] == seen["drawn"] == embedded, seen
    assert seen["tables"] >= 4 and seen["text_chars"] > 1000, seen
    assert seen["scroll_width"] <= WIDTH, seen  # nothing wider than the window
    assert ink(shot) > 0.02  # the first screen shows text and figures, not a blank page
