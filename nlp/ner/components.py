"""spaCy components for IMR letters, registered as factories (entry points in pyproject.toml).

- `imr_sections`: a section detector; runs the layout parser on the (normalized) doc text and
  keeps the result on `doc._.layout` (medspaCy-style: sections are plain data on the Doc).
- `imr_citation_trimmer`: cuts a GUIDELINE entity of the model at a word that cannot belong to
  a citation ("cited", "above", "recommend": configs/ner/ruler_patterns.yaml).
- `imr_guideline_initials`, `imr_society_guidelines`: a society's guideline by its initials ("the AUA
  guideline") or its full name with the initials ("... Association (AUA) guideline on ...").
- `imr_article_citations`: an article cited by its authors and year ("Katz et al. (2013)"), a drug's
  label ("Prilosec (omeprazole) prescribing information").
- `imr_citation_extender`: extends GUIDELINE entities over a following chapter, topic and
  page list (regular expressions from configs/ner/ruler_patterns.yaml, saved in the pipeline).
- `imr_citation_documents`: one GUIDELINE per cited document; in a guideline field the citation
  runs to its sentence's end, a drug named there included.
- `imr_drug_name_suffixes`: a DRUG entity takes in the salt and release words after it.
- `imr_drug_combinations`: DRUG entities joined by a bare slash are one DRUG.
- `imr_count_shaper`: gives each SESSION_COUNT the extent of the count grammar
  (configs/ner/count_grammar.yaml) and drops frequencies and numbers that are no count.
- `imr_request_quantity`: the "QUANTITY: 6.00" of a non-drug request's heading is a SESSION_COUNT.
- `imr_entity_filter`: drops entities that cannot be what their label says.
- `imr_entity_normalizer`: sets `span._.norm`, `span._.section` and `span._.item` on every
  entity (SPEC.md section 2) from the lexicon-driven normalizers.
"""
from __future__ import annotations

import functools
import re

from spacy.attrs import LOWER
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from nlp.config import load_yaml
from nlp.layout import parse_layout
from nlp.normalizers import (chapter_at_start, infer_count_role, inside_document_name, names_a_source,
                             normalize_count, normalize_drug, normalize_guideline, role_cue)
from nlp.normalizers.guidelines import SOURCES

for _name in ("norm", "section", "item"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=None)
for _name in ("layout", "letter_text"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

# where a list of ODG chapters goes on; after a bare "and" a chapter's name is capitalized ("Low Back
# and neck Chapter" names one pair)
# what joins chapters in a list, with the article a next one may have (", and the Head Chapter, ...")
_CHAPTER_LIST = re.compile(r"[,;]\s+(?:and\s+)?(?:the\s+)?|\s+and\s+(?:the\s+)?(?=[A-Z])")
_CHAPTER_NUMBER = re.compile(r"Chapter\s+(\d+)\b", re.IGNORECASE)
# "UpToDate.com" does not end a sentence, nor does the last period of an initialism ("8 C.C.R. 9792.20")
# or one before a number ("Comparative Effectiveness Review No. 169")
_SENTENCE = re.compile(r"(?:[^.]|\.(?!\s|$)|\.(?=\s+\d)|(?<=\.[A-Z])\.)*(?:\.(?=\s|$)|$)")
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])|\n")
_INITIAL = re.compile(r"[A-Z]\.")  # a middle initial ("Corwin A. Hallberg")
_SENTENCE_BREAK = re.compile(r"[.;:]\s+[A-Z]")  # a sentence's end before the next (not "C.C.R. 9792.20")
# between a duration and the word that makes it a window ("an interval of less than six months")
# (or "about": "within about five weeks of starting Cymbalta")
_DURATION_FILLERS = frozenset({"of", "up", "to", "less", "more", "than", "about", "approximately", "around", "nearly"})
_CLAUSE_OPENING = re.compile(r"(?:,|\band)$")  # what a clause's lead-in follows
# never a citation's last word ("The American Geriatrics Society Beers Criteria also advise", "ACOEM guidance
# adopted in the MTUS", "The ODG specifically does not recommend")
_NO_CITATION_END = frozenset({",", ";", "and", "or", "in", "of", "to", "for", "on", "the", "a", "an", "not", "also",
                              "adopted", "as", "by", "silent", "specifically", "similarly", "likewise", "clearly",
                              "explicitly", "generally", "further"})
# never inside a citation: a verb of the sentence ("Clonidine is used off label to blunt ...", a model's run-on)
_NO_CITATION_WORDS = frozenset({"is", "are", "was", "were"})
SOURCES_NAMED = tuple(src for src in SOURCES if src != "OTHER")  # a guideline source a citation names
_YEAR = re.compile(r"(?:19|20)\d\d")
_LISTED_AFTER = re.compile(r"\s*(?:[,;]|,?\s+and(?:\s+on)?(?:\s+the)?)\s*", re.I)  # one citation after another


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the sentence (or line) around [start, end): a cheap splitter, no parser needed."""
    left = 0
    # up to start + 1: the boundary's lookahead must see the entity's first character
    for m in _SENT_END.finditer(text, max(0, start - 600), start + 1):
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

    def to_disk(self, path, *, exclude=()) -> None:  # the layout markers travel with the pipeline
        from nlp.config import save_configs

        save_configs(path, ("layouts.yaml",))

    def from_disk(self, path, *, exclude=()) -> "SectionDetector":
        from nlp.config import carry_configs

        carry_configs(path)
        return self


@Language.factory("imr_sections")
def make_section_detector(nlp: Language, name: str) -> SectionDetector:
    return SectionDetector()


def _taken_tokens(doc: Doc) -> set[int]:
    """The tokens some entity already holds."""
    return {i for e in doc.ents for i in range(e.start, e.end)}


def _add_entities(doc: Doc, spans: list[Span]) -> None:
    """`spans` (none overlapping an entity) join the doc's entities."""
    if spans:
        doc.ents = sorted([*doc.ents, *spans], key=lambda e: e.start)


class PackageTierDrugs:
    """DRUG spans for the package tier's names (`DrugLexicon.tier_names`, configs/lexicons/
    drugs_package.tsv) where no entity is yet: what the drug ruler does for the seed's names, by
    set lookups on the tokens' lower case. As 20,000 more phrase patterns of the ruler they cost
    2 s at every load and about 170 MB per process."""

    def __init__(self):
        self._names: set[tuple[int, ...]] | None = None  # each name as the hashes of its tokens' lower case
        self._longest: dict[int, int] = {}  # hash of a name's first token -> most tokens of such a name

    def _load(self) -> None:
        from spacy.strings import hash_string

        from nlp.lexicon import get_lexicon

        self._names = set()
        for name in get_lexicon().tier_names():  # the tokenizer splits a name at its spaces and hyphens
            key = tuple(hash_string(p) for p in re.split(r"( |-)", name) if p and p != " ")
            self._names.add(key)
            self._longest[key[0]] = max(self._longest.get(key[0], 1), len(key))

    def __call__(self, doc: Doc) -> Doc:
        if self._names is None:
            self._load()
        taken = _taken_tokens(doc)
        # the tokens' lower case as hashes, read at once: a Python loop over Token objects would cost
        # about 2 ms a letter
        lower = doc.to_array(LOWER).tolist()
        found, after = [], 0
        for i, key in enumerate(lower):
            longest = self._longest.get(key)
            if longest is None or i < after:
                continue
            for k in range(min(longest, len(lower) - i), 0, -1):
                if tuple(lower[i:i + k]) in self._names and not taken.intersection(range(i, i + k)):
                    found.append(Span(doc, i, i + k, label="DRUG"))
                    after = i + k
                    break
        _add_entities(doc, found)
        return doc


@Language.factory("imr_package_tier_drugs")
def make_package_tier_drugs(nlp: Language, name: str) -> PackageTierDrugs:
    return PackageTierDrugs()


class GuidelineInitials:
    """GUIDELINE spans for a society's guideline cited by its initials ("the AUA guideline", "the
    APA practice guideline", "the AANEM practice parameter", "CARF standards") where no entity is yet, or only a
    DRUG inside it (the initials taken for a drug: "the ASA practice guidelines"); source OTHER by the
    normalizer. It looks only at the words before one of `heads` (the kinds of document a body
    issues: "guideline(s)", "standards", "criteria", ...); `initials` is the regular expression of those initials,
    `not_initials` the initials that name no guideline (configs/ner/ruler_patterns.yaml). Joint
    guidelines join their societies' initials with slashes ("the ACC/AHA guideline", "VA/DoD
    guideline"), may name their year before them and one or two words of the name or topic after them
    ("the 2013 AHA/ACC/TOS obesity guideline", "the ASAM National Practice Guideline")."""

    def __init__(self, initials: str, not_initials: list[str], heads: list[str] = ("guideline", "guidelines")):
        from spacy.strings import hash_string

        self.initials = re.compile(initials)
        self.not_initials = frozenset(not_initials)
        self._heads = frozenset(hash_string(h.lower()) for h in heads)
        self._practice = hash_string("practice")

    def __call__(self, doc: Doc) -> Doc:
        lower = doc.to_array(LOWER).tolist()
        heads = [j for j, key in enumerate(lower) if key in self._heads]
        if not heads:
            return doc
        ents, found = doc.ents, []  # (doc.ents builds its spans anew on every read)
        for j in heads:
            i = j - 1 - (j >= 2 and lower[j - 1] == self._practice)
            for _ in range(2):  # one or two words of its name or topic (no stop word: "PTSD do the guidelines")
                if i >= 1 and doc[i].is_alpha and not doc[i].is_stop and not self._names_initials(doc[i].text) and (
                        self._names_initials(doc[i - 1].text)
                        or i >= 2 and doc[i - 1].is_alpha and self._names_initials(doc[i - 2].text)):
                    i -= 1
            if i < 0 or not self._names_initials(doc[i].text):
                continue
            while i >= 2 and doc[i - 1].text == "/" and self._names_initials(doc[i - 2].text):
                i -= 2  # "ACC/AHA", "VA/DoD"
            if i >= 1 and _YEAR.fullmatch(doc[i - 1].text):
                i -= 1  # "the 2017 ACC/AHA guideline"
            inside = [e for e in ents if e.start < j + 1 and i < e.end]
            if any(e.label_ != "DRUG" or e.start < i or e.end > j + 1 for e in inside):
                continue  # the initials read as a drug ("the ASA practice guidelines": aspirin's
                # abbreviation) give way to the guideline; any other entity there stands
            found.append(Span(doc, i, j + 1, label="GUIDELINE"))
        if found:
            covered = {k for span in found for k in range(span.start, span.end)}
            doc.ents = sorted([e for e in ents if e.start not in covered] + found, key=lambda e: e.start)
        return doc

    def _names_initials(self, text: str) -> bool:
        return self.initials.fullmatch(text) is not None and text not in self.not_initials


@Language.factory("imr_guideline_initials", default_config={"initials": "(?!)", "not_initials": [],
                                                           "heads": ["guideline", "guidelines"]})
def make_guideline_initials(nlp: Language, name: str, initials: str, not_initials: list[str],
                            heads: list[str]) -> GuidelineInitials:
    return GuidelineInitials(initials, not_initials, heads)


