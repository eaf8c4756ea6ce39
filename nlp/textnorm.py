"""Turn PDF-extracted letter text into clean paragraphs.

Extraction leaves wrapped lines (sometimes with blank lines interleaved), page breaks and
page furniture in mid-sentence ("Page 4 of 5" lines are dropped wherever they stand), hyphenation at line ends and runs of spaces. The output
has one paragraph per line and a blank line between paragraphs; section headings, field
labels ("Decision rationale:") and item headings keep lines of their own. An item heading
whose decision word was wrapped onto the next line is joined back ("...: Overturned").
`normalize_text(normalize_text(t)) == normalize_text(t)`.
"""
from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from typing import NamedTuple

from nlp.config import load_yaml

_SPACE_CHARS = " \t\u00a0\u2000-\u200b\u3000\ufeff\x00"
_WS = re.compile(f"[{_SPACE_CHARS}]+")
_SENTENCE_END = re.compile(r"[.!?]['\")\]]?$")


def _key(s: str) -> str:
    return _WS.sub(" ", s).strip().lower()


class _Markers(NamedTuple):
    """The layout words text normalization reads (configs/layouts.yaml)."""
    headings: frozenset
    starts: tuple
    decisions: frozenset
    page_numbers: list
    para_ends: tuple
    page_breaks: list
    field_labels: re.Pattern
    repeated_headers: list
    colon_headings: list
    item_number: re.Pattern
    bare_labels: re.Pattern


@functools.lru_cache(maxsize=1)
def _markers() -> _Markers:
    cfg = load_yaml("layouts.yaml")
    headings = frozenset(_heading_key(_key(h)) for h in cfg["headings"])
    starts = tuple(_key(s) for s in cfg["line_starts"])
    # a decision word alone, or in brackets ("[Upheld]", "(Overturned)")
    decisions = frozenset(f"{a}{_key(w)}{b}" for w in cfg["decision_words"].values() for a, b in (("", ""), ("[", "]"), ("(", ")")))
    page_numbers = [re.compile(p, re.I) for p in cfg["page_number_patterns"]]
    para_ends = tuple(_key(s) for s in cfg["paragraph_end_phrases"])
    page_breaks = [re.compile(p, re.I) for p in cfg["page_break_lines"]]
    # the item field labels other writers use ("Guideline(s) used by the Expert Reviewer:"); not
    # the bare "guidelines:", which a wrapped sentence can start with ("Per the ODG / guidelines: ...")
    field_labels = re.compile("|".join(f"(?:{p})" for role, ps in cfg["item_field_patterns"].items()
                                       if role != "guidelines" for p in ps), re.I)
    repeated_headers = [re.compile(p, re.I) for p in cfg.get("repeated_header_lines") or ()]
    colon_headings = [re.compile(with_item_number(p, cfg), re.I) for p in cfg.get("paragraph_end_headings") or ()]
    item_number = re.compile(with_item_number("{item_number}", cfg) + r"\s+", re.I)
    # an item field's label alone on its line: a side's or the rationale's without its colon ("Rationale
    # for the Decision"), one naming no side with it ("Guidelines Applied:")
    roles = ("claims_administrator", "reviewer", "rationale")
    bare = [phrase_pattern(_key(x).rstrip(":")) for r in roles for x in cfg["item_fields"][r]]
    bare += [re.sub(r"\\s\*:$", "", p) for r in roles for p in cfg["item_field_patterns"].get(r, ())]
    bare += cfg["item_field_patterns"].get("guidelines", [])
    bare_labels = re.compile(r"(?:%s)\s*:?$" % "|".join(f"(?:{p})" for p in bare), re.I)
    return _Markers(headings, starts, decisions, page_numbers, para_ends, page_breaks, field_labels,
                    repeated_headers, colon_headings, item_number, bare_labels)


def phrase_pattern(s: str) -> str:
    """A phrase as a pattern: its words escaped, any white space between them."""
    return r"\s+".join(re.escape(w) for w in s.split())


