"""GUIDELINE normalization (SPEC section 2).

`normalize_guideline(text)` -> ``{"source", "document", "topic", "pages"}``

- `source` in MTUS, ACOEM, ODG, OTHER: the first source named in the citation (aliases in
  configs/lexicons/guideline_documents.yaml); a citation that names an MTUS document without
  saying "MTUS" ("Chronic Pain Medical Treatment 2016", "Low Back Complaints 2004") is MTUS;
  ACOEM with a chapter number or an MTUS-adopted chapter name is MTUS ("MTUS ACOEM Chapter 15",
  "MTUS-adopted ACOEM Guidelines in chapter 15", "ACOEM Guidelines, Chapter 7"); a bare
  "ACOEM" (or an ACOEM 3rd-edition "... Disorders" guideline) is ACOEM; UpToDate, FDA, other
  texts, and text that names no guideline, are OTHER.
- `document`: `acoem_ch<N>` for MTUS-adopted ACOEM chapters (by number or name: "Low Back
  Complaints" -> acoem_ch12), `chronic_pain`, `acupuncture`, `postsurgical`, `opioids`,
  `general_approaches` for other MTUS documents; ODG chapters (`pain`, `mental_illness_stress`,
  `low_back`, `neck_upper_back`, `knee_leg`, `shoulder`, ...); None when the citation names
  only the source ("MTUS", "ODG", "Official Disability Guidelines-Psychotherapy Guidelines").
  The document name must follow the source directly (only fillers such as "(ODG)", years,
  "Chapter", "Guidelines" between), so words inside a topic do not count as a document.
- `topic`: the lower-cased text after the document (or after the source when there is no
  document) up to "Page(s)"/"Decision based on"/the next document, without fillers and
  "(updated ...)" notes: "MTUS Chronic Pain Treatment Guidelines Benzodiazepines Page(s): 24"
  -> "benzodiazepines"; "MTUS Shoulder Complaints 2004, Section(s): Special Studies" ->
  "special studies". An ACOEM chapter's own name is not a topic ("MTUS ACOEM Chapter 15 Stress
  Related Conditions Page(s): 402" -> topic None). None when nothing is left.
- `pages`: the numbers after "Page(s)"/"pages"/"page"/"p."/"pp.", ranges expanded
  ("100-102, 127" -> [100, 101, 102, 127]; "400-1" -> [400, 401]), sorted, unique.

Never raises.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from nlp.config import load_yaml


SOURCES = ("MTUS", "ACOEM", "ODG", "OTHER")
_SEP = r"[\s,\-/]+"
_MAX_RANGE = 60  # a page range wider than this is kept as its two ends


def _alias_re(alias: str) -> str:
    toks = [t for t in re.split(r"[\s,\-/]+", alias.lower().strip()) if t]
    parts = []
    for t in toks:
        parts.append("(?:and|&)" if t == "and" else re.escape(t))
    body = _SEP.join(parts)
    return rf"(?<![a-z0-9]){body}(?![a-z0-9])"


@lru_cache(maxsize=1)
def _data() -> dict:
    cfg = load_yaml("lexicons/guideline_documents.yaml")

    def compile_aliases(mapping: dict) -> list[tuple[str, re.Pattern]]:
        out = []
        for doc, aliases in mapping.items():
            for a in aliases:
                out.append((str(doc), re.compile(_alias_re(str(a)))))
        return out

    sources = []
    for src, aliases in cfg["sources"].items():
        for a in aliases:
            sources.append((src, re.compile(_alias_re(str(a)))))
    chapters = {int(k): [str(a) for a in v] for k, v in cfg["acoem_chapters"].items()}
    chapter_names = compile_aliases({f"acoem_ch{k}": v for k, v in chapters.items()})
    docs = {
        "MTUS": compile_aliases(cfg["mtus_documents"]) + chapter_names,
        "ODG": compile_aliases(cfg["odg_documents"]),
        "ACOEM": compile_aliases(cfg["acoem_documents"]),
        "OTHER": [],
    }
    fillers = sorted({str(f).lower() for f in cfg["topic_fillers"]}, key=len, reverse=True)
    filler_alt = "|".join(
        re.escape(f) + (r"(?![a-z])" if f[-1].isalnum() else "") for f in fillers
    )
    src_alt = "|".join(p.pattern for _, p in sources)
    # what may sit between a source and its document
    gap = re.compile(
        rf"(?:[\s,.:;\-/]+|\([^()]{{0,60}}\)|(?:19|20)\d{{2}}(?![0-9])|(?:{filler_alt})|(?:{src_alt})|"
        rf"non{_SEP}mtus|annual|edition|\d+(?:st|nd|rd|th)|work{_SEP}loss{_SEP}data{_SEP}institute)*"
    )
    notes_alt = "|".join(re.escape(str(n).lower()) for n in cfg["topic_parenthetical_notes"])
    stops = [str(s).lower() for s in cfg["topic_stops"]]
    stop_re = re.compile("|".join(_alias_re(s) if s[-1].isalnum() else re.escape(s) for s in stops))
    return {
        "sources": sources,
        "docs": docs,
        "chapter_names": chapter_names,
        "gap": gap,
        "stop_re": stop_re,
        "filler_re": re.compile(
            rf"^(?:[\s,.:;\-/]+|\(\s*(?:{notes_alt})[^()]*\)|(?:19|20)\d{{2}}(?![0-9])|(?:{filler_alt}))*"
        ),
        "notes_re": re.compile(rf"\(\s*(?:{notes_alt})[^()]*\)"),
    }


_CHAPTER_RE = re.compile(r"(?<![a-z])(?:chapter|chap\.?|ch\.?)\s*(\d{1,2})(?![0-9])")
_PAGES_RE = re.compile(
    r"(?<![a-z])(?:page\(s\)|pages?|pgs?\.?|pp\.?|p\.)\s*[:#]?\s*"
    r"(\d{1,4}(?:\s*(?:-|–|to|,|and|&)\s*\d{1,4})*)"
)


def expand_pages(spec: str) -> list[int]:
    """"100-102, 127" -> [100, 101, 102, 127]; "400-1" -> [400, 401]; sorted, unique."""
    pages: set[int] = set()
    if not isinstance(spec, str):
        return []
    for part in re.split(r"\s*(?:,|;|\band\b|&)\s*", spec):
        m = re.fullmatch(r"\s*(\d{1,4})\s*(?:(?:-|–|to)\s*(\d{1,4}))?\s*", part)
        if not m:
            continue
        a = int(m.group(1))
        if m.group(2) is None:
            pages.add(a)
            continue
        bs = m.group(2)
        b = int(bs)
        if b < a and len(bs) < len(m.group(1)):  # "400-1" -> 401, "303-05" -> 305
            b = int(m.group(1)[: len(m.group(1)) - len(bs)] + bs)
        if b < a:
            a, b = b, a
        if b - a > _MAX_RANGE:
            pages.update((a, b))
        else:
            pages.update(range(a, b + 1))
    return sorted(pages)


def _empty() -> dict:
    return {"source": "OTHER", "document": None, "topic": None, "pages": []}


def normalize_guideline(text: str) -> dict:
    """Normalize a GUIDELINE mention; see the module docstring. (A fresh dict each call: the
    citation components ask for the same texts several times a letter, and callers may keep it.)"""
    norm = _cached_normalize(text)
    return {**norm, "pages": list(norm["pages"])}


@lru_cache(maxsize=4096)
def _cached_normalize(text: str) -> dict:
    try:
        return _normalize(text)
    except Exception:  # never break the pipeline
        return _empty()


def _clean(text: str) -> str:
    t = text.lower().replace("’", "'").replace("–", "-").replace("—", "-")
    t = re.sub(r"\s+", " ", t).strip()
    # "Decision based on Non-MTUS Citation ..." is not part of a citation
    t = re.sub(r"^(?:the\s+)?(?:decision\s+based\s+on\s+)?(?:non[\s\-]*mtus\s+(?:citation\s+)?)?", "", t)
    return t


def _find_doc(src: str, t: str, start: int) -> tuple[str | None, int, int]:
    """Document of `src` that starts right after `start` (only fillers between)."""
    d = _data()
    g = d["gap"].match(t, start)
    pos = g.end() if g else start
    best: tuple[str | None, int, int] = (None, pos, pos)
    best_len = -1
    for doc, pat in d["docs"].get(src, []):
        m = pat.match(t, pos)
        if m and (m.end() - m.start()) > best_len:
            best, best_len = (doc, m.start(), m.end()), m.end() - m.start()
    return best


def _topic(t: str, start: int, doc: str | None) -> str | None:
    d = _data()
    rest = t[start:]
    stop = d["stop_re"].search(rest)
    if stop:
        rest = rest[: stop.start()]
    # the next citation in a combined list ("..., and Chronic Pain Medical Treatment 2016, ...")
    nxt = re.search(r"(?:,\s*|\s)and\s+(?=[a-z ,&]{0,40}(?:complaints|treatment|guidelines?)\s+(?:19|20)\d{2})", rest)
    if nxt:
        rest = rest[: nxt.start()]
    if doc and doc.startswith("acoem_ch"):
        for _ in range(3):
            rest = d["filler_re"].sub("", rest, count=1)
            for name, pat in d["chapter_names"]:
                if name == doc:
                    m = pat.match(rest)
                    if m:
                        rest = rest[m.end():]
                        break
    rest = d["notes_re"].sub(" ", rest)
    rest = re.sub(r"(?<![0-9/])\d{1,2}/\d{1,2}/\d{2,4}(?![0-9/])", " ", rest)  # "12/20/2016"
    for _ in range(3):
        rest = d["filler_re"].sub("", rest, count=1)
    rest = re.sub(r"\s+", " ", rest).strip(" ,.;:-/")
    for _ in range(3):  # unbalanced parentheses at the ends
        if rest.endswith("(") or (rest.count("(") > rest.count(")") and "(" in rest[-1:]):
            rest = rest[:-1].rstrip(" ,.;:-/")
        if rest.startswith(")") or rest.endswith(")") and rest.count(")") > rest.count("("):
            rest = rest[1:] if rest.startswith(")") else rest[:-1]
            rest = rest.strip(" ,.;:-/")
    rest = re.sub(r"\s*(?:\b(?:guidelines?|chapter|section\(s\)|sections?)\s*)+$", "", rest).strip(" ,.;:-/")
    if not rest or not re.search(r"[a-z]", rest):
        return None
    if len(rest) > 200:
        rest = rest[:200].rsplit(" ", 1)[0]
    return rest


def _normalize(text: Any) -> dict:
    if not isinstance(text, str) or not text.strip():
        return _empty()
    raw = text[:3000]
    t = _clean(raw)
    d = _data()
    pages: list[int] = []
    for m in _PAGES_RE.finditer(t):
        pages.extend(expand_pages(m.group(1)))
    # "Elbow Complaints 2007, Section(s): 326" - a section list of bare numbers is pages; a section
    # of the regulation is not ("Section(s): 9792.24.1")
    for m in re.finditer(r"section\(s\)\s*:\s*(\d{2,4}(?:\s*(?:-|,|and)\s*\d{1,4})*)\s*(?=[,;]|\.(?!\d)|$|\s+and\s+[a-z])", t):
        pages.extend(expand_pages(m.group(1)))
    pages = sorted(set(pages))

    hits = []
    for src, pat in d["sources"]:
        m = pat.search(t)
        if m:
            hits.append((m.start(), -(m.end() - m.start()), src, m))
    hits.sort(key=lambda h: (h[0], h[1]))

    chap = _CHAPTER_RE.search(t)
    chap_doc = None
    if chap and 1 <= int(chap.group(1)) <= 15:
        chap_doc = f"acoem_ch{int(chap.group(1))}"

    source = None
    src_end = 0
    if hits:
        _, _, source, m0 = hits[0]
        src_end = m0.end()
        # consecutive source names ("MTUS ACOEM", "MTUS/ACOEM", "Official Disability Guidelines (ODG)")
        for h in hits[1:]:
            between = t[src_end : h[3].start()]
            if h[3].start() >= src_end and re.fullmatch(r"[\s,\-/]*(?:adopted[\s,\-/]*)?", between):
                if source == "ACOEM" and h[2] == "MTUS":
                    source = "MTUS"
                src_end = h[3].end()
        if source == "ACOEM":
            if chap_doc or any(h[2] == "MTUS" for h in hits):
                source = "MTUS"
            else:
                doc, ds, de = _find_doc("MTUS", t, src_end)
                if doc and doc.startswith("acoem_ch"):
                    source = "MTUS"
    else:
        # no source named: an MTUS document or an ACOEM chapter name at the start
        doc, ds, de = _find_doc("MTUS", t, 0)
        if doc is not None:
            source = "MTUS"
        elif chap_doc is not None and re.search(r"acoem|mtus", t):
            source = "MTUS"
        else:
            return {"source": "OTHER", "document": None, "topic": None, "pages": pages}

    if source == "OTHER":
        return {"source": "OTHER", "document": None, "topic": None, "pages": pages}

    doc, ds, de = _find_doc(source, t, src_end)
    if source == "MTUS" and chap_doc and (doc is None or doc.startswith("acoem_ch") or chap.start() < ds):
        if doc is None or chap.start() <= ds + 5 or doc == chap_doc:
            doc, de = chap_doc, max(chap.end(), de if doc == chap_doc else chap.end())
    if doc is None and source == "MTUS" and src_end == 0:
        doc, ds, de = _find_doc("MTUS", t, 0)
    topic_start = de if doc else src_end
    if doc is None:
        g = d["gap"].match(t, src_end)
        topic_start = g.end() if g else src_end
    topic = _topic(t, topic_start, doc)
    return {"source": source, "document": doc, "topic": topic, "pages": pages}


def chapter_at_start(source: str, text: str) -> str | None:
    """The document of `source` whose name a mention starts with, standing as a chapter's name
    (then "Chapter", a comma or parenthesis, or the end): "Low Back" and "Shoulder Chapter,
    Physical therapy" are ODG's low_back and shoulder; "Neck pain treatment" names no chapter."""
    try:
        t = _clean(text[:3000])
        best, end = None, -1
        for doc, pat in _data()["docs"].get(source, []):
            m = pat.match(t)
            if m and m.end() > end:
                best, end = doc, m.end()
        return best if best is not None and re.match(r"\s+chapter\b|\s*$|\s*[,;(]", t[end:]) else None
    except Exception:
        return None


