"""spaCy components for IMR letters, registered as factories (entry points in pyproject.toml).

- `imr_sections`: a section detector; runs the layout parser on the (normalized) doc text and
  keeps the result on `doc._.layout` (medspaCy-style: sections are plain data on the Doc).
- `imr_citation_trimmer`: cuts a GUIDELINE entity of the model at a word that cannot belong to
  a citation ("cited", "above", "recommend": configs/ner/ruler_patterns.yaml).
- `imr_citation_extender`: extends GUIDELINE entities over a following chapter, topic and
  page list (regular expressions from configs/ner/ruler_patterns.yaml, saved in the pipeline).
- `imr_request_quantity`: the "QUANTITY: 6.00" of a non-drug request's heading is a SESSION_COUNT.
- `imr_entity_filter`: drops entities that cannot be what their label says.
- `imr_entity_normalizer`: sets `span._.norm`, `span._.section` and `span._.item` on every
  entity (SPEC.md section 2) from the lexicon-driven normalizers.
"""
from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.layout import parse_layout
from nlp.normalizers import infer_count_role, normalize_count, normalize_drug, normalize_guideline

for _name in ("norm", "section", "item"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=None)
for _name in ("layout", "letter_text"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])|\n")


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the sentence (or line) around [start, end): a cheap splitter, no parser needed."""
    left = 0
    for m in _SENT_END.finditer(text, max(0, start - 600), start):
        left = m.end()
    m = _SENT_END.search(text, end)
    right = m.start() if m else len(text)
    return left, right


def letter_text(doc: Doc) -> str:
    """The doc's text, kept on `doc._.letter_text`: `doc.text` joins every token on each access
    (about a millisecond per letter, and three components read it)."""
    if doc._.letter_text is None:
        doc._.letter_text = doc.text
    return doc._.letter_text


class SectionDetector:
    def __call__(self, doc: Doc) -> Doc:
        if doc._.layout is None:
            doc._.layout = parse_layout(letter_text(doc))
        return doc


@Language.factory("imr_sections")
def make_section_detector(nlp: Language, name: str) -> SectionDetector:
    return SectionDetector()


class CitationExtender:
    """Extend each GUIDELINE entity over the chapter, topic and pages that follow it.

    `tails` are regular expressions tried right after the entity (the first that matches wins);
    the extension stops at a token boundary and never runs into the next entity."""

    def __init__(self, tails: list[str]):
        self.tails = [re.compile(t) for t in tails]

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        text = letter_text(doc)
        changed = False
        for k, ent in enumerate(ents):
            if ent.label_ != "GUIDELINE":
                continue
            limit = ents[k + 1].start_char if k + 1 < len(ents) else len(text)
            for tail in self.tails:
                m = tail.match(text, ent.end_char)
                if not m or m.end() <= ent.end_char:
                    continue
                span = doc.char_span(ent.start_char, min(m.end(), limit), label="GUIDELINE", alignment_mode="contract")
                if span is not None and span.end > ent.end:
                    ents[k] = span
                    changed = True
                break
        if changed:
            doc.ents = ents
        return doc


@Language.factory("imr_citation_extender", default_config={"tails": []})
def make_citation_extender(nlp: Language, name: str, tails: list[str]) -> CitationExtender:
    return CitationExtender(tails)


class CitationTrimmer:
    """Cut a GUIDELINE entity at the first of `stop_words` after its first token: "the ODG cited
    above recommend office visits" names "ODG", not what the sentence says of it. The freed tokens
    are left for the patterns that run next (a count inside them is still found)."""

    def __init__(self, stop_words: list[str]):
        self.stop_words = {w.lower() for w in stop_words}

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        changed = False
        for k, ent in enumerate(ents):
            if ent.label_ != "GUIDELINE":
                continue
            for i in range(ent.start + 1, ent.end):
                if doc[i].lower_ in self.stop_words:
                    end = i
                    while end > ent.start + 1 and doc[end - 1].is_punct:  # no trailing comma
                        end -= 1
                    ents[k] = Span(doc, ent.start, end, label="GUIDELINE")
                    changed = True
                    break
        if changed:
            doc.ents = ents
        return doc


@Language.factory("imr_citation_trimmer", default_config={"stop_words": []})
def make_citation_trimmer(nlp: Language, name: str, stop_words: list[str]) -> CitationTrimmer:
    return CitationTrimmer(stop_words)


_DURATION = re.compile(r"^\d+(?:\s*-\s*\d+)?\s+(?:weeks?|months?|days?)$", re.I)


class RequestQuantity:
    """Mark the quantity of a non-drug request in its item heading as a SESSION_COUNT (the
    pattern's named group `count` when it matched, else the whole match).

    Spans never overlap (SPEC section 2): an entity that starts before the heading and runs into
    the quantity (a sentence cut short before the heading: "... per the Official Disability" +
    the heading) is cut where the heading starts, since a heading begins a new item; the quantity
    is skipped when it would still overlap an entity."""

    def __init__(self, pattern: str):
        self.pattern = re.compile(pattern, re.I)

    def __call__(self, doc: Doc) -> Doc:
        layout = doc._.layout
        if layout is None or not layout.items:
            return doc
        ents = list(doc.ents)
        text = letter_text(doc)
        added = False
        for item in layout.items:
            h = item.heading
            in_heading = [e for e in ents if h.start <= e.start_char < h.end]
            if any(e.label_ == "DRUG" for e in in_heading):
                continue
            m = self.pattern.search(text, h.start, h.end)
            if not m or any(e.start_char < m.end() and m.start() < e.end_char for e in in_heading):
                continue  # the model (or a pattern) already marked it
            start, end = m.span("count") if "count" in self.pattern.groupindex and m.group("count") else m.span()
            span = doc.char_span(start, end, label="SESSION_COUNT", alignment_mode="contract")
            if span is None:
                continue
            ents = [_cut_before(e, h.start, span.start) if e.start_char < h.start and e.end > span.start else e
                    for e in ents]
            ents = [e for e in ents if e is not None]
            if any(e.start < span.end and span.start < e.end for e in ents):
                continue
            ents.append(span)
            added = True
        if added:
            doc.ents = sorted(ents, key=lambda e: e.start)
        return doc


def _cut_before(ent: Span, char: int, token: int) -> Span | None:
    """`ent` cut before character `char` and token `token`, without trailing white space (None
    when nothing is left)."""
    end = ent.start
    while end < min(ent.end, token) and ent.doc[end].idx < char:
        end += 1
    while end > ent.start and ent.doc[end - 1].is_space:
        end -= 1
    return Span(ent.doc, ent.start, end, label=ent.label_) if end > ent.start else None


@Language.factory("imr_request_quantity", default_config={"pattern": r"(?!)"})
def make_request_quantity(nlp: Language, name: str, pattern: str) -> RequestQuantity:
    return RequestQuantity(pattern)


class EntityFilter:
    """Drop entities that cannot be what their label says: a DRUG made of stop words only
    ("Both") or, unknown to the lexicon, in the header or not ending like a drug name; a one-word
    GUIDELINE that names no guideline ("Chronic"); a bare duration after a drug-use word ("limit
    use to 4 weeks")."""

    def __init__(self, guideline_single_words: list[str], drug_duration_cues: list[str] = (),
                 unknown_drug_endings: list[str] = ()):
        self.single = {w.lower() for w in guideline_single_words}
        self.cues = tuple(" " + c.lower() + " " for c in drug_duration_cues)
        self.endings = tuple(e.lower() for e in unknown_drug_endings)

    def _plausible_unknown_drug(self, ent: Span) -> bool:
        from nlp.lexicon import get_lexicon

        if get_lexicon().lookup(ent.text) is not None:
            return True
        layout = ent.doc._.layout
        if layout is not None and layout.locate(ent.start_char)[0] == "header":
            return False
        last = re.sub(r"[^a-z]", "", ent[-1].text.lower())
        return bool(self.endings) and len(last) >= 5 and last.endswith(self.endings)

    def keep(self, ent: Span) -> bool:
        if ent.label_ == "DRUG":
            return not all(t.is_stop or t.is_punct for t in ent) and self._plausible_unknown_drug(ent)
        if ent.label_ == "GUIDELINE" and len(ent) == 1:
            return ent.text.lower() in self.single
        if ent.label_ == "SESSION_COUNT" and self.cues and _DURATION.match(ent.text):
            before = " " + ent.doc[max(0, ent.start - 3):ent.start].text.lower() + " "
            return not any(before.endswith(c) for c in self.cues)
        return True

    def __call__(self, doc: Doc) -> Doc:
        ents = doc.ents
        kept = [e for e in ents if self.keep(e)]
        if len(kept) != len(ents):
            doc.ents = kept
        return doc


@Language.factory("imr_entity_filter", default_config={"guideline_single_words": [], "drug_duration_cues": [],
                                                      "unknown_drug_endings": []})
def make_entity_filter(nlp: Language, name: str, guideline_single_words: list[str],
                       drug_duration_cues: list[str], unknown_drug_endings: list[str]) -> EntityFilter:
    return EntityFilter(guideline_single_words, drug_duration_cues, unknown_drug_endings)


class EntityNormalizer:
    """Normalize entities; counts get their role from where they stand in the letter."""

    def __call__(self, doc: Doc) -> Doc:
        text = letter_text(doc)
        layout = doc._.layout or parse_layout(text)
        doc._.layout = layout
        for ent in doc.ents:
            section, item = layout.locate(ent.start_char)
            ent._.section, ent._.item = section, item
            ent._.norm = self.normalize(ent, text, layout, item)
        return doc

    @staticmethod
    def normalize(ent: Span, text: str, layout, item_index: int | None) -> dict | None:
        if ent.label_ == "DRUG":
            return normalize_drug(ent.text) or {"generic": ent.text.lower(), "drug_class": None}
        if ent.label_ == "GUIDELINE":
            return normalize_guideline(ent.text)
        if ent.label_ == "SESSION_COUNT":
            item = layout.items[item_index - 1] if item_index else None
            in_request = item is not None and item.heading.start <= ent.start_char < item.heading.end
            s, e = _sentence_bounds(text, ent.start_char, ent.end_char)
            role = infer_count_role(text[s:e], in_request, (ent.start_char - s, ent.end_char - s))
            hint = item.request if in_request else None
            return normalize_count(ent.text, role=role, unit_hint=hint)
        return None


@Language.factory("imr_entity_normalizer")
def make_entity_normalizer(nlp: Language, name: str) -> EntityNormalizer:
    return EntityNormalizer()