def with_item_number(pattern: str, cfg) -> str:
    """A pattern of configs/layouts.yaml with its `{item_number}` and `{item_label}` written out."""
    return pattern.replace("{item_number}", cfg["item_number"]).replace("{item_label}", cfg["item_label"])


def _heading_key(key: str) -> str:
    """A line's `_key` as a section heading's: with or without its colon ("IMR DECISION(S) AND
    RATIONALE(S):")."""
    return key.rstrip(":").rstrip()


def _is_heading(line: str) -> bool:
    return _heading_key(_key(line)) in _markers().headings


def _stands_alone(line: str) -> bool:
    """Is a line a paragraph of its own, joined to no line after it: a section heading, or an item
    field's label without its colon ("Rationale for the Decision" above its text)?"""
    key, markers = _key(line), _markers()
    if _heading_key(key) in markers.headings:
        return True
    return not key.endswith(":") and markers.bare_labels.match(key) is not None


def _starts_field(line: str) -> bool:
    return _field_key(_key(line))


def _field_key(key: str) -> bool:
    """Does a line (its `_key`) start with a field label (`line_starts` or an item field's), after
    an item's number ("1) Regarding the request for ...")?"""
    markers = _markers()
    number = markers.item_number.match(key)
    if number:
        key = key[number.end():]
    return key.startswith(markers.starts) or markers.field_labels.match(key) is not None


def _is_decision_word(line: str) -> bool:
    return _key(line) in _markers().decisions


def _drop_page_furniture(pages: list[list["_Line"]]) -> list[list["_Line"]]:
    """Remove page numbers and running headers/footers repeated at page edges."""
    if len(pages) < 2:
        return pages
    page_numbers = _markers().page_numbers

    def edge(lines, first):
        seq = lines if first else list(reversed(lines))
        return next((ln.text for ln in seq if ln.text.strip()), None)

    repeated = set()
    for first in (True, False):
        texts = [e for e in (edge(p, first) for p in pages) if e is not None]
        edges = [_key(e) for e in texts]
        for k in set(edges):
            # A running header/footer: on most pages, and not prose (no sentence end, no sentence
            # boundary inside, not a lower-case continuation, not three lower-case words: a
            # sentence that two page breaks happen to cut at the same words, as in two items of
            # one letter) nor a heading or a field's label.
            text = texts[edges.index(k)] if k else ""
            if (k and edges.count(k) >= 2 and edges.count(k) >= 0.6 * len(pages)
                    and not _SENTENCE_END.search(k) and ". " not in k and not _is_heading(k)
                    and not _starts_field(text) and sum(w[:1].islower() for w in text.split()) < 3
                    and not any(_key(e) == k and e.lstrip()[:1].islower() for e in texts)):
                repeated.add(k)
    out = []
    for lines in pages:
        lines = list(lines)
        for first in (True, False):
            idx = range(len(lines)) if first else range(len(lines) - 1, -1, -1)
            for i in idx:
                s = lines[i].text if lines[i] is not None else None
                if s is None or not s.strip():
                    continue
                if _key(s) in repeated or any(p.match(s) for p in page_numbers):
                    lines[i] = None
                    continue
                break
        out.append([ln for ln in lines if ln is not None])
    return out


