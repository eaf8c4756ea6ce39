"""Turn PDF-extracted letter text into clean paragraphs.

Extraction leaves wrapped lines (sometimes with blank lines interleaved), page breaks and
page furniture in mid-sentence, hyphenation at line ends and runs of spaces. The output
has one paragraph per line and a blank line between paragraphs; section headings, field
labels ("Decision rationale:") and item headings keep lines of their own. An item heading
whose decision word was wrapped onto the next line is joined back ("...: Overturned").
`normalize_text(normalize_text(t)) == normalize_text(t)`.
"""
from __future__ import annotations

import functools
import re

from nlp.config import load_yaml

_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_SENTENCE_END = re.compile(r"[.!?]['\")\]]?$")


def _key(s: str) -> str:
    return _WS.sub(" ", s).strip().lower()


@functools.lru_cache(maxsize=1)
def _markers():
    cfg = load_yaml("layouts.yaml")
    headings = frozenset(_key(h) for h in cfg["headings"])
    starts = tuple(_key(s) for s in cfg["line_starts"])
    decisions = frozenset(_key(w) for w in cfg["decision_words"].values())
    page_numbers = [re.compile(p, re.I) for p in cfg["page_number_patterns"]]
    para_ends = tuple(_key(s) for s in cfg["paragraph_end_phrases"])
    return headings, starts, decisions, page_numbers, para_ends


def _is_heading(line: str) -> bool:
    return _key(line) in _markers()[0]


def _starts_field(line: str) -> bool:
    return _key(line).startswith(_markers()[1])


def _is_decision_word(line: str) -> bool:
    return _key(line) in _markers()[2]


def _drop_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Remove page numbers and running headers/footers repeated at page edges."""
    if len(pages) < 2:
        return pages
    page_numbers = _markers()[3]

    def edge(lines, first):
        seq = lines if first else list(reversed(lines))
        return next((ln for ln in seq if ln.strip()), None)

    repeated = set()
    for first in (True, False):
        edges = [_key(e) for e in (edge(p, first) for p in pages) if e is not None]
        for k in set(edges):
            # A running header/footer: on most pages, and not a sentence or a heading.
            if (k and edges.count(k) >= 2 and edges.count(k) >= 0.6 * len(pages)
                    and not _SENTENCE_END.search(k) and not _is_heading(k)):
                repeated.add(k)
    out = []
    for lines in pages:
        lines = list(lines)
        for first in (True, False):
            idx = range(len(lines)) if first else range(len(lines) - 1, -1, -1)
            for i in idx:
                s = lines[i]
                if s is None or not s.strip():
                    continue
                if _key(s) in repeated or any(p.match(s) for p in page_numbers):
                    lines[i] = None
                    continue
                break
        out.append([ln for ln in lines if ln is not None])
    return out


def _is_interleaved(lines: list[str]) -> bool:
    """True when blank lines were interleaved between wrapped lines by extraction."""
    wraps = 0
    for a, b, c in zip(lines, lines[1:], lines[2:]):
        if a.strip() and b == "" and c.strip():
            a_s = a.rstrip()
            if not _SENTENCE_END.search(a_s) and not a_s.endswith(":") and c.lstrip()[:1].islower():
                wraps += 1
    return wraps >= 3


def _blocks(lines: list[str]) -> list[list[str]]:
    """Split lines into paragraph blocks; blank lines separate blocks."""
    interleaved = _is_interleaved(lines)
    blocks, cur = [], []
    for ln in lines:
        if ln == "" and interleaved:
            continue
        if not ln.strip():
            if cur:
                blocks.append(cur)
                cur = []
            continue
        cur.append(ln)
    if cur:
        blocks.append(cur)
    return blocks


def _joins(prev: str, nxt: str) -> bool:
    """Does line `nxt` continue the paragraph that line `prev` ends?"""
    if _is_decision_word(nxt) and prev.rstrip().endswith(":"):
        return True
    if _is_heading(prev) or _is_heading(nxt) or _starts_field(nxt):
        return False
    p = prev.rstrip()
    return not (_SENTENCE_END.search(p) or _key(p).endswith(_markers()[4]))


def _join(prev: str, nxt: str) -> str:
    p, n = prev.rstrip(), nxt.lstrip()
    if re.search(r"[a-z]-$", p) and n[:1].islower():
        return p[:-1] + n
    return p + " " + n


def normalize_text(text: str) -> str:
    """Clean extracted letter text; see the module docstring."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = text.replace("\x00", "")
    pages = [p.split("\n") for p in text.split("\f")]
    pages = _drop_page_furniture(pages)
    # A page break is a line break inside the paragraph it interrupts, unless blank.
    lines = [ln for page in pages for ln in page]
    paragraphs = []
    for block in _blocks(lines):
        para = [block[0]]
        for ln in block[1:]:
            if _joins(para[-1], ln):
                para[-1] = _join(para[-1], ln)
            else:
                para.append(ln)
        paragraphs.extend(para)
    clean = (_WS.sub(" ", p).strip() for p in paragraphs)
    return "\n\n".join(p for p in clean if p)