class SocietyGuidelines:
    """GUIDELINE spans for a guideline named by its body in full with the body's initials in
    parentheses ("the National Institute for Health and Care Excellence (NICE) guideline on
    post-traumatic stress disorder", "North American Spine Society (NASS) Evidence-Based Clinical
    Guidelines for ... (2012)", "U.S. Preventive Services Task Force (USPSTF) recommendation on ...").

    The body's name is the run of capitalized words and `connectors` before "(INITIALS)" whose
    first letters hold the initials in order, from the farthest word where they start (at most one
    word more than the initials have capitals: "Non-MTUS Citation" before a name is not part of
    it); after the initials, up to `max_kind_words` words (capitalized, or lower-case
    and none of `topic_stop_words`) and one of `kinds`
    ("guideline", "recommendation", "criteria") are required (a body alone cites no guideline).
    A topic after "on" or "for" follows: capitalized words with `topic_connectors` as a title
    writes them, or up to `max_topic_words` lower-case words before one of `topic_stop_words`;
    then a year in parentheses. Entities inside the span give way to it; one that crosses its
    bounds keeps it from being added."""

    def __init__(self, kinds: list[str], connectors: list[str], topic_connectors: list[str],
                 topic_stop_words: list[str], max_kind_words: int = 4, max_topic_words: int = 8,
                 max_name_words: int = 12):
        self.kinds = frozenset(k.lower() for k in kinds)
        self.connectors = frozenset(connectors)
        self.topic_connectors = frozenset(topic_connectors)
        self.topic_stop = frozenset(w.lower() for w in topic_stop_words)
        self.max_kind_words, self.max_topic_words, self.max_name_words = max_kind_words, max_topic_words, max_name_words

    @staticmethod
    def _capitals(text: str) -> str:
        return "".join(c for c in text if c.isupper())

    @staticmethod
    def _initial(token) -> str:
        if re.fullmatch(r"(?:[A-Z]\.)+[A-Z]?\.?", token.text):  # "U.S."
            return token.text.replace(".", "")
        return token.text[0]

    def _name_start(self, doc: Doc, close_paren: int, initials: str) -> int | None:
        words = []  # positions of the name's capitalized words, nearest first
        i = close_paren - 3
        while i >= 0 and close_paren - 3 - i < self.max_name_words:
            t = doc[i]
            if t.text[:1].isupper() and not t.is_punct:
                words.append(i)
            elif t.text not in self.connectors:
                break
            i -= 1
        best = None
        for n in range(1, len(words) + 1):
            if n > len(initials) + 1:
                break
            letters = "".join(self._initial(doc[j]) for j in reversed(words[:n])).upper()
            if letters[0] == initials[0] and self._subsequence(initials, letters):
                best = words[n - 1]
        return best

    @staticmethod
    def _subsequence(needle: str, hay: str) -> bool:
        it = iter(hay)
        return all(c in it for c in needle)

    def _kind_end(self, doc: Doc, i: int) -> int | None:
        for k in range(i, min(len(doc), i + self.max_kind_words + 1)):
            if doc[k].lower_ in self.kinds:
                return k + 1
            if not (doc[k].is_title or doc[k].text == "-" or doc[k].text[:1].isupper()
                    or doc[k].is_alpha and doc[k].lower_ not in self.topic_stop):
                return None  # ("(AAOS) clinical practice guideline", "(ACCP) antithrombotic guidelines")
        return None

    def _topic_end(self, doc: Doc, i: int) -> int:
        if i + 1 >= len(doc) or doc[i].lower_ not in ("on", "for"):
            return i
        k = i + 1 + (doc[i + 1].lower_ == "the")
        if k >= len(doc):
            return i
        end = k
        if doc[k].text[:1].isupper():  # a title: capitalized words and the small words between them
            while end < len(doc) and end - k < 30 and "\n\n" not in doc[end].text and (
                    doc[end].text[:1].isupper() or doc[end].text in self.topic_connectors or doc[end].text == "-"):
                end += 1
        else:
            while end < len(doc) and end - k < self.max_topic_words and (doc[end].is_lower or doc[end].text == "-") \
                    and doc[end].lower_ not in self.topic_stop:
                end += 1
        while end > k and (doc[end - 1].text in self.topic_connectors or doc[end - 1].text == "-"):
            end -= 1
        return end if end > k else i

    @staticmethod
    def _year_end(doc: Doc, i: int) -> int:
        if i + 2 < len(doc) and doc[i].text == "(" and _YEAR.fullmatch(doc[i + 1].text) and doc[i + 2].text == ")":
            return i + 3
        return i

    # "(NICE)", "(DoD)": found in the text, not token by token
    _PARENTHESIZED = re.compile(r"\(([A-Z][A-Za-z]{1,7})\)")

    def __call__(self, doc: Doc) -> Doc:
        found = []
        for m in self._PARENTHESIZED.finditer(letter_text(doc)):
            initials = self._capitals(m.group(1))
            span = doc.char_span(m.start(), m.end())
            if len(initials) < 2 or span is None or len(span) != 3:
                continue
            i = span.end - 1  # the closing parenthesis
            start = self._name_start(doc, i, initials)
            end = self._kind_end(doc, i + 1) if start is not None else None
            if end is None:
                continue
            found.append(Span(doc, start, self._year_end(doc, self._topic_end(doc, end)), label="GUIDELINE"))
        if not found:
            return doc
        ents = list(doc.ents)
        for span in found:
            crossing = [e for e in ents if e.start < span.end and span.start < e.end
                        and not (span.start <= e.start and e.end <= span.end)]
            if crossing:
                continue
            ents = [e for e in ents if not (span.start <= e.start and e.end <= span.end)] + [span]
        doc.ents = sorted(ents, key=lambda e: e.start)
        return doc


@Language.factory("imr_society_guidelines", default_config={"kinds": [], "connectors": [], "topic_connectors": [],
                                                           "topic_stop_words": [], "max_kind_words": 4,
                                                           "max_topic_words": 8, "max_name_words": 12})
def make_society_guidelines(nlp: Language, name: str, kinds: list[str], connectors: list[str],
                            topic_connectors: list[str], topic_stop_words: list[str], max_kind_words: int,
                            max_topic_words: int, max_name_words: int) -> SocietyGuidelines:
    return SocietyGuidelines(kinds, connectors, topic_connectors, topic_stop_words, max_kind_words, max_topic_words,
                             max_name_words)


class ArticleCitations:
    """GUIDELINE spans for an article cited by its authors and year ("Katz et al. (2013)", "Mirza and
    Deyo (2007)"; `pattern`, configs/ner/ruler_patterns.yaml). Authors' names are no drugs: a DRUG
    of the model the lexicon does not know gives way to the citation (the model guesses drug names
    from their endings); any other entity there keeps it from being added. A reference in full (the
    pattern's group `reference`: authors, title, journal, year) takes in every drug of its title (the
    citation's topic, SPEC section 2), and a GUIDELINE the model ran into it ends before it. So
    does a drug's label (`label_pattern`: "Prilosec (omeprazole) prescribing information", "Lyrica
    (pregabalin) package insert, Pfizer, 2012"), when the drug it names is a DRUG there; it is looked
    for only in a letter that names a label (`label_cue`: 3% of letters; the pattern costs about
    1 ms a letter)."""

    def __init__(self, pattern: str, label_pattern: str = r"(?!)", label_cue: str = r"(?!)"):
        self.pattern = re.compile(pattern)
        self.label_pattern = re.compile(label_pattern)
        self.label_cue = re.compile(label_cue)

    def _matches(self, text: str):
        """(match, kind) of every citation: "authors" (and year), "reference" (in full) or "label"."""
        for m in self.pattern.finditer(text):
            yield m, "reference" if m.lastgroup == "reference" else "authors"
        if self.label_cue.search(text):
            for m in self.label_pattern.finditer(text):
                yield m, "label"

    @staticmethod
    def _before(doc: Doc, ent: Span, start: int) -> Span | None:
        """`ent` cut to end before token `start`, without the punctuation that joined them."""
        end = start
        while end > ent.start and doc[end - 1].is_punct:
            end -= 1
        return Span(doc, ent.start, end, label=ent.label_) if end > ent.start else None

    def __call__(self, doc: Doc) -> Doc:
        text = letter_text(doc)
        ents = list(doc.ents)
        changed = False
        for m, kind in self._matches(text):
            span = doc.char_span(m.start(), m.end(), label="GUIDELINE")
            if span is None:
                continue
            there = [e for e in ents if e.start < span.end and span.start < e.end]
            kept = []
            if kind == "label" and not any(e.label_ == "DRUG" for e in there):
                continue  # "Product label": no drug's
            if kind in ("reference", "label"):  # its drugs are its topic
                if any(e.end > span.end or e.start < span.start and e.label_ != "GUIDELINE" for e in there):
                    continue
                cut = (self._before(doc, e, span.start) for e in there if e.start < span.start)
                kept = [c for c in cut if c is not None]
            elif any(e.label_ != "DRUG" or normalize_drug(e.text) is not None or e.start < span.start
                     or e.end > span.end for e in there):
                continue
            ents = sorted([e for e in ents if e not in there] + kept + [span], key=lambda e: e.start)
            changed = True
        if changed:
            doc.ents = ents
        return doc


@Language.factory("imr_article_citations", default_config={"pattern": r"(?!)", "label_pattern": r"(?!)",
                                                          "label_cue": r"(?!)"})
def make_article_citations(nlp: Language, name: str, pattern: str, label_pattern: str,
                           label_cue: str) -> ArticleCitations:
    return ArticleCitations(pattern, label_pattern, label_cue)


class CitationExtender:
    """Extend each GUIDELINE entity over the chapter, topic and pages that follow it.

    `tails` are regular expressions tried right after the entity (the first that matches wins);
    the extension stops at a token boundary and never runs into the next entity other than a
    DRUG: a drug named as the citation's topic is part of the GUIDELINE (SPEC section 2,
    "Section(s): Cyclobenzaprine (Flexeril), Page(s): 41-42"). A tail that takes in one of
    `stop_words` ("the MTUS, which states ... on page 3") is prose, not the citation's. Inside an
    item's guideline field, where sentences are citation lists, `field_tails` are tried once more
    at the new end: a lower-case topic closing the sentence ("ODG Mental Illness & Stress,
    Relaxation training"), a second topic with its pages ("..., pages 111-113 and Lidoderm
    (lidocaine patch), pages 56-57"). A citation ends before a trailing comma or conjunction, and
    closes a parenthesis it opened ("... Guidelines (2009" + ")", "Percutaneous release (of the
    trigger finger" + " and/or trigger thumb)"), or ends before it when none closes nearby. A
    field's label (`field_labels`: "MTUS Citation:") is no citation (SPEC section 2): a GUIDELINE on
    it goes, one that runs on past it starts after it, before anything is extended."""

    _CLOSING = re.compile(r"[^()\n.;]{0,80}\)")

    def __init__(self, tails: list[str], stop_words: list[str] = (), field_tails: list[str] = (),
                 field_labels: list[str] = ()):
        self.field_labels = [re.compile(p) for p in field_labels]
        self.tails = [re.compile(t) for t in tails]
        self.field_tails = [re.compile(t) for t in field_tails]
        self.stop = re.compile(r"(?i)\b(?:%s)\b" % "|".join(map(re.escape, stop_words))) if stop_words else None

    @staticmethod
    def _in_field(doc: Doc, char: int) -> bool:
        layout = doc._.layout
        if layout is None:
            return False
        section, index = layout.locate(char)
        item = layout.items[index - 1] if section == "item" and index else None
        return item is not None and any(f is not None and char in f for f in (item.claims_administrator, item.reviewer))

    def _extend(self, doc: Doc, text: str, ents: list, k: int, tails) -> bool:
        """Extend ents[k] over the first of `tails` that matches after it; covered DRUGs become None."""
        ent = ents[k]
        limit = next((x.start_char for x in ents[k + 1:] if x is not None and x.label_ != "DRUG"), len(text))
        for tail in tails:
            m = tail.match(text, ent.end_char)
            if not m or m.end() <= ent.end_char or self.stop and self.stop.search(m.group()):
                continue
            span = doc.char_span(ent.start_char, min(m.end(), limit), label="GUIDELINE", alignment_mode="contract")
            if span is None or span.end <= ent.end:
                return False
            # a DRUG the citation now covers is its topic; one it would cut stops it
            inside = []  # the entities are in order: stop at the first past the span
            for j in range(k + 1, len(ents)):
                if ents[j] is not None and ents[j].start >= span.end:
                    break
                if ents[j] is not None:
                    inside.append(j)
            if any(ents[j].end > span.end for j in inside):
                span = Span(doc, ent.start, min(ents[j].start for j in inside if ents[j].end > span.end),
                            label="GUIDELINE")
                inside = [j for j in inside if ents[j].end <= span.end]
            if span.end <= ent.end:
                return False
            ents[k] = span
            for j in inside:
                ents[j] = None
            return True
        return False

    def _without_label(self, doc: Doc, text: str, ent: Span) -> Span | None:
        """`ent` without the field label it starts with (None if it is all label), or `ent` itself."""
        m = next(filter(None, (rx.match(text, ent.start_char) for rx in self.field_labels)), None)
        if m is None:
            return ent
        rest = doc.char_span(m.end(), ent.end_char, label=ent.label_, alignment_mode="contract")
        return rest if rest is not None and len(rest) else None

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        text = letter_text(doc)
        changed = False
        for k, ent in enumerate(ents):
            if ent.label_ == "GUIDELINE" and self.field_labels:
                ents[k] = self._without_label(doc, text, ent)
                changed |= ents[k] is not ent
        for k, ent in enumerate(ents):
            if ent is None or ent.label_ != "GUIDELINE":
                continue
            changed |= self._extend(doc, text, ents, k, self.tails)
            if self.field_tails and self._in_field(doc, ent.start_char):
                changed |= self._extend(doc, text, ents, k, self.field_tails)
        for k, ent in enumerate(ents):  # a parenthesis it opened is closed
            unclosed = _unbalanced_parens(ent.text)[1] if ent is not None and ent.label_ == "GUIDELINE" else None
            if unclosed is not None:
                if not self._extend(doc, text, ents, k, [self._CLOSING]):
                    ents[k] = _cut_at(ent, unclosed)
                changed = True
        for k, ent in enumerate(ents):  # no sentence's verb: the citation ends before it, or there is none
            cut = _before_a_verb(ent) if ent is not None and ent.label_ == "GUIDELINE" else ent
            if cut != ent:
                ents[k] = cut
                changed = True
        for k, ent in enumerate(ents):  # no trailing comma (the model's "ODG Pain,"), conjunction or preposition
            while ent is not None and ent.label_ == "GUIDELINE" and len(ent) > 1 and ent[-1].lower_ in _NO_CITATION_END:
                ent = ents[k] = Span(doc, ent.start, ent.end - 1, label="GUIDELINE")
                changed = True
        if changed:
            doc.ents = [x for x in ents if x is not None]
        return doc