def _interleaving(lines: list["_Line"]) -> str | None:
    """How extraction interleaved blank lines between wrapped lines: "empty", "space" or None.

    "empty": what the published text extracts show, wrapped lines separated by empty lines
    (several of them mid-sentence) while paragraphs are separated by lines holding only spaces.
    Some extracts separate every line by an empty line and keep the wrapped lines' trailing
    space instead: there the wraps that end in white space are the sign, and paragraphs are told
    apart as within a block (`_joins`). "space": no empty line at all, every line followed by one
    line holding only spaces (several of them mid-sentence) and paragraphs by two or more; a
    double-spaced extraction (every line followed by an empty line, paragraphs by more) is read so
    too. Normalized text has neither space-only lines nor trailing white space, which keeps
    normalizing idempotent.
    """
    texts = [ln.text for ln in lines]
    space_lines = any(t and _is_space(t) for t in texts)
    inner = [i for i, t in enumerate(texts) if t.strip()]
    has_empty = bool(inner) and "" in texts[inner[0]:inner[-1]]  # not the end of the file's last line
    if not space_lines and not has_empty:
        return None  # no blank line between lines: nothing interleaved
    wraps = trailing = spaced = 0
    for a, b, c in zip(texts, texts[1:], texts[2:]):
        if a.strip() and _is_space(b) and c.strip():
            a_s = a.rstrip()
            if not _SENTENCE_END.search(a_s) and not a_s.endswith(":") and c.lstrip()[:1].islower():
                if b == "":
                    wraps += 1
                    trailing += a_s != a
                else:
                    spaced += 1
    if not has_empty:
        return "space" if spaced >= 3 else None
    if wraps >= 3 if space_lines else trailing >= 3:
        return "empty"
    # double-spaced: one blank line after each wrapped line, more between paragraphs, and hardly
    # two text lines adjacent (a page break joined can leave one); read as "space"
    pairs = list(zip(texts[inner[0]:inner[-1] + 1], texts[inner[0] + 1:inner[-1] + 1]))
    adjacent = sum(bool(a.strip() and b.strip()) for a, b in pairs)
    double = wraps >= 3 and 20 * adjacent <= len(inner) and any(_is_space(a) and _is_space(b) for a, b in pairs)
    return "space" if double else None


def _blocks(lines: list["_Line"]) -> list[list["_Line"]]:
    """Split lines into paragraph blocks; blank lines separate blocks (but the interleaved ones:
    `_interleaving`)."""
    mode = _interleaving(lines)
    blocks, cur = [], []
    for i, ln in enumerate(lines):
        if ln.text == "" and mode == "empty":
            continue
        if _is_space(ln.text):
            if mode == "space" and 0 < i < len(lines) - 1 and not _is_space(lines[i - 1].text) \
                    and not _is_space(lines[i + 1].text):
                continue  # one space-only line between two lines: interleaved
            if cur:
                blocks.append(cur)
                cur = []
            continue
        cur.append(ln)
    if cur:
        blocks.append(cur)
    return blocks


_SUBHEADING = re.compile(r"[A-Z][A-Za-z'/&-]*(?:[ \t]+[A-Za-z'/&-]+){0,3}")
_SUBHEADING_NOT_LAST = frozenset({"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"})


def _subheading(tail: str) -> bool:
    """Is a paragraph so far a short title of its own line, one to four words without a sentence's
    punctuation ("Medications", "Lumbar spine:"), after which a numbered item starts anew?"""
    t = tail.strip().rstrip(":").rstrip()
    return _SUBHEADING.fullmatch(t) is not None and t.split()[-1].lower() not in _SUBHEADING_NOT_LAST


def _joins(tail: str, nxt: str, heading: bool) -> bool:
    """Does line `nxt` continue a paragraph that ends with `tail` (and stands alone, `_stands_alone`)?"""
    m = _markers()
    headings, decisions, para_ends, colon_headings = m.headings, m.decisions, m.para_ends, m.colon_headings
    key = _key(nxt)  # once: the tests below are _is_decision_word, _is_heading, _starts_field
    if key in decisions and tail.rstrip().endswith(":"):
        return True
    if tail.rstrip().endswith(":") and (any(h.match(_key(tail)) for h in colon_headings)
                                        or (m.item_number.match(key) and tail.isupper())):
        # "1) Regarding the request for a knee brace:" / "The Claims Administrator based ...", and a
        # numbered list after a heading in capitals ("IMR ISSUE(S) AND RATIONALE(S):" / "1. Lumbar ...")
        return False
    if m.item_number.match(key) and _subheading(tail):
        return False  # "Medications" / "1. Norco 10/325mg #120 is not medically necessary ...": items grouped by kind
    if heading or _heading_key(key) in headings or _field_key(key) or m.bare_labels.match(key):
        return False
    p = tail.rstrip()
    return not (_SENTENCE_END.search(p) or _key(p).endswith(para_ends))


