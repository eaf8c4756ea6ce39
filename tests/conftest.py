"""Shared test helpers: where the bundled letters live, and a PDF maker for letters."""
from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
LETTERS = EXAMPLES / "letters"
REAL = EXAMPLES / "real"
GOLD = EXAMPLES / "gold"
LAYOUTS = Path(__file__).parent / "fixtures" / "layouts"
REAL_LABELS = ROOT / "training" / "real_labels" / "real_items.jsonl"


def letter_pdf(text: str, lines_per_page: int = 45) -> bytes:
    """A text-layer PDF of a letter, wrapped at 90 characters like the published ones."""
    from reportlab.pdfgen import canvas

    lines = []
    for para in text.split("\n"):
        lines.extend(textwrap.wrap(para, 90) or [""])
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for start in range(0, len(lines), lines_per_page):
        y = 760
        for ln in lines[start:start + lines_per_page]:
            c.drawString(50, y, ln)
            y -= 15
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="session")
def gold() -> dict:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(GOLD.glob("*.json"))}


@pytest.fixture(scope="session")
def real_labels() -> list[dict]:
    return [json.loads(line) for line in REAL_LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