@Language.factory("imr_citation_extender", default_config={"tails": [], "stop_words": [], "field_tails": [],
                                                           "field_labels": []})
def make_citation_extender(nlp: Language, name: str, tails: list[str], stop_words: list[str],
                           field_tails: list[str], field_labels: list[str]) -> CitationExtender:
    return CitationExtender(tails, stop_words, field_tails, field_labels)


def _max_tokens(pattern) -> int:
    """The most tokens a Matcher token pattern can match ("OP": "{1,5}" counts 5, "+" and "*" 8)."""
    n = 0
    for token in pattern:
        op = str(token.get("OP", ""))
        n += int(op.strip("{}").split(",")[-1]) if op.startswith("{") else 8 if op in ("+", "*") else 1
    return n


def _halves(doc: Doc, ent: Span, joiner: re.Match) -> tuple[Span, Span] | None:
    """The GUIDELINE spans of `ent` before and after `joiner`, or None if either is empty."""
    a = doc.char_span(ent.start_char, joiner.start(), label="GUIDELINE", alignment_mode="contract")
    b = doc.char_span(joiner.end(), ent.end_char, label="GUIDELINE", alignment_mode="contract")
    return (a, b) if a is not None and b is not None and len(a) and len(b) else None


class CitationDocuments:
    """One GUIDELINE per cited document (SPEC section 2), in two steps.

    0. Two GUIDELINE entities with only a year between them (`year_gap`) are one document named
       with its year ("California MTUS 2016 Chronic Pain Guidelines"), and a chapter number
       (`chapter_end`) and its title after a comma one chapter ("ACOEM ..., Chapter 12, Low Back
       Complaints, page 299"); GUIDELINE fragments inside
       one known guideline name (`known_names`: the entity ruler's names) are that one citation.
    1. In an item's guideline fields ("MAXIMUS guideline: Decision based on ...") each sentence
       after a lead-in (`lead_ins`: "Decision based on", "Non-MTUS Citation") is one citation
       list. Where the model found a GUIDELINE in it, the citation runs to the sentence's end, and
       a drug named there is the citation's topic, not a DRUG ("... Pain Chapter, Meloxicam").
       ("Section(s): 3. Opioids ..." goes on: `continues`).
    2. Every GUIDELINE is split at a joiner (`joiners`: ", and", "and", ";") when both sides name
       a guideline source and either the right side starts with a source's name (`source`) or
       both sides are whole citations with their sections, pages or year (`complete`): "California
       MTUS and ACOEM Guidelines" and "... 2004, Section(s): Initial Care, and Shoulder Complaints
       2004 ..." are two; "MTUS Neck and Upper Back Complaints", "MTUS Forearm, Wrist, and Hand
       Complaints" and "MTUS/ACOEM" are one; so is a further topic of one document with its own
       pages ("..., Topical Analgesics, pages 111-113 and Lidoderm (lidocaine patch), pages 56-57;
       Weaning of Medications Page(s): 124"): SPEC, one GUIDELINE per cited document."""

    def __init__(self, lead_ins: list[str], joiners: str, source: str, complete: str, continues: str = r"(?!)",
                 year_gap: str = r"(?!)", known_names: list = (), vocab=None, chapter_end: str = r"(?!)",
                 in_join: str = r"(?!)", field_end: str = r"(?!)", field_continues: str = r"(?!)",
                 sure_lead_in: str = r"(?!)", other_document: str = r"(?!)", author_list: str = r"(?!)"):
        # (a colon may close any lead-in: "The Expert Reviewer based the decision on: ODG ...")
        self.lead_in = re.compile(r"(?:%s)\s*(?::\s*)?" % "|".join(lead_ins), re.I) if lead_ins else None
        self.chapter_end = re.compile(chapter_end)
        self.in_join = re.compile(in_join)
        self.field_end = re.compile(field_end)
        self.field_continues = re.compile(field_continues)
        self.sure_lead_in = re.compile(sure_lead_in)
        self.other_document = re.compile(other_document)
        self.author_list = re.compile(author_list)
        self.joiners = re.compile(joiners)
        self.source = re.compile(source)
        self.complete = re.compile(complete)
        self.continues = re.compile(continues)
        self.year_gap = re.compile(year_gap)
        self.known = None
        if known_names and vocab is not None:
            self.known = Matcher(vocab)
            self.known.add("KNOWN", [list(p) for p in known_names])
            self.known_reach = max(map(_max_tokens, known_names))

    def _join_known(self, doc: Doc, ents: list[Span]) -> list[Span]:
        """GUIDELINE entities that cover part of one known guideline name (`known_names`, the
        ruler's names of several tokens) and nothing else there: the model cut one citation
        ("California Medical Treatment Utilization Schedule" + "MTUS) Guidelines") or took a
        fragment of it ("MTUS)" of "Medical Treatment Utilization Schedule (MTUS)")."""
        if self.known is None:
            return ents
        out = list(ents)
        # a known name that overlaps a GUIDELINE lies within `known_reach` tokens of it: match there only
        windows = _merged(((x.start, x.end) for x in ents if x.label_ == "GUIDELINE"),
                          self.known_reach, self.known_reach, len(doc))
        found = [Span(doc, a + s, a + e) for a, b in windows for _, s, e in self.known(doc[a:b])]
        for match in filter_spans(found):
            touching = [x for x in out if x.start < match.end and match.start < x.end]
            if not touching or any(x.label_ != "GUIDELINE" for x in touching):
                continue
            joined = Span(doc, min(match.start, touching[0].start), max(match.end, touching[-1].end), label="GUIDELINE")
            out = sorted([x for x in out if x not in touching] + [joined], key=lambda x: x.start)
        return out

    def _sentences(self, text: str, start: int, end: int):
        """The sentences of [start, end), one that ends like `continues` joined to the next."""
        pending = None
        parts = (part for sent in _SENTENCE.finditer(text, start, end) for part in _at_paragraph_starts(text, *sent.span()))
        for s, e in parts:
            if e == s:
                continue
            if pending is not None:
                s = pending
            if self.continues.search(text, s, e) and e < end:
                pending = s
                continue
            pending = None
            yield s, e
        if pending is not None:
            yield pending, end

    def _join_years(self, doc: Doc, text: str, ents: list[Span]) -> list[Span]:
        """"California MTUS" + "2016" + "Chronic Pain Guidelines": one document named with its year;
        "... Chapter 12" + ", " + "Low Back Complaints": one chapter named with its title; "MTUS
        guideline in" + "ACOEM Chapter 11": one citation (`in_join`)."""
        out: list[Span] = []
        for ent in ents:
            prev = out[-1] if out else None
            if prev is not None and prev.label_ == ent.label_ == "GUIDELINE" and self._one_document(text, prev, ent):
                joined = doc.char_span(prev.start_char, ent.end_char, label="GUIDELINE")
                if joined is not None:
                    out[-1] = joined
                    continue
            out.append(ent)
        return out

    @staticmethod
    def _with_leading_year(doc: Doc, ent: Span) -> Span:
        """"the 2016 MTUS Chronic Pain Medical Treatment Guidelines": the document's year before its
        name is part of it (SPEC: a document named with its year stays one span); before a body's
        name it dates the body's document ("the 1998 National Heart, Lung, and Blood Institute
        (NHLBI) Clinical Guidelines"), which is named without it."""
        if (ent.label_ == "GUIDELINE" and ent.start >= 2 and _YEAR.fullmatch(doc[ent.start - 1].text)
                and doc[ent.start - 2].lower_ == "the" and names_a_source(ent.text)
                and normalize_guideline(ent.text).get("source") != "OTHER"):
            return Span(doc, ent.start - 1, ent.end, label="GUIDELINE")
        return ent

    def _one_document(self, text: str, prev: Span, ent: Span) -> bool:
        gap = text[prev.end_char:ent.start_char]
        if self.in_join.search(text[prev.start_char:ent.start_char]) and not _SENTENCE_BREAK.search(gap):
            return True  # "the MTUS guideline in" + "ACOEM Chapter 11, page 261" (not "... (MRI). Decision
            # rationale: The neck guideline adopted by the" + "MTUS": a sentence ended between them)
        named = self.source.match(ent.text)
        if named and not self._mtus_document_after_mtus(prev, ent, named.group()):
            return False  # the right one names its own source: another document
        return bool(self.year_gap.fullmatch(gap) or self.chapter_end.search(prev.text) and re.fullmatch(r",\s*", gap))

    @staticmethod
    def _mtus_document_after_mtus(prev: Span, ent: Span, named: str) -> bool:
        """"California MTUS 2009" + "Acupuncture Medical Treatment Guidelines": the MTUS's own document
        (`named`: what `source` matched, not the MTUS itself) after the MTUS and its year is that one
        document, not another source."""
        return ("MTUS" not in named.upper()
                and normalize_guideline(prev.text).get("source") == normalize_guideline(ent.text).get("source") == "MTUS")

    def _field_citations(self, doc: Doc, text: str, ents: list[Span]) -> list[Span]:
        layout = doc._.layout
        if layout is None or self.lead_in is None:
            return ents
        for item in layout.items:
            for field in (item.claims_administrator, item.reviewer):
                if field is None:
                    continue
                for s, e in self._sentences(text, field.start, field.end):
                    lead = None
                    for m in self.lead_in.finditer(text, s, e):
                        before = text[s:m.start()].rstrip()
                        # at the sentence's start, right after another lead-in, or opening a clause ("Per
                        # the Strength of Evidence hierarchy ..., the Expert Reviewer based his/her
                        # decision on the ...", "... found that the MTUS does not address it, and based
                        # his/her decision on the ...")
                        if (before == "" or lead is not None and m.start() == lead
                                or lead is None and _CLAUSE_OPENING.search(before)):
                            lead = m.end()
                    bare = lead is None and s == field.start  # "Guideline(s) relied upon by ...: MTUS ..., Section(s): ..."
                    if lead is None and not bare:
                        continue
                    if bare:
                        lead = s + len(text[s:e]) - len(text[s:e].lstrip(": \n"))
                    end = s + len(text[s:e].rstrip())
                    end = end - 1 if text[end - 1:end] == "." else end  # the sentence's period is not the citation's
                    # each list judged on the entities the sentence had (one the model ran over
                    # two lists is each list's)
                    # (a list after "Non-MTUS Citation" is one whatever the model found: `sure`)
                    found = [self._list_citations(doc, text, ents, a, b, s, end, bare,
                                                  not bare and self.sure_lead_in.search(text, s, a) is not None)
                             for a, b in self._lists(text, lead, end)]
                    replaced = {id(x) for inside, _ in filter(None, found) for x in inside}
                    ents = [x for x in ents if id(x) not in replaced] + [y for _, spans in filter(None, found) for y in spans]
        return sorted(ents, key=lambda x: x.start)

    def _lists(self, text: str, lead: int, end: int):
        """The citation lists of a field's sentence: one ends before what the sentence says of it
        (`field_end`, "..., which is part of the MTUS"); a further one follows `field_continues`
        ("..., Gym memberships, and on the Chronic Pain Medical Treatment Guidelines ...", "...,
        page 27, which is part of the MTUS, and on the Official Disability Guidelines ...")."""
        pos = lead
        while True:
            more = self.field_continues.search(text, pos, end)
            tail = self.field_end.search(text, pos, more.start() if more else end)
            yield pos, tail.start() if tail else more.start() if more else end
            if more is None:
                return
            pos = more.end()

    def _list_citations(self, doc: Doc, text: str, ents: list[Span], lead: int, end: int, s: int,
                        sentence_end: int, bare: bool, sure: bool = False) -> tuple[list[Span], list[Span]] | None:
        """The entities of the citation list [lead, end) of a field's sentence and the GUIDELINEs
        that replace them, one per document, where the model found a GUIDELINE in it or the lead-in
        says a citation follows (`sure`: "Decision based on Non-MTUS Citation Sildenafil: Drug
        information, accessed from UpToDate.com ..."); else None."""
        inside = [x for x in ents if x.start_char < end and lead < x.end_char]
        if not any(x.label_ == "GUIDELINE" for x in inside) and not (
                sure and text[lead:end].strip() and all(x.label_ == "DRUG" for x in inside)
                and not self.author_list.fullmatch(text[lead:end].strip())):
            return None  # the model decides whether this is a citation list (an article's authors, cut
            # off by their initials' period, are none)
        first = min(inside, key=lambda x: x.start_char) if inside else None
        if first is not None and not sure and text[lead:first.start_char].strip().lower() not in ("", "the"):
            return None  # "based their decision on recommendation(s) outside of the MTUS Guidelines": none
        if bare and (first.label_ != "GUIDELINE" or first.start_char != lead):
            return None  # a field's first sentence is a citation list only when it opens with one
        if any(x.start_char < s or x.end_char > sentence_end for x in inside):
            return None  # an entity crosses the sentence's bounds: leave it to the model
        # (one that runs on into what the sentence says of the list, "..., NSAIDs, a Medical
        # Treatment Guideline (MTG) that is not part of the MTUS", gives way to the list)
        spans = []
        for a, b in self._documents(text, lead, end):
            span = doc.char_span(a, b, label="GUIDELINE", alignment_mode="contract")
            if span is not None and len(span):
                spans.append(span)
        return (inside, spans) if spans else None

    def _documents(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """[start, end) cut where a joiner is followed by another lead-in ("... (ESI) and Other
        Medical Treatment Guidelines www.mdguidelines.com"), each part without its lead-in."""
        parts, pos = [], start
        for m in self.joiners.finditer(text, start, end):
            lead = self.lead_in.match(text, m.end(), end)
            if lead and m.start() > pos:
                parts.append((pos, m.start()))
                pos = lead.end()
        parts.append((pos, end))
        return [(a, b) for a, b in parts if text[a:b].strip()]

    def _split(self, doc: Doc, text: str, ent: Span) -> list[Span]:
        # first where the right side starts with a source's name ("...; Official Disability
        # Guidelines ..."), then by the other rules within each part
        joiners = [m for m in self.joiners.finditer(text, ent.start_char, ent.end_char)
                   if not inside_document_name(text, m.start(), m.end())  # "Forearm, Wrist, and Hand"
                   and not _adopted_acoem(text[ent.start_char:m.start()], m.group(), text[m.end():ent.end_char])]
        named = lambda norm: norm.get("source") not in (None, "OTHER")  # noqa: E731
        for m in joiners:
            # (after ";", a document of another kind too, on either side: "...; Drugs.com, trazodone
            # monograph ...", "Campbell's Operative Orthopaedics, 12th edition ...; Official Disability ...";
            # and any document before a source: "The diagnosis and management of ... urticaria: 2014 update; MTUS ...")
            semi = m.group().startswith(";")
            if m.start() > ent.start_char and (self.source.match(text, m.end(), ent.end_char)
                                               or semi and self.other_document.search(text, m.end(), ent.end_char)):
                parts = _halves(doc, ent, m)
                # (the left side a state document named without its source: "Chronic Pain Medical Treatment
                # Guidelines (2009), Manual Therapy and Manipulation, pages 58-60, and the Official Disability ...")
                if parts is not None and (names_a_source(parts[0].text) or named(normalize_guideline(parts[0].text))
                                          or semi and (self.other_document.search(parts[0].text)
                                                       or self.source.match(text, m.end(), ent.end_char))):
                    return self._split(doc, text, parts[0]) + self._split(doc, text, parts[1])
        for m in joiners:
            left_text, right_text = text[ent.start_char:m.start()], text[m.end():ent.end_char]
            if not (self.source.match(right_text) or self.complete.search(left_text) and self.complete.search(right_text)):
                continue  # "MTUS Neck and Upper Back", "Forearm, Wrist, and Hand": one document's name
            # a source that is no guideline, named after one, is another document ("ODG Pain,
            # Zolpidem (Ambien); FDA Prescribing Information, Ambien ...")
            if not (named(normalize_guideline(left_text))
                    and (self.source.match(right_text) or named(normalize_guideline(right_text)))):
                continue
            parts = _halves(doc, ent, m)
            if parts is None:
                continue
            return [parts[0]] + self._split(doc, text, parts[1])
        return [ent]

    def _split_chapters(self, doc: Doc, ent: Span) -> list[Span]:
        """"Official Disability Guidelines (ODG), Neck and Upper Back, Low Back": an ODG citation
        followed, after a comma, a semicolon or "and", by the name of another ODG chapter
        (`chapter_at_start`, the normalizer's chapter names) cites two documents ("..., Insomnia
        treatment and Mental Illness & Stress, Zolpidem"). So does a numbered chapter followed by another
        number ("ACOEM ..., Chapter 8, Neck and Upper Back Complaints, pages 177-178, and Chapter 11, ...")."""
        if not _CHAPTER_LIST.search(ent.text):
            return [ent]  # no list: no normalizing on the hot path
        for m in _CHAPTER_LIST.finditer(ent.text):
            after = _CHAPTER_NUMBER.match(ent.text, m.end())
            before = _CHAPTER_NUMBER.findall(ent.text, 0, m.start())
            if after is None or not before or before[-1] == after.group(1):
                continue
            a = doc.char_span(ent.start_char, ent.start_char + m.start(), label="GUIDELINE")
            b = doc.char_span(ent.start_char + m.end(), ent.end_char, label="GUIDELINE")
            if a is not None and b is not None:
                return [a] + self._split_chapters(doc, b)
        cited = normalize_guideline(ent.text)
        if cited.get("source") != "ODG" or not cited.get("document"):
            return [ent]
        for m in _CHAPTER_LIST.finditer(ent.text):
            chapter = chapter_at_start("ODG", ent.text[m.end():])
            if chapter is None or normalize_guideline(ent.text[:m.start()]).get("document") in (None, chapter):
                continue  # no chapter named there, or the same one ("Low Back, Lumbar supports")
            a = doc.char_span(ent.start_char, ent.start_char + m.start(), label="GUIDELINE")
            b = doc.char_span(ent.start_char + m.end(), ent.end_char, label="GUIDELINE")
            if a is not None and b is not None:
                return [a] + self._split_chapters(doc, b)
        return [ent]

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        if not any(e.label_ == "GUIDELINE" for e in ents) and (doc._.layout is None or not doc._.layout.items):
            return doc  # (a field's "Non-MTUS Citation" may lead in a citation the model did not find)
        text = letter_text(doc)
        out = self._field_citations(doc, text, self._join_years(doc, text, self._join_known(doc, ents)))
        out = [self._with_leading_year(doc, e) for e in out]
        out = [part for e in out for part in (self._split(doc, text, e) if e.label_ == "GUIDELINE" else [e])]
        out = [part for e in out for part in (self._split_chapters(doc, e) if e.label_ == "GUIDELINE" else [e])]
        out = [e for e in (_before_a_verb(e) if e.label_ == "GUIDELINE" else e for e in out) if e is not None]
        if [(e.start, e.end, e.label_) for e in out] != [(e.start, e.end, e.label_) for e in ents]:
            doc.ents = out
        return doc


@Language.factory("imr_citation_documents",
                  default_config={"lead_ins": [], "joiners": r"(?!)", "source": r"(?!)", "complete": r"(?!)",
                                  "continues": r"(?!)", "year_gap": r"(?!)", "known_names": [],
                                  "chapter_end": r"(?!)", "in_join": r"(?!)", "field_end": r"(?!)",
                                  "field_continues": r"(?!)", "sure_lead_in": r"(?!)", "other_document": r"(?!)",
                                  "author_list": r"(?!)"})
def make_citation_documents(nlp: Language, name: str, lead_ins: list[str], joiners: str, source: str,
                            complete: str, continues: str, year_gap: str, known_names: list,
                            chapter_end: str, in_join: str, field_end: str,
                            field_continues: str, sure_lead_in: str, other_document: str,
                            author_list: str) -> CitationDocuments:
    return CitationDocuments(lead_ins, joiners, source, complete, continues, year_gap, known_names, nlp.vocab,
                             chapter_end, in_join, field_end, field_continues, sure_lead_in, other_document,
                             author_list)


def _unbalanced_parens(text: str) -> tuple[int | None, int | None]:
    """The offsets in `text` of the first ")" it never opened and of the first "(" it leaves open (None
    when there is none)."""
    opened: list[int] = []
    unopened = None
    for i, ch in enumerate(text):
        if ch == "(":
            opened.append(i)
        elif ch == ")" and opened:
            opened.pop()
        elif ch == ")" and unopened is None:
            unopened = i
    return unopened, opened[0] if opened else None


_PARAGRAPH_START = re.compile(r"(?<=[^.\s])[ \t]*\n\s*\n\s*(?=[A-Z][a-z]+\b(?!:))")


def _at_paragraph_starts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut where a paragraph that opens with a capitalized word follows one that ends in no period: a
    field's list that ran on into the rationale ("..., Page(s): 70-73" / "The MTUS recommends ..."); a break after
    an abbreviation's period ("U.S." / "Food and Drug Administration"), after a word that never ends a citation
    ("or"), before a dash, a number or a label ("Non-MTUS" / "Citation: ...") is the extraction's, inside one
    sentence."""
    parts, pos = [], start
    for m in _PARAGRAPH_START.finditer(text, start, end):
        last = re.search(r"(\w+)\W*$", text[pos:m.start()])
        if last and last.group(1).lower() in _NO_CITATION_END:
            continue  # "... Other Medical Treatment Guideline or" / "Medical Evidence: ...": one sentence
        parts.append((pos, m.start()))
        pos = m.end()
    parts.append((pos, end))
    return parts


def _adopted_acoem(left: str, joiner: str, right: str) -> bool:
    """"Medical Treatment Utilization Schedule (MTUS), ACOEM Practice Guidelines, ..., Chapter 7": the MTUS named
    alone (the normalizer finds no document, topic or page in it) before an ACOEM chapter cites the chapter it
    adopted, one document (as "MTUS ACOEM Chapter 15" does); "California MTUS and ACOEM Guidelines" names two
    (SPEC section 2)."""
    return (re.fullmatch(r"[\s,]+", joiner) is not None and right.startswith("ACOEM")
            and normalize_guideline(left) == {"source": "MTUS", "document": None, "topic": None, "pages": []})


def _before_a_verb(ent: Span) -> Span | None:
    """A GUIDELINE up to a sentence's verb inside it (`_NO_CITATION_WORDS`: "MTUS is silent" cites "MTUS"), or up to
    the last paragraph break before that verb ("..., Page(s): 30-34" / "The MTUS supports ... when its criteria are
    met"); None when it opens with one."""
    cut = next((t.i for t in ent if t.lower_ in _NO_CITATION_WORDS), None)
    if cut is None:
        return ent
    cut = next((t.i for t in reversed(ent.doc[ent.start:cut]) if t.is_space and "\n\n" in t.text), cut)
    while cut > ent.start and ent.doc[cut - 1].is_space:
        cut -= 1
    return Span(ent.doc, ent.start, cut, label=ent.label_) if cut > ent.start else None


def _cut_at(ent: Span, offset: int) -> Span | None:
    """`ent` up to `offset` in its text, trailing punctuation left out; None if nothing is left."""
    cut = ent.doc.char_span(ent.start_char, ent.start_char + len(ent.text[:offset].rstrip(" ,;:")),
                            label=ent.label_, alignment_mode="contract")
    return cut if cut is not None and len(cut) else None


class CitationTrimmer:
    """Cut a GUIDELINE entity at the first of `stop_words` after its first token: "the ODG cited
    above recommend office visits" names "ODG", not what the sentence says of it; and start it
    after leading `lead_words` ("per MTUS" cites "MTUS"). A paragraph break ends it too (the
    model ran on into "Decision rationale:"). The freed tokens are left for the patterns that
    run next (a count inside them is still found). A closing parenthesis the citation never opened
    ends it too ("(ODG Shoulder)" cites "ODG Shoulder", not the line after it), and so does the
    next entry's number of a numbered list run into one line. A source named with an unnamed part of
    it (`unnamed_part`, matched on the whole entity: "ACOEM chapter on consultations") cites the
    source alone (its group `source`)."""

    def __init__(self, stop_words: list[str], lead_words: list[str] = (), end_abbreviations: list[str] = (),
                 unnamed_part: str = r"(?!)"):
        self.stop_words = {w.lower() for w in stop_words}
        self.lead_words = {w.lower() for w in lead_words}
        self.end_abbreviations = {w.lower() for w in end_abbreviations}
        self.unnamed_part = re.compile(unnamed_part)

    def _source_alone(self, ent: Span) -> Span:
        m = self.unnamed_part.fullmatch(ent.text)
        if m is None:
            return ent
        return ent.doc.char_span(ent.start_char, ent.start_char + m.end("source"), label=ent.label_) or ent

    def _without_period(self, ent: Span) -> Span:
        """`ent` without the sentence's period it ends in ("... When to Discontinue Opioids."); the
        period of an abbreviation ("et al.", `end_abbreviations`) or an initial ("Ostrand JK.") stays."""
        if len(ent) < 2 or ent[-1].text != ".":
            return ent
        prev = ent[-2]
        if prev.lower_ in self.end_abbreviations or len(prev.text) <= 2 and prev.text.isupper():
            return ent
        return Span(ent.doc, ent.start, ent.end - 1, label=ent.label_)

    @staticmethod
    def _without_list_number(ent: Span) -> Span:
        """`ent` without the next entry's number of a numbered list that extraction ran into one line
        ("4. Official Disability Guidelines (ODG) 5. Medical Treatment ..." cites "... (ODG)")."""
        doc = ent.doc
        if len(ent) < 2 or not ent[-1].is_digit or ent.end >= len(doc) or doc[ent.end].text != ".":
            return ent
        before = letter_text(doc)[max(0, ent.start_char - 8):ent.start_char]  # "4. " before "... (ODG) 5."
        if not re.search(r"(?<![\d.])%d\.\s*$" % (int(ent[-1].text) - 1), before):
            return ent
        end = ent.end - 1
        while end > ent.start + 1 and doc[end - 1].is_space:
            end -= 1
        return Span(doc, ent.start, end, label=ent.label_)

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        changed = False
        for k, ent in enumerate(ents):
            if ent.label_ != "GUIDELINE":
                continue
            listed = self._without_list_number(ent)
            if listed.end != ent.end:
                ent = ents[k] = listed
                changed = True
            start = ent.start
            while start < ent.end - 1 and doc[start].lower_ in self.lead_words:
                start += 1
            if start > ent.start:
                ent = ents[k] = Span(doc, start, ent.end, label="GUIDELINE")
                changed = True
            for i in range(ent.start + 1, ent.end):
                if doc[i].lower_ in self.stop_words or doc[i].is_space and "\n\n" in doc[i].text:
                    end = i
                    while end > ent.start + 1 and doc[end - 1].is_punct:  # no trailing comma
                        end -= 1
                    ents[k] = Span(doc, ent.start, end, label="GUIDELINE")
                    changed = True
                    break
            unopened, _ = _unbalanced_parens(ents[k].text)
            closed = _cut_at(ents[k], unopened) if unopened is not None else None
            if closed is not None:
                ents[k] = closed
                changed = True
            trimmed = self._source_alone(self._without_period(ents[k]))
            if trimmed.end != ents[k].end:
                ents[k] = trimmed
                changed = True
        if changed:
            doc.ents = ents
        return doc


@Language.factory("imr_citation_trimmer", default_config={"stop_words": [], "lead_words": [], "end_abbreviations": [],
                                                         "unnamed_part": r"(?!)"})
def make_citation_trimmer(nlp: Language, name: str, stop_words: list[str], lead_words: list[str],
                          end_abbreviations: list[str], unnamed_part: str) -> CitationTrimmer:
    return CitationTrimmer(stop_words, lead_words, end_abbreviations, unnamed_part)


class DrugNameSuffixes:
    """Extend each DRUG entity over the salt and release words right after it (`suffix_words`):
    they are part of the name a letter writes (SPEC section 2: "Diclofenac ER", "Venlafaxine HCl
    ER"); dosage forms stay outside. A DRUG entity made of such words alone is dropped (the model
    tags "ER" on its own) unless the lexicon names it ("calcium gluconate"). A hyphen between two
    such words is taken too ("extended-release"); "Dr." after a drug is a doctor, not delayed release."""

    def __init__(self, suffix_words: list[str]):
        self.words = {w.lower() for w in suffix_words}

    def _suffix(self, doc: Doc, i: int, limit: int) -> int:
        t = doc[i]
        if t.lower_ in self.words and not (t.text == "Dr" and i + 1 < len(doc) and doc[i + 1].text == "."):
            return 1
        if t.text == "-" and i + 1 < limit and doc[i + 1].lower_ in self.words and not doc[i - 1].whitespace_:
            return 2
        return 0

    def __call__(self, doc: Doc) -> Doc:
        from nlp.lexicon import get_lexicon

        ents = [e for e in doc.ents
                if not (e.label_ == "DRUG" and all(t.lower_ in self.words or t.text == "-" for t in e)
                        and get_lexicon().lookup(e.text) is None)]  # ("calcium gluconate" is a drug's name)
        changed = len(ents) < len(doc.ents)  # a suffix alone ("ER") is no drug: it joins the one before
        for k, ent in enumerate(ents):
            if ent.label_ != "DRUG":
                continue
            limit = ents[k + 1].start if k + 1 < len(ents) else len(doc)
            end = ent.end
            while end < limit and (step := self._suffix(doc, end, limit)):
                end += step
            if end > ent.end:
                ents[k] = Span(doc, ent.start, end, label="DRUG")
                changed = True
        if changed:
            doc.ents = ents
        return doc


@Language.factory("imr_drug_name_suffixes", default_config={"suffix_words": []})
def make_drug_name_suffixes(nlp: Language, name: str, suffix_words: list[str]) -> DrugNameSuffixes:
    return DrugNameSuffixes(suffix_words)


class DrugCombinations:
    """DRUG entities joined by a bare slash are one DRUG (SPEC section 2: "a slash combination
    without doses is one DRUG"): "ketamine/gabapentin/clonidine" as a compounded cream names it,
    where the model and the lexicon found each part. Merged only where the lexicon knows the
    combination (each part a drug), so its normalization stays defined; with doses in between
    ("flurbiprofen 20%/cyclobenzaprine 10%") the parts are not adjacent and stay two."""

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        out: list[Span] = []
        for ent in ents:
            prev = out[-1] if out else None
            if (prev is not None and ent.label_ == prev.label_ == "DRUG" and ent.start == prev.end + 1
                    and doc[prev.end].text == "/" and not doc[prev.end - 1].whitespace_
                    and not doc[prev.end].whitespace_):
                joined = Span(doc, prev.start, ent.end, label="DRUG")
                if normalize_drug(joined.text) is not None:
                    out[-1] = joined
                    continue
            out.append(ent)
        if len(out) < len(ents):
            doc.ents = out
        return doc


@Language.factory("imr_drug_combinations")
def make_drug_combinations(nlp: Language, name: str) -> DrugCombinations:
    return DrugCombinations()


def _date_or_code(token) -> bool:
    """A date ("11/2014") or four digits and more (the "0031759" of a case number): no count's number."""
    return token.like_num and ("/" in token.text or token.is_digit and len(token.text) >= 4)


_DURATION_UNITS = frozenset({"week", "weeks", "month", "months", "day", "days"})
_RANGE_JOINERS = frozenset({"-", "to", "\u2013"})  # between a range's two numbers ("two to three weeks")
_CLAUSE_ENDS = frozenset({",", ";", ":", ".", "(", ")", "\n", "\n\n"})
_SUPPLY_WORDS = frozenset({"coverage", "supply", "use", "prescription"})  # "3 months coverage of Viagra"


class RequestQuantity:
    """Mark the quantity of a non-drug request in its item heading as a SESSION_COUNT (the
    pattern's named group `count` when it matched, else the whole match); where the heading has
    no such quantity and no SESSION_COUNT, the longest form of the count grammar in it (`counts`,
    configs/ner/count_grammar.yaml: "INDIVIDUAL PSYCHOTHERAPY ONCE A WEEK FOR 20 WEEKS",
    "Acupuncture, lumbar spine, times 8"; none inside a longer `not_counts` form: "nerve blocks x
    2"): a heading names what the item requests.

    Spans never overlap (SPEC section 2): an entity that starts before the heading and runs into
    the quantity (a sentence cut short before the heading: "... per the Official Disability" +
    the heading) is cut where the heading starts, since a heading begins a new item; the quantity
    is skipped when it would still overlap an entity. A request that `not_for` finds in its heading
    (an injection or a block: SPEC section 2 counts no injections) has no count, nor has a drug's: a
    model's count on a drug heading's quantity is dropped."""

    def __init__(self, pattern: str, counts: list[str] = (), not_counts: list[str] = (), not_for: str = r"(?!)"):
        self.pattern = re.compile(pattern, re.I)
        self.not_for = re.compile(not_for, re.I)
        self.counts = [re.compile(p, re.I) for p in counts]
        self.not_counts = [re.compile(p, re.I) for p in not_counts]

    def _quantity(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        m = self.pattern.search(text, start, end)
        if m:
            return m.span("count") if "count" in self.pattern.groupindex and m.group("count") else m.span()
        nots = [f.span() for p in self.not_counts for f in p.finditer(text, start, end)]
        forms = [f.span() for p in self.counts for f in p.finditer(text, start, end) if f.end() > f.start()
                 and not _within_longer(f.span(), nots)]
        return max(forms, key=lambda f: (f[1] - f[0], -f[0]), default=None)

    def __call__(self, doc: Doc) -> Doc:
        layout = doc._.layout
        if layout is None or not layout.items:
            return doc
        ents = list(doc.ents)
        text = letter_text(doc)
        changed = False
        for item in layout.items:
            h = item.heading
            in_heading = [e for e in ents if e.start_char in h]
            if any(e.label_ == "DRUG" for e in in_heading):
                # a drug's quantity is its pack count: no SESSION_COUNT ("TEROCIN PATCHES QUANTITY: 30.00")
                packs = [e for e in in_heading if e.label_ == "SESSION_COUNT"
                         and self.pattern.fullmatch(text, e.start_char, e.end_char)]
                if packs:
                    ents = [e for e in ents if e not in packs]
                    changed = True
                continue
            if any(e.label_ == "SESSION_COUNT" for e in in_heading):
                continue  # the model (or a pattern) already marked it
            if self.not_for.search(text, h.start, h.end):
                continue
            found = self._quantity(text, h.start, h.end)
            if not found or any(e.start_char < found[1] and found[0] < e.end_char for e in in_heading):
                continue
            span = doc.char_span(*found, label="SESSION_COUNT", alignment_mode="contract")
            if span is None:
                continue
            ents = [_cut_before(e, h.start, span.start) if e.start_char < h.start and e.end > span.start else e
                    for e in ents]
            ents = [e for e in ents if e is not None]
            if any(e.start < span.end and span.start < e.end for e in ents):
                continue
            ents.append(span)
            changed = True
        if changed:
            doc.ents = sorted(ents, key=lambda e: e.start)
        return doc


class CountEchoes:
    """A service's bare quantity ("x 12", "times 8": the `quantity` pattern) that the letter names
    again after the same `context_words` words is the same SESSION_COUNT: "acupuncture for the neck
    x 12" in the treatments in dispute, the determination and the item heading. The model marks
    some of the repeats only; whether a bare quantity is a count turns on the words before it, and
    those are the same. Never before a number or a word of `not_before` (a unit: "x 6 weeks" is
    another count, "x 14 days" none)."""

    def __init__(self, quantity: str = r"(?!)", context_words: int = 3, not_before: list[str] = ()):
        self.quantity = re.compile(quantity, re.I)
        self.context_words = context_words
        self.not_before = frozenset(w.lower() for w in not_before)

    def _context(self, doc: Doc, start: int) -> tuple[str, ...] | None:
        """The lower-cased `context_words` tokens before token `start` (white space skipped);
        None when fewer stand before it."""
        words, k = [], start - 1
        while k >= 0 and len(words) < self.context_words:
            if not doc[k].is_space:
                words.append(doc[k].lower_)
            k -= 1
        return tuple(words) if len(words) == self.context_words else None

    def _before_a_unit(self, doc: Doc, k: int) -> bool:
        while k < len(doc) and doc[k].is_space:
            k += 1
        return k < len(doc) and (doc[k].like_num or doc[k].lower_ in self.not_before)

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        echoed: dict[tuple[str, ...], set[tuple[str, ...]]] = {}  # a quantity's words -> the words before it
        for e in ents:
            if e.label_ == "SESSION_COUNT" and self.quantity.fullmatch(e.text):
                context = self._context(doc, e.start)
                if context is not None:
                    echoed.setdefault(tuple(t.lower_ for t in e), set()).add(context)
        if not echoed:
            return doc
        taken = _taken_tokens(doc)
        added = []
        for quantity, contexts in echoed.items():
            n = len(quantity)
            for i in range(len(doc) - n + 1):
                if (doc[i].lower_ == quantity[0] and all(doc[i + j].lower_ == w for j, w in enumerate(quantity))
                        and not any(k in taken for k in range(i, i + n))
                        and self._context(doc, i) in contexts
                        and not self._before_a_unit(doc, i + n)):
                    added.append(Span(doc, i, i + n, label="SESSION_COUNT"))
                    taken.update(range(i, i + n))
        if added:
            doc.ents = sorted(ents + added, key=lambda e: e.start)
        return doc


@Language.factory("imr_count_echoes", default_config={"quantity": r"(?!)", "context_words": 3, "not_before": []})
def make_count_echoes(nlp: Language, name: str, quantity: str, context_words: int,
                      not_before: list[str]) -> CountEchoes:
    return CountEchoes(quantity, context_words, not_before)


def _cut_before(ent: Span, char: int, token: int) -> Span | None:
    """`ent` cut before character `char` and token `token`, without trailing white space (None
    when nothing is left)."""
    end = ent.start
    while end < min(ent.end, token) and ent.doc[end].idx < char:
        end += 1
    while end > ent.start and ent.doc[end - 1].is_space:
        end -= 1
    return Span(ent.doc, ent.start, end, label=ent.label_) if end > ent.start else None


@Language.factory("imr_request_quantity", default_config={"pattern": r"(?!)", "counts": [], "not_counts": [],
                                                         "not_for": r"(?!)"})
def make_request_quantity(nlp: Language, name: str, pattern: str, counts: list[str],
                          not_counts: list[str], not_for: str) -> RequestQuantity:
    return RequestQuantity(pattern, counts, not_counts, not_for)


def _within_longer(span: tuple[int, int], spans) -> bool:
    """Is `span` inside a longer one of `spans` ("three visits" of "three visits per week")?"""
    start, end = span
    return any(a <= start and end <= b and b - a > end - start for a, b in spans)


def _merged(spans, before: int, after: int, size: int) -> list[tuple[int, int]]:
    """[start, end) spans (in order of start) widened by `before`/`after` within [0, size), overlaps merged."""
    out: list[list[int]] = []
    for start, end in spans:
        a, b = max(0, start - before), min(size, end + after)
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _windows(anchor: re.Pattern, text: str, before: int, after: int) -> list[tuple[int, int]]:
    """Merged [start, end) windows of `text` around the matches of `anchor`."""
    return _merged((m.span() for m in anchor.finditer(text)), before, after, len(text))


_FORM_REACH = 160  # characters: longer than any count form of the grammar


def _near(text: str, window: tuple[int, int], span: tuple[int, int]) -> tuple[int, int]:
    """`window` cut to `_FORM_REACH` characters around `span` (a form that overlaps the span lies
    inside), starting at a word's start: the grammar's forms are searched there only (speed)."""
    a, b = max(window[0], span[0] - _FORM_REACH), min(window[1], span[1] + _FORM_REACH)
    if a > window[0]:
        a = max(window[0], text.rfind(" ", window[0], a) + 1)
    return a, b


class CountShaper:
    """Give each SESSION_COUNT the extent of the count grammar (configs/ner/count_grammar.yaml):
    the model decides whether a number is a session count, the grammar where its span starts and
    ends ("1 to 2 visits", not "2 visits"; "two times a week for four weeks", and no further).

    Of the `counts` forms that overlap a model span within its sentence, the longest replaces it
    (absorbing other counts it covers, never another label). A span that overlaps no count form
    but a `not_counts` form (a frequency alone, a dosing frequency), whose count form lies inside
    a longer `not_counts` form ("three visits" of "three visits per week"), or that has no form
    and no unit word at all ("6-8" of a pain scale, a date), no number ("those visits"), an
    unclosed parenthesis ("3) psychiatric follow-up visits" of a numbered list) or a date's or a
    code's digits ("11/2014 to 04/2015 Acupuncture treatment notes"), or that has no
    form and runs over more than `max_formless_tokens` tokens (into a documents list), is
    dropped. A `sure_counts` form (a frequency with its duration, the weeks of a named program)
    is a count even where the model found none: it is added within one paragraph, in place of
    the entities it contains, and keeps its extent."""

    def __init__(self, counts: list[str], not_counts: list[str], unit_words: str, sure_counts: list[str] = (),
                 max_formless_tokens: int = 1000, sure_anchor: str = r"week|wk|month"):
        self.max_formless_tokens = max_formless_tokens
        self.sure_anchor = re.compile(sure_anchor, re.I)  # every sure count holds one: its forms run near one only
        self.counts = [re.compile(p, re.I) for p in counts]
        self.not_counts = [re.compile(p, re.I) for p in not_counts]
        self.unit_words = re.compile(unit_words, re.I)
        self.sure = [re.compile(p, re.I) for p in sure_counts]

    def _with_sure_counts(self, doc: Doc, text: str, ents: list[Span]) -> list[Span]:
        """`ents` with the spans of the `sure_counts` forms added (longest first), each replacing
        the entities it contains (the model's "DRUG" of "Twice a week for eight weeks") and skipped
        where an entity reaches beyond it."""
        found = sorted({m.span() for a, b in _windows(self.sure_anchor, text, 120, 60) for p in self.sure
                        for m in p.finditer(text, a, b) if m.end() > m.start() and "\n" not in m.group()},
                       key=lambda s: (s[0], s[0] - s[1]))
        for start, end in found:
            span = doc.char_span(start, end, label="SESSION_COUNT", alignment_mode="contract")
            if span is None or not len(span):
                continue
            inside = [e for e in ents if span.start <= e.start and e.end <= span.end]
            rest = [e for e in ents if not (span.start <= e.start and e.end <= span.end)]
            if inside and all(e.label_ == "SESSION_COUNT" for e in inside) or any(
                    e.start < span.end and span.start < e.end for e in rest):
                continue  # already a count (the shaper gives it its extent), or an entity reaches beyond it
            ents = sorted(rest + [span], key=lambda e: e.start)
        return ents

    @staticmethod
    def _overlapping(patterns, text: str, window: tuple[int, int], span: tuple[int, int]) -> list[tuple[int, int]]:
        out = []
        for p in patterns:
            for m in p.finditer(text, *window):
                if m.start() < span[1] and span[0] < m.end() and m.end() > m.start():
                    out.append(m.span())
        return out

    def _counts_tagged_as_drugs(self, doc: Doc, text: str, ents: list[Span]) -> list[Span]:
        """`ents` with a model DRUG that is a number ("twenty" of "twenty four sessions") or a count
        form as a whole ("twenty-four sessions") taken as a SESSION_COUNT: no drug name is either.
        The steps below then shape it like any count, or drop it where no count form holds it."""
        out = []
        for e in ents:
            if e.label_ == "DRUG" and (all(t.like_num or t.text == "-" for t in e) or any(
                    p.fullmatch(text, e.start_char, e.end_char) for p in self.counts)):
                e = Span(doc, e.start, e.end, label="SESSION_COUNT")
            out.append(e)
        return out

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        text = letter_text(doc)
        if any(e.label_ == "DRUG" for e in ents):
            recounted = self._counts_tagged_as_drugs(doc, text, ents)
            if any(a.label_ != b.label_ for a, b in zip(ents, recounted)):
                doc.ents = ents = recounted
        sure_spans: set[tuple[int, int]] = set()
        if self.sure:
            sure = self._with_sure_counts(doc, text, ents)
            if sure != ents:
                sure_spans = {(e.start, e.end) for e in sure} - {(e.start, e.end) for e in ents}
                doc.ents = ents = sure
        if not any(e.label_ == "SESSION_COUNT" for e in ents):
            return doc
        out: list[Span] = []
        changed = False
        for ent in ents:
            if ent.label_ != "SESSION_COUNT" or (ent.start, ent.end) in sure_spans:
                out.append(ent)  # (a sure form just added is a whole count already)
                continue
            here = (ent.start_char, ent.end_char)
            window = _near(text, _sentence_bounds(text, *here), here)
            forms = self._overlapping(self.counts, text, window, here)
            if not forms:
                if self._overlapping(self.not_counts, text, window, here) or not self.unit_words.search(ent.text) \
                        or len(ent) > self.max_formless_tokens or not any(t.like_num for t in ent) \
                        or ent.text.count("(") != ent.text.count(")") or any(map(_date_or_code, ent)):
                    changed = True  # not a count ("those visits", a list's "3) ... visits", a date's): dropped
                else:
                    out.append(ent)
                continue
            start, end = max(forms, key=lambda f: (f[1] - f[0], -f[0]))
            if _within_longer((start, end), self._overlapping(self.not_counts, text, window, here)):
                changed = True  # "three visits" of "three visits per week": a frequency, dropped
                continue
            span = doc.char_span(start, end, label="SESSION_COUNT", alignment_mode="contract")
            if span is None or (span.start, span.end) == (ent.start, ent.end):
                out.append(ent)
                continue
            others = [e for e in ents if e is not ent and e.start < span.end and span.start < e.end]
            if any(e.label_ != "SESSION_COUNT" for e in others):
                out.append(ent)  # the grammar would swallow a drug or a citation: keep the model's span
                continue
            out = [e for e in out if not (e.start < span.end and span.start < e.end)]
            out.append(span)
            changed = True
        if changed:
            # a later count already covered by a shaped span is not added twice
            kept: list[Span] = []
            for e in sorted(out, key=lambda e: (e.start, -(e.end - e.start))):
                if kept and e.start < kept[-1].end:
                    continue
                kept.append(e)
            doc.ents = kept
        return doc


@Language.factory("imr_count_shaper", default_config={"counts": [], "not_counts": [], "unit_words": r"(?!)",
                                                     "sure_counts": [], "max_formless_tokens": 1000,
                                                     "sure_anchor": r"week|wk|month"})
def make_count_shaper(nlp: Language, name: str, counts: list[str], not_counts: list[str],
                      unit_words: str, sure_counts: list[str], max_formless_tokens: int,
                      sure_anchor: str) -> CountShaper:
    return CountShaper(counts, not_counts, unit_words, sure_counts, max_formless_tokens, sure_anchor)


def _clause_before(ent: Span, window: int | None = None):
    """The tokens before `ent` in its clause, nearest first (at most `window`). A duration in parentheses reads
    the words before them: "short-term use (4-12 weeks)"."""
    doc, k = ent.doc, ent.start
    if k > 1 and doc[k - 1].text == "(":
        k -= 1
    while k > 0 and (window is None or ent.start - k < window) and doc[k - 1].text not in _CLAUSE_ENDS:
        k -= 1
        yield doc[k]


class EntityFilter:
    """Drop entities that cannot be what their label says: a DRUG made of stop words only
    ("Both") or naming a person ("Corwin A. Hallberg"), a drug word in its lay use ("cortisone
    injection"), a hormone the body makes measured in the blood ("a serum total testosterone of
    212") or naming a class's mechanism ("serotonin norepinephrine reuptake inhibitor") or,
    unknown to the lexicon, naming a drug class
    ("benzodiazepine"), in the header, made of ordinary English words, before a laboratory word
    ("creatinine testing") or not ending like a drug name; a one-word GUIDELINE that names no guideline ("Chronic") and is
    no web address, or a GUIDELINE that is a person or a reviewer's specialty ("Certified in Orofacial Pain"); a
    bare duration after a drug-use word ("limit use to 4 weeks") or before a drug ("three months of trazodone").
    A `first_pass` right after the model filters DRUGs alone, those without a number, so that the patterns can
    claim their words ("Aetna Clinical Policy Bulletin" with "Bulletin" tagged DRUG)."""

    ORDINARY_WORDS = "ordinary_words.txt"

    def __init__(self, guideline_single_words: list[str], drug_duration_cues: list[str] = (),
                 unknown_drug_endings: list[str] = (), lay_uses: dict[str, list[str]] | None = None,
                 analyte_words: list[str] = (), cue_window: int = 3, service_words: list[str] = (),
                 class_words: list[str] = (), class_nouns: list[str] = (),
                 not_course: dict[str, list[str]] | None = None, measure_words: list[str] = (),
                 person_degrees: list[str] = (), specialty_leads: list[str] = (),
                 lab_leads: dict[str, list[str]] | None = None, first_pass: bool = False,
                 specialty_fields: list[str] = ()):
        self.first_pass = first_pass
        self.specialty_fields = tuple(f.lower() for f in specialty_fields)
        self.single = {w.lower() for w in guideline_single_words}
        self.specialty_leads = frozenset(tuple(w.lower().split()) for w in specialty_leads)
        self.measure_words = frozenset(w.lower() for w in measure_words)
        self.person_degrees = frozenset(person_degrees)
        not_course = not_course or {}
        self.interval_words = frozenset(w.lower() for key in ("interval", "window") for w in not_course.get(key, ()))
        self.time_point_words = frozenset(w.lower() for w in not_course.get("time_point", ()))
        self.outcome_words = frozenset(w.lower() for w in not_course.get("outcome", ()))
        self.condition_words = frozenset(w.lower() for w in not_course.get("condition", ()))
        self.hedge_words = frozenset(w.lower() for w in not_course.get("hedge", ()))
        self.cues = frozenset(c.lower() for c in drug_duration_cues)
        self.cue_window = cue_window
        self.service_words = frozenset(w.lower() for w in service_words)
        self.endings = tuple(e.lower() for e in unknown_drug_endings)
        self.lay_uses = {k.lower(): {w.lower() for w in v} for k, v in (lay_uses or {}).items()}
        self.lab_leads = {k.lower(): {w.lower() for w in v} for k, v in (lab_leads or {}).items()}
        self.analyte_words = {w.lower() for w in analyte_words}
        self.class_words = {w.lower() for w in class_words}
        self.class_nouns = {w.lower() for w in class_nouns}
        self.ordinary: frozenset[str] = frozenset()

    def set_ordinary_words(self, words) -> None:
        """Ordinary English words (configs/lexicons/ordinary_words.txt): an unknown DRUG made of
        these only is dropped. Saved with the pipeline (`to_disk`), as spaCy's rulers keep their
        patterns."""
        self.ordinary = frozenset(w.strip().lower() for w in words if w.strip() and not w.startswith("#"))

    @staticmethod
    def _next_word(ent: Span) -> str:
        """The word after `ent`, across a hyphen ("morphine-equivalent dose") or a line break."""
        doc, k = ent.doc, ent.end
        if k + 1 < len(doc) and doc[k].text == "-" and not doc[k - 1].whitespace_:
            k += 1
        while k < len(doc) and doc[k].is_space:
            k += 1
        return doc[k].lower_ if k < len(doc) else ""

    @staticmethod
    def _previous_word(ent: Span) -> str:
        """The word before `ent`, across a line break ("free" of "free\ntestosterone")."""
        doc, k = ent.doc, ent.start - 1
        while k >= 0 and doc[k].is_space:
            k -= 1
        return doc[k].lower_ if k >= 0 else ""

    def _a_persons_name(self, ent: Span) -> bool:
        """A drug's name that is a person's: after "Dr." or before an initial and a surname
        ("Sincerely, Corwin A. Hallberg, MD"), or before a surname and a degree ("Sincerely, Corwin
        Althaus, MD")."""
        doc = ent.doc
        if ent.start > 0 and doc[ent.start - 1].lower_ in ("dr", "dr."):
            return True
        k = ent.end
        if (k + 2 < len(doc) and doc[k].is_title and not doc[k].is_stop and doc[k + 1].text == ","
                and doc[k + 2].text in self.person_degrees):
            return True
        return (k + 1 < len(doc) and _INITIAL.fullmatch(doc[k].text) is not None and doc[k + 1].is_title
                and not doc[k + 1].is_stop)

    def _plausible_drug(self, ent: Span) -> bool:
        from nlp.lexicon import get_lexicon

        nxt = self._next_word(ent)
        if nxt in self.class_words:
            return False  # "a serotonin norepinephrine reuptake inhibitor" names a class
        if get_lexicon().lookup(ent.text) is not None:
            return (nxt not in self.lay_uses.get(ent.text.lower(), ())  # "cortisone injection"
                    and self._previous_word(ent) not in self.lab_leads.get(ent.text.lower(), ()))  # "free testosterone"
        if re.sub(r"s$", "", ent.text.lower()) in self.class_nouns:
            return False  # "a benzodiazepine": SPEC section 2, a drug class is no DRUG
        if nxt in self.analyte_words or nxt in ("and", "or") and any(
                t.lower_ in self.analyte_words for t in ent.doc[ent.end + 1:ent.end + 3]):
            return False  # "creatinine testing", "cruciate and collateral ligaments": an analyte, a body part
        layout = ent.doc._.layout
        if layout is not None and layout.locate(ent.start_char)[0] == "header":
            return False
        if self.ordinary and all(t.is_punct or t.lower_.strip("-") in self.ordinary for t in ent):
            return False  # "prone", "control", "moderate-" (and high-risk): ordinary words that end like drug names
        last = re.sub(r"[^a-z]", "", ent[-1].text.lower())
        return bool(self.endings) and len(last) >= 5 and last.endswith(self.endings)

    def keep(self, ent: Span) -> bool:
        if self.first_pass and (ent.label_ != "DRUG" or any(t.like_num for t in ent)):
            return True  # the count grammar may yet take "eight (8) visits" tagged DRUG for a count
        if ent.label_ == "DRUG":
            return (not all(t.is_stop or t.is_punct for t in ent) and not self._a_persons_name(ent)
                    and self._plausible_drug(ent))
        if ent.label_ == "GUIDELINE" and len(ent) == 1:
            return ent.text.lower() in self.single or ent[0].like_url  # "www.mdguidelines.com"
        if ent.label_ == "GUIDELINE" and any(t.lower_ in self.measure_words for t in ent):
            return False  # "Neck Disability Index (fell by four)": an outcome measure, no guideline
        if ent.label_ == "GUIDELINE" and (self._before_a_degree(ent) or self._holds_a_degree(ent)):
            return False  # "Marguerite Osterhout, MD": a person
        if ent.label_ == "GUIDELINE" and self._after_a_specialty_lead(ent):
            return False  # "Board Certified in Orofacial Pain": a specialty
        if ent.label_ == "SESSION_COUNT" and self._bare_duration(ent):
            return not (self.cues and self._after_drug_use(ent) or self._of_a_drug(ent) or self._not_a_course(ent))
        return True

    def _before_a_degree(self, ent: Span) -> bool:
        doc = ent.doc
        return (ent.end + 1 < len(doc) and doc[ent.end].text == ","
                and doc[ent.end + 1].text in self.person_degrees)

    def _holds_a_degree(self, ent: Span) -> bool:
        """A name with its degree inside the span ("Provider Name: Corinne Vasquez-Lind, MD")."""
        return any(a.text == "," and b.text in self.person_degrees for a, b in zip(ent, ent[1:]))

    def _after_a_specialty_lead(self, ent: Span) -> bool:
        words = tuple(t.lower_ for t in ent.doc[max(0, ent.start - 2):ent.start])
        if words in self.specialty_leads:
            return True
        text = letter_text(ent.doc)
        paragraph = text[text.rfind("\n", 0, ent.start_char) + 1:ent.start_char].lower()
        return any(f in paragraph for f in self.specialty_fields)

    def _not_a_course(self, ent: Span) -> bool:
        """An interval or window, a point in time, how long an outcome or a condition lasted, or a
        drug's use: "every 4-6 months", "the past 12 months", "eight months before", "three weeks of
        relief", "off work for 26 months", "gabapentin ... for eight months"; or told as an estimate with no
        service named before it ("for about 16 months", "roughly eight months"): a course is stated, a history
        estimated; or a rate ("two tablets a week")."""
        doc = ent.doc
        if (ent.start > 0 and doc[ent.start - 1].lower_ in self.hedge_words
                and not self._service_before(ent)):
            return True  # (not a service's: "physical therapy for about eight months")
        if (ent[0].lower_ in ("a", "an", "per") and ent.start > 1 and doc[ent.start - 1].is_alpha
                and doc[ent.start - 2].like_num):
            return True  # a rate: "about two tablets a week", "20 tablets a month"
        k = ent.start - 1  # the word before, past "of" and "up to" ("short periods of up to 4 to 12 weeks")
        while k > 0 and doc[k].lower_ in _DURATION_FILLERS:
            k -= 1
        if k >= 0 and doc[k].lower_ in self.interval_words:
            return True
        after = [t.lower_ for t in doc[ent.end:ent.end + 5] if t.text not in ("'", "\u2019")][:4]  # "months' duration"
        if after[:1] and after[0] in self.time_point_words:
            return True
        if after[:1] == ["of"] and any(w in self.outcome_words for w in after[1:4]):
            return True
        if (self.condition_words and not self._of_a_service(after)
                and any(t.lower_ in self.condition_words for t in self._words_before(ent, self.cue_window))):
            return True  # "the pain has persisted for at least 6 weeks", "off work for 26 months"
        return self._drug_in_clause(ent) or self._listed_after_no_course(ent)

    def _listed_after_no_course(self, ent: Span) -> bool:
        """A duration listed after one that follows a window's word is none: "testing at 6 weeks, 3 months
        and 6 months"."""
        doc, k, listed = ent.doc, ent.start, False
        while True:
            j = k  # past the joiner to the member before: a number (or range) and its unit
            while j > 0 and doc[j - 1].lower_ in (",", "and", "or"):
                j -= 1
            if j == k or j < 2 or doc[j - 1].lower_ not in _DURATION_UNITS or not doc[j - 2].like_num:
                break
            k, listed = j - 2, True
            while k > 0 and (doc[k - 1].like_num or doc[k - 1].lower_ in _RANGE_JOINERS):
                k -= 1
        return listed and k > 0 and doc[k - 1].lower_ in self.interval_words

    def _of_a_service(self, after: list[str]) -> bool:
        """"... after at least 1 month of conservative therapy": the weeks or months of a service."""
        return after[:1] == ["of"] and any(w in self.service_words for w in after[1:4])

    def _drug_in_clause(self, ent: Span) -> bool:
        """A DRUG before the duration in its clause, with no service word between them."""
        return any(t.ent_type_ == "DRUG" for t in self._words_before(ent))

    def _service_before(self, ent: Span) -> bool:
        """A service word among the `cue_window` words before `ent` in its clause (where `_words_before` stops)."""
        return any(t.lower_ in self.service_words for t in _clause_before(ent, self.cue_window))

    def _words_before(self, ent: Span, window: int | None = None):
        """The tokens before `ent` in its clause, nearest first (at most `window`), up to the
        first service word (`service_words`): "medication management visits for 6 months" is a
        service's course whatever stands before "visits"."""
        for t in _clause_before(ent, window):
            if t.lower_ in self.service_words:
                return
            yield t

    @staticmethod
    def _bare_duration(ent: Span) -> bool:
        """Only a number (or range) of weeks, months or days: "4 weeks", "two to three weeks",
        "a month"; also after a frequency word alone ("weekly for 8 weeks": how long a weekly drug
        is taken, when a drug stands before it)."""
        toks = list(ent)
        if toks and toks[0].lower_ in ("weekly", "monthly"):
            toks = toks[next((k for k, t in enumerate(toks) if t.like_num or t.lower_ in ("a", "an")), len(toks)):]
        first = bool(toks) and (toks[0].like_num or toks[0].lower_ in ("a", "an"))
        return (len(toks) >= 2 and toks[-1].lower_ in _DURATION_UNITS and first
                and all(t.like_num or t.lower_ in _RANGE_JOINERS for t in toks[1:-1]))

    @staticmethod
    def _of_a_drug(ent: Span) -> bool:
        """"three months of trazodone", "3 months coverage of Viagra": the duration of a drug's use
        (SPEC section 2), a DRUG right after "of" (or "of the")."""
        doc, k = ent.doc, ent.end
        if k + 1 < len(doc) and doc[k].lower_ in _SUPPLY_WORDS and doc[k + 1].lower_ == "of":
            k += 1
        if k >= len(doc) or doc[k].lower_ != "of":
            return False
        k += 2 if k + 1 < len(doc) and doc[k + 1].lower_ == "the" else 1
        return k < len(doc) and doc[k].ent_type_ == "DRUG"

    def _after_drug_use(self, ent: Span) -> bool:
        """A drug-use word (`drug_duration_cues`) among the `cue_window` words before a bare
        duration, in its clause and with no service word (`service_words`) nearer: "taking it
        nightly for about five months", "does not support use for longer than 2 to 3 weeks" (SPEC
        section 2: durations of drug use are no count)."""
        return any(t.lower_ in self.cues for t in self._words_before(ent, self.cue_window))

    def __call__(self, doc: Doc) -> Doc:
        ents = doc.ents
        kept = [self._as_guideline(e) or e for e in ents]
        kept = [e for e in kept if self.keep(e)]
        if kept != list(ents):
            doc.ents = kept
        return doc

    def _as_guideline(self, ent: Span) -> Span | None:
        """A DRUG the model found that opens with a guideline's one-word name and that the lexicon
        does not know is that guideline's citation ("ACOEM chapter 13" tagged DRUG)."""
        if ent.label_ != "DRUG" or ent[0].lower_ not in self.single:
            return None
        from nlp.lexicon import get_lexicon

        if get_lexicon().lookup(ent.text) is not None:
            return None
        return Span(ent.doc, ent.start, ent.end, label="GUIDELINE")

    def to_disk(self, path, *, exclude=()) -> None:  # the drug lexicon travels with the pipeline
        from pathlib import Path

        from nlp.config import save_configs

        save_configs(path, ("lexicons/drugs.yaml", "lexicons/drug_name_filters.yaml", "lexicons/drugs_package.tsv"))
        (Path(path) / self.ORDINARY_WORDS).write_text("\n".join(sorted(self.ordinary)) + "\n", encoding="utf-8")

    def from_disk(self, path, *, exclude=()) -> "EntityFilter":
        from pathlib import Path

        from nlp.config import carry_configs

        carry_configs(path)
        words = Path(path) / self.ORDINARY_WORDS
        if words.is_file():
            self.set_ordinary_words(words.read_text(encoding="utf-8").splitlines())
        return self


@Language.factory("imr_entity_filter", default_config={"guideline_single_words": [], "drug_duration_cues": [],
                                                      "unknown_drug_endings": [], "lay_uses": {},
                                                      "analyte_words": [], "cue_window": 3, "service_words": [],
                                                      "class_words": [], "class_nouns": [], "not_course": {},
                                                      "measure_words": [], "person_degrees": [],
                                                      "specialty_leads": [], "lab_leads": {}, "first_pass": False,
                                                      "specialty_fields": []})
def make_entity_filter(nlp: Language, name: str, guideline_single_words: list[str],
                       drug_duration_cues: list[str], unknown_drug_endings: list[str],
                       lay_uses: dict[str, list[str]], analyte_words: list[str], cue_window: int,
                       service_words: list[str], class_words: list[str], class_nouns: list[str],
                       not_course: dict[str, list[str]], measure_words: list[str],
                       person_degrees: list[str], specialty_leads: list[str],
                       lab_leads: dict[str, list[str]], first_pass: bool,
                       specialty_fields: list[str]) -> EntityFilter:
    return EntityFilter(guideline_single_words, drug_duration_cues, unknown_drug_endings, lay_uses, analyte_words,
                        cue_window, service_words, class_words, class_nouns, not_course, measure_words, person_degrees,
                        specialty_leads, lab_leads, first_pass, specialty_fields)


@functools.lru_cache(maxsize=1)
def _dosage_forms() -> frozenset[str]:
    from nlp.ner.patterns import dosage_form_words

    return dosage_form_words()


def _any_word(words) -> re.Pattern:
    """One of `words` as a whole word (never matches when there are none)."""
    alt = "|".join(re.escape(str(w).lower()) for w in words)
    return re.compile(r"\b(?:%s)\b" % alt if alt else r"(?!)")


@functools.lru_cache(maxsize=1)
def _injection_words() -> tuple[frozenset, int, re.Pattern, re.Pattern]:
    cfg = load_yaml("lexicons/drug_name_filters.yaml").get("injected_anesthetics") or {}
    return (frozenset(str(g).lower() for g in cfg.get("generics") or ()), int(cfg.get("window", 80)),
            _any_word(cfg.get("injection_cues") or ()), _any_word([*(cfg.get("topical_cues") or ()), *_dosage_forms()]))


def _injected_anesthetic(norm: dict, text: str, start: int, end: int) -> bool:
    """A topical analgesic (lidocaine) injected as a local anesthetic: class `other`
    (`injected_anesthetics` of configs/lexicons/drug_name_filters.yaml)."""
    generics, window, injection, topical = _injection_words()
    if norm.get("drug_class") != "topical_analgesic" or norm.get("generic") not in generics:
        return False
    near = text[max(0, start - window):end + window].lower()
    return injection.search(near) is not None and topical.search(near) is None


def _period(over: dict) -> tuple:
    """A count's period ("over 6 weeks") as a comparable value."""
    return over.get("min"), over.get("max"), over.get("unit")


class EntityNormalizer:
    """Normalize entities; counts get their role from where they stand in the letter: the request
    heading -> requested, else the nearest cue word of the sentence; a course with its period in
    the reviewer's fields that no cue explains -> recommended. Then the disputed requests' own
    counts decide between requested and null elsewhere (`_roles_of_disputed_counts`)."""

    def __call__(self, doc: Doc) -> Doc:
        text = letter_text(doc)
        layout = doc._.layout or parse_layout(text)
        doc._.layout = layout
        for ent in doc.ents:
            section, item = layout.locate(ent.start_char)
            ent._.section, ent._.item = section, item
            ent._.norm = self.normalize(ent, text, layout, item)
        self._inherited_sources(doc, text)
        self._roles_of_disputed_counts(doc, text, layout)
        return doc

    @staticmethod
    def _inherited_sources(doc: Doc, text: str) -> None:
        """A citation listed right after another without naming a source ("ODG, Neck and Upper Back;
        Low Back", "..., pages 111-113 and Lidoderm (lidocaine patch), pages 56-57") cites the
        same source: its chapter, or a further topic of the same document."""
        prev = None
        for ent in doc.ents:
            if ent.label_ != "GUIDELINE":
                continue
            named = (prev is not None and (prev._.norm or {}).get("source") in SOURCES_NAMED
                     and _LISTED_AFTER.fullmatch(text, prev.end_char, ent.start_char) and not names_a_source(ent.text))
            if named:
                norm = normalize_guideline(f"{prev._.norm['source']} {ent.text}")
                if norm.get("document") is None:
                    norm["document"] = prev._.norm.get("document")
                ent._.norm = norm
            prev = ent

    @staticmethod
    def _roles_of_disputed_counts(doc: Doc, text: str, layout) -> None:
        """SPEC: `requested` is what a disputed item asks for. Where the item headings state their
        counts, a count elsewhere that a request cue marks but that is none of those amounts is
        another request (an earlier one, one not disputed): null; a count with no cue at all
        that is one of those amounts restates a disputed request ("the current 6 therapy
        sessions"): requested. So is a course the reviewer's fields quote with no cue (taken for a
        guideline's allowance in `normalize`) when it is a disputed course, period included ("post-
        operative physical therapy 2 x 6 for the lumbar spine is also not medically necessary")."""
        headings = [it.heading for it in layout.items]
        counts = [(e, any(e.start_char in h for h in headings))
                  for e in doc.ents if e.label_ == "SESSION_COUNT" and e._.norm]
        requested = [e._.norm for e, in_heading in counts
                     if in_heading and e._.norm.get("role") == "requested" and e._.norm.get("min") is not None]
        disputed = {(n["min"], n["max"]) for n in requested}
        if not disputed:
            return
        courses = {(n["min"], n["max"], _period(n["over"])) for n in requested if n.get("over")}
        for ent, in_heading in counts:
            norm = ent._.norm
            if in_heading or norm.get("min") is None:
                continue
            amount = (norm["min"], norm["max"])
            if norm.get("role") == "requested" and amount not in disputed:
                norm["role"] = None
            elif norm.get("role") in (None, "recommended") and amount in disputed:
                s, e = _sentence_bounds(text, ent.start_char, ent.end_char)
                span = (ent.start_char - s, ent.end_char - s)
                if norm.get("role") is None and role_cue(text[s:e], span) is None:
                    norm["role"] = "requested"
                elif (norm.get("role") == "recommended" and norm.get("over")
                      and (*amount, _period(norm["over"])) in courses
                      and infer_count_role(text[s:e], False, span) is None):
                    norm["role"] = "requested"

    @staticmethod
    def normalize(ent: Span, text: str, layout, item_index: int | None) -> dict | None:
        if ent.label_ == "DRUG":
            # a dosage form after the name is outside the span but still says which product it is
            # ("Voltaren gel" is a topical analgesic, "Voltaren" an oral NSAID)
            form = re.match(r"\s+([A-Za-z]+)", text[ent.end_char:ent.end_char + 20])
            with_form = normalize_drug(f"{ent.text} {form.group(1)}") if form and form.group(1).lower() in _dosage_forms() else None
            # a drug the lexicon does not know (its names cover the drugs these letters dispute) is
            # one of the others: "lisinopril", "gadolinium" (SPEC: the class set is closed)
            norm = with_form or normalize_drug(ent.text) or {"generic": ent.text.lower(), "drug_class": "other"}
            if _injected_anesthetic(norm, text, ent.start_char, ent.end_char):
                norm = {**norm, "drug_class": "other"}
            return norm
        if ent.label_ == "GUIDELINE":
            return normalize_guideline(ent.text)
        if ent.label_ == "SESSION_COUNT":
            item = layout.items[item_index - 1] if item_index else None
            in_request = item is not None and ent.start_char in item.heading
            s, e = _sentence_bounds(text, ent.start_char, ent.end_char)
            role = infer_count_role(text[s:e], in_request, (ent.start_char - s, ent.end_char - s))
            hint = item.request if in_request else None
            norm = normalize_count(ent.text, role=role, unit_hint=hint)
            if norm is not None and norm.get("role") is None and norm.get("over") and item is not None and any(
                    f is not None and f.start <= ent.start_char < f.end for f in (item.reviewer, item.rationale)):
                # a course with its period in the reviewer's own fields, no cue near it: the reviewer
                # quotes what a guideline allows ("Myalgia: 9-10 visits over 8 weeks")
                norm["role"] = "recommended"
            return norm
        return None

    def to_disk(self, path, *, exclude=()) -> None:  # the normalizers' lexicons travel with the pipeline
        from nlp.config import save_configs

        save_configs(path, ("layouts.yaml", "lexicons/drugs.yaml", "lexicons/drug_name_filters.yaml",
                            "lexicons/drugs_package.tsv", "lexicons/guideline_documents.yaml",
                            "lexicons/number_words.yaml", "lexicons/count_terms.yaml"))

    def from_disk(self, path, *, exclude=()) -> "EntityNormalizer":
        from nlp.config import carry_configs

        carry_configs(path)
        return self


@Language.factory("imr_entity_normalizer")
def make_entity_normalizer(nlp: Language, name: str) -> EntityNormalizer:
    return EntityNormalizer()