class _Line(NamedTuple):
    text: str
    start: int  # offset of text[0] in the original


_SEP = re.compile(r"\r\n|\r|\n|\f")
_RUNS = re.compile(f"[{_SPACE_CHARS}]+|[^{_SPACE_CHARS}]+")


def _pages(text: str) -> list[list[_Line]]:
    pages, cur, pos = [], [], 0
    for m in _SEP.finditer(text):
        cur.append(_Line(text[pos:m.start()], pos))
        pos = m.end()
        if m.group() == "\f":
            pages.append(cur)
            cur = []
    cur.append(_Line(text[pos:], pos))
    pages.append(cur)
    return pages


def _without_repeated_headers(lines: list[_Line]) -> list[_Line]:
    """`lines` without a running page header left in mid-text by an extraction that kept no page
    breaks: a line of `repeated_header_lines` whose case number already stood so earlier in the letter
    ("IMR Case Number: CM15-0087412", or the number alone, again on every page). Its first occurrence
    stays (the header table)."""
    if not _markers().repeated_headers:
        return lines
    seen, out = set(), []  # the words of every line so far
    for ln in lines:
        if _running_header(ln.text, seen.__contains__):
            continue
        seen.update(ln.text.split())
        out.append(ln)
    return out


def _running_header(line: str, stood) -> bool:
    """Is `line` one of `repeated_header_lines` whose case number, labelled or bare ("Case Number:
    CM15-0087412" / "CM15-0087412"), already stood in the letter (`stood(number)`)?"""
    return any(p.match(line) for p in _markers().repeated_headers) and stood(line.split()[-1])


def _hyphen_join(prev: str, nxt: str) -> bool:
    return bool(re.search(r"[a-z]-$", prev.rstrip())) and nxt.lstrip()[:1].islower()


_ALL_SPACE = re.compile(f"[{_SPACE_CHARS}]*")


def _is_space(run: str) -> bool:
    return _ALL_SPACE.fullmatch(run) is not None


def _emit(pieces: list[tuple[str, int, bool]], out: list[str], src: list[int]) -> None:
    """Append one paragraph to `out`: runs of white space collapsed to one space, none at the
    ends. `pieces` are (original text, its offset, glued) where glued pieces follow the one
    before without a space (a de-hyphenated line break). `src` gets each char's offset."""
    pending = None  # offset of a white-space run not yet written
    for piece, start, glued in pieces:
        if glued:
            pending = None
        for m in _RUNS.finditer(piece):
            if _is_space(m.group()):
                if out and pending is None and not _at_paragraph_start(out):
                    pending = start + m.start()
                continue
            if pending is not None:
                out.append(" ")
                src.append(pending)
                pending = None
            out.append(m.group())
            src.extend(range(start + m.start(), start + m.end()))
        if not _at_paragraph_start(out) and pending is None:
            pending = start + len(piece)  # the line break between two lines reads as a space


def _at_paragraph_start(out: list[str]) -> bool:
    return not out or out[-1] == "\n\n"


