"""Layout detection and splitting of a normalized letter into header, summary and items.

Works on the output of `nlp.textnorm.normalize_text` (one paragraph per line). All markers
and patterns come from `configs/layouts.yaml`; every part keeps its character span so that
entities found later can be assigned to a section and an item.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import sys
from dataclasses import dataclass, field

from nlp.config import load_yaml
from nlp.textnorm import phrase_pattern, with_item_number

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Span:
    start: int
    end: int

    def text(self, doc: str) -> str:
        return doc[self.start:self.end]

    def __contains__(self, pos: int) -> bool:
        return self.start <= pos < self.end


@dataclass
class ItemLayout:
    index: int
    span: Span  # heading start to the next item (or the end of the letter)
    heading: Span
    request: str
    original_request: str | None
    decision: str | None  # "upheld" | "overturned" | None when not stated
    claims_administrator: Span | None = None
    reviewer: Span | None = None
    rationale: Span | None = None


@dataclass
class LetterLayout:
    format: str
    header: Span
    summary: Span | None
    items_section: Span | None
    items: list[ItemLayout] = field(default_factory=list)

    def locate(self, start: int) -> tuple[str, int | None]:
        """(section, item index) of a character offset."""
        for it in self.items:
            if start in it.span:
                return "item", it.index
        if self.summary and start in self.summary:
            return "summary", None
        if self.items_section and start in self.items_section:
            return "item", None
        return "header", None


def _ci(pattern: str) -> re.Pattern:
    """A case-insensitive pattern of configs/layouts.yaml, its `{item_number}` and `{item_label}` written out."""
    return re.compile(with_item_number(pattern, load_yaml("layouts.yaml")), re.I)


def _bare_or_colon(label: str) -> str:
    """A field label's pattern that ends in its colon, or, alone on its line, without it
    ("Rationale for the Decision" above its text)."""
    return label[:-1] + r"(?::|[ \t]*$)" if label.endswith(":") else label


@functools.lru_cache(maxsize=1)
def _cfg():
    cfg = load_yaml("layouts.yaml")
    return {
        "layouts": cfg["layouts"],
        "sections": cfg["sections"],
        "headings": {k: [_ci(p) for p in v] for k, v in cfg["item_headings"].items()},
        "headings_before_field": {k: [_ci(p) for p in v]
                                  for k, v in (cfg.get("item_headings_before_field") or {}).items()},
        "summary_end": [_ci(p) for p in cfg["summary_end_headings"]],
        "documents_leads": [_ci(p) for p in cfg.get("documents_list_leads", [])],
        "concluding": [_ci(p) for p in cfg["concluding_statements"]],
        "determinations": [_ci(p) for p in cfg["determinations"]],
        "determination_start": _ci(cfg["determination_start"]),
        "original": _ci(cfg["partial_authorization"]["original"]),
        "remaining": _ci(cfg["partial_authorization"]["remaining"]),
        "fields": {role: [_bare_or_colon(x) for x in [phrase_pattern(x) for x in labels] + list(cfg["item_field_patterns"].get(role, []))]
                   for role, labels in cfg["item_fields"].items()},
        "fields_anywhere": {_bare_or_colon(phrase_pattern(x)) for x in cfg.get("item_fields_anywhere", [])},
        "both_sides": list(cfg["item_field_patterns"]["guidelines"]),
        "both_named": list(cfg["item_field_patterns"].get("both_named", [])),
        "side_cues": {role: _ci(r"(?:%s)" % "|".join(cues)) for role, cues in cfg["field_side_cues"].items()},
        "decision_words": {v.lower(): k for k, v in cfg["decision_words"].items()},
    }


def _paragraphs(text: str):
    """(start, end) of every non-empty line."""
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            yield pos, pos + len(line)
        pos += len(line) + 1


def detect_format(text: str) -> str:
    low = re.sub(r"\s+", " ", text.lower())
    for name, rule in _cfg()["layouts"].items():
        if all(m.lower() in low for m in rule["all"]):
            return name
    return UNKNOWN


def _find_heading_line(text: str, names: list[str], start: int = 0) -> tuple[int, int] | None:
    """Span of the first paragraph at/after `start` that is one of the section headings, alone
    or run in before its text after a colon ("Expert Reviewer Case Summary: The expert ...")."""
    keys = {re.sub(r"\s+", " ", n).strip().lower().rstrip(":") for n in names}
    for s, e in _paragraphs(text):
        if s < start:
            continue
        para = re.sub(r"\s+", " ", text[s:e]).strip().lower()
        if para.rstrip(":") in keys or para.split(":", 1)[0] in keys:
            return s, e
    return None


def _past_documents_list(text: str, heading: tuple[int, int], end: int, names: list[str]) -> tuple[int, int]:
    """The summary heading to start at: a second one before `end` when the first heading's own paragraph, or the
    one after it, opens a list of the documents reviewed (that list is front matter: SPEC section 2); else
    `heading`."""
    second = _find_heading_line(text, names, heading[1])
    if not second or second[0] >= end:
        return heading
    first_paras = [heading] + [(heading[1] + s, heading[1] + e) for s, e in _paragraphs(text[heading[1]:second[0]])][:1]
    for s, e in first_paras:
        para = _collapse(text[s:e])
        if any(p.search(para) for p in _cfg()["documents_leads"]) or any(p.match(para) for p in _cfg()["summary_end"]):
            return second
    return heading


def _summary_end(text: str, start: int, end: int) -> int:
    """Where a summary running from `start` to at most `end` ends: at a list of the documents reviewed
    placed after it, else at `end` (a list that opens the summary is the summary's own first paragraph)."""
    for k, (s, e) in enumerate(_paragraphs(text[start:end])):
        if k and any(p.match(_collapse(text[start + s:start + e])) for p in _cfg()["summary_end"]):
            return start + s
    return end


def _collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _decision(m: re.Match) -> str | None:
    gd = m.groupdict()
    if gd.get("decision"):
        return _cfg()["decision_words"].get(gd["decision"].lower())
    if "negation" in gd:
        return "upheld" if gd["negation"] else "overturned"
    return None


def _split_request(text: str, para: tuple[int, int], before: list[tuple[int, int]], request: str):
    """Resolve partial authorizations: (request, original_request, heading start). The original
    request stands in the heading's paragraph or in one of the paragraphs `before` it (nearest
    first: "X was the original request." / "Y was authorized by the Claims Administrator." / "The
    remaining IMR eligible portion ..., Z is: Upheld" written as three paragraphs)."""
    c = _cfg()
    heading_start = para[0]
    m_rem = c["remaining"].search(request)
    if not m_rem:
        return _collapse(request), None, heading_start
    remaining = _collapse(m_rem.group("request"))
    m_orig = c["original"].search(text[para[0]:para[1]])
    for prev in before:
        if m_orig is not None:
            break
        m_orig = c["original"].search(text[prev[0]:prev[1]])
        if m_orig is not None:
            heading_start = prev[0]
    original = _collapse(m_orig.group("original")) if m_orig else None
    return remaining, original, heading_start


_ORIGINAL_LOOKBACK = 2  # paragraphs before a "remaining portion" heading that may state the original request


def _opens_field(text: str, para: tuple[int, int]) -> bool:
    """Does the paragraph begin with one of the item field labels `_fields` reads ("Medical Treatment
    Guideline(s) Relied Upon by the Expert Reviewer:")?"""
    line = text[para[0]:para[1]]
    return any(re.match(lab, line, re.I) for labels in _cfg()["fields"].values() for lab in labels)


def _item_headings(text: str, fmt: str, start: int, end: int):
    """The item headings of the first pattern that finds any; failing all, those of
    `item_headings_before_field` whose next paragraph opens an item field (a bare numbered request,
    "1. Pre-surgical psychological evaluation", is a heading only there)."""
    paras = [p for p in _paragraphs(text) if start <= p[0] < end]
    formats = [fmt] if fmt != UNKNOWN else list(_cfg()["headings"])
    for name in formats:
        for pat in _cfg()["headings"][name]:
            found = []
            for i, (s, e) in enumerate(paras):
                m = pat.match(text[s:e])
                if m and _opens_field(text, (s, e)):
                    s, m = _run_in_heading(text, s, e, pat)
                if m:
                    found.append((i, s, e, m))
            if found:
                return paras, found
    for name in formats:
        for pat in _cfg()["headings_before_field"].get(name, []):
            found = [(i, s, e, m) for i, (s, e) in enumerate(paras[:-1])
                     if (m := pat.match(text[s:e])) and _opens_field(text, paras[i + 1])]
            if found:
                return paras, found
    return paras, []


_SENTENCE_START = re.compile(r"[.!?]\s+(?=\S)")


def _run_in_heading(text: str, s: int, e: int, pat: re.Pattern) -> tuple[int, re.Match | None]:
    """A heading that extraction ran into the end of the previous item's field ("Decision rationale: ... documents
    a need. Office visits QTY: 3.00: Overturned"): (where it starts, its match) from the last sentence of the
    paragraph [s, e) on that `pat` matches; (s, None) if none does (a field's paragraph is no heading)."""
    for b in reversed([m.end() for m in _SENTENCE_START.finditer(text, s, e)]):
        m = pat.match(text[b:e])
        if m:
            return b, m
    return s, None


def _headless_items(text: str, start: int, end: int) -> list[int]:
    """Where the items of a notice without item headings begin: at each paragraph that opens with a
    claims administrator's guideline field, its first field."""
    labels = _cfg()["fields"]["claims_administrator"]
    return [s for s, e in _paragraphs(text) if start <= s < end
            and any(re.match(lab, text[s:e], re.I) for lab in labels)]


SIDES = ("claims_administrator", "reviewer")
# a sentence of a guideline field ends at a period, a semicolon or a paragraph's end ("The Claims Administrator
# based its decision on: ODG Diabetes Chapter" / "The Expert Reviewer based the decision on: ...", no periods)
_SENTENCE_END = re.compile(r"[.;]\s+|\n[ \t]*\n\s*")


@functools.lru_cache(maxsize=1)
def _field_labels() -> list[tuple[str, re.Pattern | None, list[re.Pattern]]]:
    """(role, where any of its labels starts, each label) for every field role. A side's or the
    rationale's label stands at a line's start or runs in after a sentence ("... appropriate. Claims
    Administrator guideline:"), the published form's side labels after any white space
    (`item_fields_anywhere`); a label naming no side only at a line's start ("... 261. Non-MTUS
    Citation: ..." is none). Scanning a body for where any run-in label starts, once per role, and
    trying each label only there is several times faster than scanning for each label: a pattern
    that may start after a sentence is tried at every character."""
    labels = dict(_cfg()["fields"], both_sides=_cfg()["both_sides"], both_named=_cfg()["both_named"])
    run_in, anywhere = r"(?:^[ \t]*|(?<=[.!?] ))", r"(?:^[ \t]*|(?<=[ \t]))"
    out = []
    for role, patterns in labels.items():
        if role not in SIDES + ("rationale",):
            out.append((role, None, [re.compile(r"(?im)^" + lab + r"\s*") for lab in patterns]))
            continue
        free = [lab for lab in patterns if lab in _cfg()["fields_anywhere"]]
        starts = run_in + "(?=" + "|".join(f"(?:{lab})" for lab in patterns) + ")"
        if free:
            starts += r"|(?<=[ \t])(?=" + "|".join(f"(?:{lab})" for lab in free) + ")"
        out.append((role, re.compile(r"(?im)" + starts),
                    [re.compile(r"(?im)" + (anywhere if lab in free else run_in) + lab + r"\s*") for lab in patterns]))
    return out


def _label_matches(body: str, starts: list[int] | None, label: re.Pattern):
    """`label.finditer(body)`, trying `label` only at `starts` (where one of its role's labels starts)."""
    if starts is None:
        yield from label.finditer(body)
        return
    end = 0
    for s in starts:
        if s >= end and (m := label.match(body, s)):
            end = max(m.end(), m.start() + 1)
            yield m


def _fields(text: str, item: ItemLayout) -> None:
    """Find the guideline and rationale fields inside an item's span, then give each side the
    sentences of a guideline field that name it (`_side_sentences`)."""
    body_start, body_end = item.heading.end, item.span.end
    body = text[body_start:body_end]
    marks = []
    for role, starts, patterns in _field_labels():
        at = None if starts is None else [s.start() for s in starts.finditer(body)]
        for label in patterns:
            for m in _label_matches(body, at, label):
                marks.append((m.start(), m.end(), role))
    marks.sort()
    found: dict[str, Span] = {}
    for k, (s, e, role) in enumerate(marks):
        if role in found or any(s < f.end - body_start and f.start - body_start < e for f in found.values()):
            continue  # a label is read once, and never inside another label
        nxt = next((m[0] for m in marks[k + 1:] if m[2] != role and m[0] >= e), len(body))
        seg_end = len(body[:nxt].rstrip())
        if seg_end <= e and any(m[2] == role for m in marks[k + 1:]):
            # nothing before the next label: a heading over the sides' labels ("Guideline(s) Relied Upon:"),
            # whose role a later label of it takes
            continue
        found[role] = Span(body_start + e, body_start + max(e, seg_end))
    if "both_named" in found:  # "Claims Administrator and MAXIMUS guideline:": each side's citations
        for side in SIDES:
            found.setdefault(side, found["both_named"])
    if "rationale" in found and not any(role in found for role in SIDES + ("both_sides",)):
        # No guideline label: the paragraphs between the heading and the rationale ("The Claims
        # Administrator based its decision on X. The Expert Reviewer based ... on Y.") are read as
        # a field naming both sides; only sentences with a side cue are kept.
        label_start = next(s for s, _, role in marks if role == "rationale")
        lead = body[:label_start].rstrip()
        first = len(lead) - len(lead.lstrip())
        if lead.strip():
            found["both_sides"] = Span(body_start + first, body_start + len(lead))
    if marks and not any(role in found for role in ("claims_administrator", "both_sides")):
        _claims_lead(body, body_start, marks[0][0], found)
    if not marks:
        _unlabelled_fields(body, body_start, found)
    for role in ("rationale",) + SIDES:
        if role in found:
            setattr(item, role, found[role])
    _side_sentences(text, item, found)


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _claims_lead(body: str, body_start: int, first_label: int, found: dict[str, Span]) -> None:
    """Labelled fields but none for the claims administrator: the paragraphs before the first
    label, when one of them opens by naming it ("The Claims Administrator based its decision on
    X."), are read as a field naming both sides (only sentences with a side cue are kept)."""
    lead = body[:first_label].rstrip()
    first = len(lead) - len(lead.lstrip())
    starts = [first] + [m.end() for m in _PARAGRAPH_BREAK.finditer(lead, first)]
    claims = _cfg()["side_cues"]["claims_administrator"]
    if lead.strip() and any(claims.match(lead, s) for s in starts):
        found["both_sides"] = Span(body_start + first, body_start + len(lead))


def _unlabelled_fields(body: str, body_start: int, found: dict[str, Span]) -> None:
    """An item without any field label: the paragraphs it opens with that name a side ("The Claims
    Administrator based its decision on X." / "The Expert Reviewer based his/her decision on Y.")
    are its guideline field, the paragraphs after them its rationale."""
    cues = _cfg()["side_cues"]
    first = len(body) - len(body.lstrip())
    starts = [first] + [m.end() for m in _PARAGRAPH_BREAK.finditer(body, first)]
    k = 0
    while k < len(starts) and any(rx.match(body, starts[k]) for rx in cues.values()):
        k += 1
    if k == 0 or k >= len(starts):
        return  # no side named up front, or nothing after it to be the rationale
    field_end = len(body[:starts[k]].rstrip())
    found["both_sides"] = Span(body_start + first, body_start + field_end)
    rat_end = len(body.rstrip())
    if rat_end > starts[k]:
        found["rationale"] = Span(body_start + starts[k], body_start + rat_end)


def _side_sentences(text: str, item: ItemLayout, found: dict[str, Span]) -> None:
    """A guideline field whose sentences say whose guideline they name ("The Claims Administrator
    based its decision on X. The Expert Reviewer relied on Y.", `field_side_cues`): each side gets
    its own sentences, unless a field of its own label names it. Sentences before the first cue
    stay with the field's side. A field that names no side, labelled ("Guideline(s) cited: X") or
    the paragraphs before the rationale's label ("Decision based on MTUS ..."), is the reviewer's:
    the item block is the reviewer's decision."""
    cues = _cfg()["side_cues"]
    for role in ("both_sides",) + SIDES:
        field_span = found.get(role)
        if field_span is None:
            continue
        sentences = [field_span.start] + [m.end() for m in _SENTENCE_END.finditer(text, field_span.start, field_span.end)]
        starts = sorted((pos, side) for pos in sentences for side, rx in cues.items()
                        if rx.match(text, pos, field_span.end))
        if not starts and role == "both_sides" and "reviewer" not in found:
            item.reviewer = field_span
            continue
        if not starts or all(side == role for _, side in starts):
            continue
        bounds = [(field_span.start, role)] if starts[0][0] > field_span.start else []
        bounds += starts
        runs: dict[str, Span] = {}
        for k, (start, side) in enumerate(bounds):
            end = bounds[k + 1][0] if k + 1 < len(bounds) else field_span.end
            end = start + len(text[start:end].rstrip())
            if side not in runs and side in SIDES:
                runs[side] = Span(start, end)
            elif side in runs and bounds[k - 1][1] == side and runs[side].end >= bounds[k - 1][0]:
                runs[side] = Span(runs[side].start, end)  # its sentences go on (the first run names it)
        for side in SIDES:
            own = found.get(side)
            if side in runs and (own is None or own == field_span):
                setattr(item, side, runs[side])


def _determination_pieces(paragraph: str) -> list[str]:
    """The determinations of one paragraph: the whole of it, or, when it holds several or a
    label before one, each from its start to the next."""
    starts = [m.start() for m in _cfg()["determination_start"].finditer(paragraph)]
    if starts in ([], [0]):
        return [paragraph]
    return [paragraph[a:b].strip() for a, b in zip(starts, starts[1:] + [len(paragraph)])]


def _determinations(text: str, end: int) -> list[tuple[str, str | None]]:
    out = []
    for s, e in _paragraphs(text[:end]):
        for piece in _determination_pieces(text[s:e]):
            for pat in _cfg()["determinations"]:
                m = pat.match(piece)
                if m:
                    out.append((_collapse(m.group("request")), _decision(m)))
                    break
    return out


def _words(s: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", s.lower()))


def _concluding_decision(body: str) -> str | None:
    """The decision an item's text concludes with: its last concluding statement's, else None."""
    body = _collapse(body)
    last = None
    for pat in _cfg()["concluding"]:
        for m in pat.finditer(body):
            if last is None or m.start() > last.start():
                last = m
    return _decision(last) if last is not None else None


def _upfront_decision(request: str, k: int, upfront: list[tuple[str, str | None]], n_items: int) -> str | None:
    """The decision of item k from the determinations up front: in order when there are as many as items,
    else the one whose request shares most of this item's words (none sharing half: no decision), so that
    a determination the patterns missed never shifts the others onto the wrong items."""
    if len(upfront) == n_items:
        return upfront[k][1]
    words = _words(request)
    if not words:
        return None
    overlap, decision = max(((len(words & _words(r)) / len(words), d) for r, d in upfront), key=lambda od: od[0])
    return decision if overlap >= 0.5 else None


def parse_layout(text: str) -> LetterLayout:
    """Split normalized letter text into its parts (see module docstring)."""
    fmt = detect_format(text)
    n = len(text)
    secs = _cfg()["sections"].get(fmt, {"summary": [], "items": []})
    all_items = [h for v in _cfg()["sections"].values() for h in v["items"]]
    all_summary = [h for v in _cfg()["sections"].values() for h in v["summary"]]
    items_h = _find_heading_line(text, secs["items"] or all_items)
    summ_h = _find_heading_line(text, secs["summary"] or all_summary)
    # dwc_2013_notice: the decision heading precedes qualifications and summary; the items begin
    # at the first item heading after the summary heading
    decisions_first = bool(items_h and summ_h and items_h[0] < summ_h[0])
    if decisions_first:
        search_start = summ_h[1]
    else:
        search_start = items_h[1] if items_h else (summ_h[1] if summ_h else 0)
    paras, found = _item_headings(text, fmt, search_start, n)
    headless = _headless_items(text, search_start, n) if not found and fmt == "dwc_2013_notice" else []
    if decisions_first:
        items_start = found[0][1] if found else (headless[0] if headless else n)
    else:
        items_start = items_h[0] if items_h else n
    if summ_h and summ_h[0] < items_start:
        summ_h = _past_documents_list(text, summ_h, items_start, secs["summary"] or all_summary)
    summary = Span(summ_h[0], _summary_end(text, summ_h[1], items_start)) if summ_h and summ_h[0] < items_start else None
    header_end = summary.start if summary else items_start
    layout = LetterLayout(format=fmt, header=Span(0, header_end), summary=summary,
                          items_section=Span(items_start, n) if (items_h or found) else None)
    # a notice's determinations stand before its first item (heading), whichever section holds them
    first_item = found[0][1] if found else (headless[0] if headless else items_start)
    upfront = _determinations(text, first_item) if fmt == "dwc_2013_notice" else []
    if headless and len(headless) == len(upfront):
        # no item headings: each item is a run of fields, in the order of the determinations up front
        for k, (start, (request, decision)) in enumerate(zip(headless, upfront)):
            end = headless[k + 1] if k + 1 < len(headless) else n
            item = ItemLayout(index=k + 1, span=Span(start, end), heading=Span(start, start), request=request,
                              original_request=None, decision=decision)
            _fields(text, item)
            layout.items.append(item)
        return layout
    requests = []
    for k, (i, s, e, m) in enumerate(found):
        floor = found[k - 1][0] + 1 if k > 0 else 0  # never before the previous heading's paragraph
        before = [paras[j] for j in range(i - 1, max(floor, i - _ORIGINAL_LOOKBACK) - 1, -1)]
        requests.append(_split_request(text, (s, e), before, m.group("request")))
    for k, (i, s, e, m) in enumerate(found):
        request, original, h_start = requests[k]
        decision = _decision(m)
        if decision is None and upfront:
            decision = _upfront_decision(request, k, upfront, len(found))
        # the next item begins where its heading does, its original request included
        item_end = requests[k + 1][2] if k + 1 < len(found) else n
        if decision is None:
            decision = _concluding_decision(text[s + m.end():item_end])
        # the heading ends where its pattern does: a statement run into its fields ends before them
        item = ItemLayout(index=k + 1, span=Span(h_start, item_end), heading=Span(h_start, s + m.end()),
                          request=request, original_request=original, decision=decision)
        _fields(text, item)
        layout.items.append(item)
    return layout


# --------------------------------------------------------------------- on a spaCy Doc
# The NER pipeline keeps a letter's layout on `doc._.layout` (nlp/ner/components.py). spaCy
# serializes a Doc's extension values with msgpack (`Doc.to_bytes`, `DocBin(store_user_data=True)`,
# `nlp.pipe(..., n_process=2)`), so a `LetterLayout` travels as a plain dict with a marker key,
# through srsly's msgpack encoder and decoder registries: entry points of the installed package
# (pyproject.toml), and `register_msgpack()` for a process that imports this module after srsly.
_MSGPACK_KEY = "__imr_letter_layout__"


def _span_out(span: Span | None) -> list[int] | None:
    return None if span is None else [span.start, span.end]


def _span_in(value) -> Span | None:
    return None if value is None else Span(int(value[0]), int(value[1]))


def layout_to_dict(layout: LetterLayout) -> dict:
    """`layout` as plain data (lists, strings, numbers); `layout_from_dict` reads it back."""
    return {"format": layout.format, "header": _span_out(layout.header), "summary": _span_out(layout.summary),
            "items_section": _span_out(layout.items_section),
            "items": [{f.name: _span_out(getattr(it, f.name)) if "Span" in str(f.type) else getattr(it, f.name)
                       for f in dataclasses.fields(ItemLayout)} for it in layout.items]}


def layout_from_dict(data: dict) -> LetterLayout:
    span_fields = {f.name for f in dataclasses.fields(ItemLayout) if "Span" in str(f.type)}
    items = [ItemLayout(**{k: _span_in(v) if k in span_fields else v for k, v in it.items()})
             for it in data.get("items") or []]
    return LetterLayout(data["format"], _span_in(data["header"]), _span_in(data.get("summary")),
                        _span_in(data.get("items_section")), items)


def encode_msgpack(obj, chain=None):
    """srsly msgpack encoder: a `LetterLayout` as a marked dict."""
    if isinstance(obj, LetterLayout):
        return {_MSGPACK_KEY: layout_to_dict(obj)}
    return chain(obj) if chain is not None else obj


def decode_msgpack(obj, chain=None):
    """srsly msgpack decoder: a marked dict back to a `LetterLayout`."""
    if isinstance(obj, dict) and _MSGPACK_KEY in obj:
        return layout_from_dict(obj[_MSGPACK_KEY])
    return chain(obj) if chain is not None else obj


def register_msgpack() -> None:
    """Register the encoder and decoder with srsly (idempotent; imports srsly)."""
    import srsly

    srsly.msgpack_encoders.register("imr_letter_layout", func=encode_msgpack)
    srsly.msgpack_decoders.register("imr_letter_layout", func=decode_msgpack)


if "srsly" in sys.modules:  # spaCy is loaded already: cheap, and covers an editable install
    register_msgpack()