@lru_cache(maxsize=1)
def _joined_names() -> re.Pattern:
    """Every document name of the lexicon that holds "and" ("Forearm, Wrist, and Hand Complaints",
    "Neck and Upper Back"), as one pattern."""
    pats = {p.pattern for docs in _data()["docs"].values() for _, p in docs if "(?:and|&)" in p.pattern}
    return re.compile("|".join(sorted(pats, key=len, reverse=True)) or r"(?!)")


def inside_document_name(text: str, start: int, end: int) -> bool:
    """Does [start, end) of `text` (a joiner: "and", ", and") lie inside one document's name?
    Then it joins the words of that name, not two citations."""
    a = max(0, start - 80)
    window = text[a:end + 80].lower()  # only the joiner's surroundings: this runs per joiner
    return any(m.start() <= start - a and end - a <= m.end() for m in _joined_names().finditer(window))


def names_a_source(text: str) -> bool:
    """Does the mention name a guideline source itself (any alias of `sources`, OTHER's too)?
    "Low Back" and "Lidoderm (lidocaine patch), pages 56-57" do not: listed after a citation,
    they are its further chapter or topic."""
    try:
        t = _clean(text[:3000])
        return any(pat.search(t) for _, pat in _data()["sources"])
    except Exception:
        return True


__all__ = ["normalize_guideline", "names_a_source", "chapter_at_start", "expand_pages", "SOURCES"]