def _without_page_breaks(lines: list[_Line]) -> list[_Line]:
    """`lines` without the page-break lines ("Page 4 of 5", a running footer); where one interrupts a
    sentence ("..., pages 56-57 and" / footer / "the Non-MTUS ..."), or an item heading ("Left L5-S1
    transforaminal epidural steroid" / "Page 4 of 5" / the case number again / "injection ...: Overturned"),
    the blank lines around it and a running header after it go too, so that it goes on as one paragraph."""
    page_breaks = _markers().page_breaks
    times: Counter | None = None  # how often each line stands in the letter; counted at the first break
    out: list[_Line] = []
    k, n = 0, len(lines)

    def stood(number: str) -> bool:
        return any(number in ln.text for ln in out)

    while k < n:
        if not any(p.match(lines[k].text) for p in page_breaks):
            out.append(lines[k])
            k += 1
            continue
        if times is None:
            times = Counter(_key(ln.text) for ln in lines if ln.text.strip())
        prev = next((ln.text.rstrip() for ln in reversed(out) if ln.text.strip()), "")
        # a running header after the break goes with it, unless the line before is itself a running footer
        # ("Confidential - Protected Health Information" on every page), which continues nothing
        after_header = bool(prev) and times[_key(prev)] == 1
        j = k
        while j < n and (not lines[j].text.strip() or any(p.match(lines[j].text) for p in page_breaks)
                         or (after_header and _running_header(lines[j].text, stood))):
            j += 1  # the break with the blank lines (and the running header) after it
        if prev and not _SENTENCE_END.search(prev) and not prev.endswith(":") and j < n:
            while out and not out[-1].text.strip():
                out.pop()  # the sentence goes on: no paragraph break around the page break
            k = j
        else:
            k += 1
    return out


def _paragraphs(text: str) -> list[list[tuple[str, int, bool]]]:
    """Paragraphs as lists of pieces (original text, its offset, glued to the piece before)."""
    pages = _drop_page_furniture(_pages(text))
    # A page break is a line break inside the paragraph it interrupts, unless blank.
    lines = _without_page_breaks([ln for page in pages for ln in page])
    lines = _without_repeated_headers(lines)
    paragraphs = []
    for block in _blocks(lines):
        if paragraphs and _is_decision_word(block[0].text) and paragraphs[-1][-1][0].rstrip().endswith(":"):
            # an item heading's decision set off by blank lines ("Naproxen 550mg #60:" / "" / "Overturned")
            paragraphs[-1].append((block[0].text, block[0].start, False))
            block = block[1:]
            if not block:
                continue
        para = [(block[0].text, block[0].start, False)]
        tail, heading = block[0].text, _stands_alone(block[0].text)
        for ln in block[1:]:
            if not _joins(tail[-120:], ln.text, heading):
                paragraphs.append(para)
                para = [(ln.text, ln.start, False)]
                tail, heading = ln.text, _stands_alone(ln.text)
            elif _hyphen_join(tail, ln.text):
                last, last_start, glued = para[-1]
                para[-1] = (last[:len(last.rstrip()) - 1], last_start, glued)
                lead = len(ln.text) - len(ln.text.lstrip())
                para.append((ln.text[lead:], ln.start + lead, True))
                tail = tail.rstrip()[:-1] + ln.text.lstrip()
            else:
                para.append((ln.text, ln.start, False))
                tail = tail[-120:] + " " + ln.text
        paragraphs.append(para)
    return paragraphs


def normalize_text(text: str) -> str:
    """Clean extracted letter text; see the module docstring."""
    out = []
    for para in _paragraphs(text):
        joined = "".join(piece if glued else " " + piece for piece, _, glued in para)
        clean = _WS.sub(" ", joined).strip()
        if clean:
            out.append(clean)
    return "\n\n".join(out)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """`normalize_text(text)` and, for each of its characters, the offset in `text` it comes
    from (inserted spaces and paragraph breaks point at the white space they replace)."""
    out: list[str] = []
    src: list[int] = []
    for para in _paragraphs(text):
        before = len(out)
        _emit(para, out, src)
        if len(out) > before:
            out.append("\n\n")
            src.append(src[-1] + 1)
    if out:
        out.pop()
        src.pop()
    # `out` holds runs; expand the two-character paragraph break in `src`.
    offsets: list[int] = []
    k = 0
    for run in out:
        if run == "\n\n":
            offsets.extend((src[k], src[k]))
            k += 1
        else:
            offsets.extend(src[k:k + len(run)])
            k += len(run)
    return "".join(out), offsets


def map_span(offsets: list[int], start: int, end: int) -> tuple[int, int] | None:
    """The span of normalized text whose characters come from [start, end) of the original."""
    i = bisect.bisect_left(offsets, start)
    j = bisect.bisect_left(offsets, end)
    return (i, j) if i < j else None
