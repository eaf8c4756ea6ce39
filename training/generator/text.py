"""Offset-exact text building: templates, pieces, entity spans.

A letter is written through a `Writer`: every call appends text and, for an entity, records
its exact character span together with the normalized value the generator chose. Templates
(configs/templates/*.yaml, configs/kb/*.yaml) are compiled once into token lists; slots are
filled with plain strings, nested templates or *pieces* (lists of `(text, entity)` pairs) so
that an entity inside a slot keeps its span.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .markers import unit_of  # unit word -> unit: configs/lexicons/count_terms.yaml, as the parser reads it

_TOKEN = re.compile(r"\{(\w+)\}|\[\[(G|C|D):(.+?)\]\]")

NUMBER_WORDS = {
    1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
    9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen",
    15: "fifteen", 16: "sixteen", 17: "seventeen", 18: "eighteen", 19: "nineteen", 20: "twenty",
    24: "twenty-four", 30: "thirty", 36: "thirty-six", 50: "fifty",
}
WORD_NUMBERS = {v: k for k, v in NUMBER_WORDS.items()}
WORD_NUMBERS.update({"a": 1, "an": 1, "once": 1, "twice": 2})
_RANGE = r"(?P<{0}>[\w]+)(?:\s*(?:-|\bto\b)\s*(?P<{1}>\w+))?"
_COUNT_RE = re.compile(
    r"^" + _RANGE.format("a", "b") + r"\s+(?:[A-Za-z-]+\s+){0,2}?(?P<u>visits?|sessions?|treatments?|weeks?|months?)"
    r"(?:\s+over\s+" + _RANGE.format("oa", "ob") + r"\s+(?P<ou>weeks?|months?))?$", re.I)
# a frequency with its duration ("two times a week for four weeks", "1 to 2 times per week for
# 3 weeks", "twice a week for 6 weeks", "2x/week x 6 weeks"): one SESSION_COUNT, the course
_FREQ_RE = re.compile(
    r"^(?:" + _RANGE.format("fa", "fb") + r"\s*(?:times|x)|(?P<fw>once|twice))\s*(?:a|per|/)\s*week,?\s+(?:for|x)\s+"
    + _RANGE.format("wa", "wb") + r"\s+weeks?$", re.I)


def _num(tok: str) -> int:
    tok = tok.lower()
    return int(tok) if tok.isdigit() else WORD_NUMBERS[tok]


def parse_count(text: str, role: str | None) -> dict:
    """Normalized value of a count the KB writes itself ("6 visits over 6 weeks", "three to four
    sessions", "a month", "1 to 2 times per week for 3 weeks" = 3-6 sessions over 3 weeks)."""
    m = _FREQ_RE.match(text.strip())
    if m:
        fa = _num(m["fw"] or m["fa"])
        fb = _num(m["fb"]) if m["fb"] else fa
        wa = _num(m["wa"])
        wb = _num(m["wb"]) if m["wb"] else wa
        return {"min": fa * wa, "max": fb * wb, "unit": "session",
                "over": {"min": wa, "max": wb, "unit": "week"}, "role": role}
    m = _COUNT_RE.match(text.strip())
    if not m:
        raise ValueError(f"unparseable KB count: {text!r}")
    a = _num(m["a"])
    b = _num(m["b"]) if m["b"] else a
    over = None
    if m["oa"]:
        oa = _num(m["oa"])
        over = {"min": oa, "max": _num(m["ob"]) if m["ob"] else oa, "unit": unit_of(m["ou"])}
    return {"min": a, "max": b, "unit": unit_of(m["u"]), "over": over, "role": role}


def num_word(n: int) -> str:
    return NUMBER_WORDS.get(n, str(n))


@dataclass(frozen=True)
class Template:
    id: str
    tokens: tuple  # str | ("slot", name) | ("G", text) | ("C", text) | ("D", text)
    voices: tuple = ()
    eras: tuple = ()  # empty: every era

    @staticmethod
    def compile(text: str, id: str = "", voices=(), eras=()) -> "Template":
        toks, pos = [], 0
        for m in _TOKEN.finditer(text):
            if m.start() > pos:
                toks.append(text[pos:m.start()])
            if m.group(1):
                toks.append(("slot", m.group(1)))
            else:
                toks.append((m.group(2), m.group(3)))
            pos = m.end()
        if pos < len(text):
            toks.append(text[pos:])
        return Template(id, tuple(toks), tuple(voices or ()), tuple(eras or ()))

    def slots(self) -> set:
        return {t[1] for t in self.tokens if isinstance(t, tuple) and t[0] == "slot"}


def ent(label: str, norm: dict, **extra) -> dict:
    d = {"label": label, "norm": norm}
    d.update(extra)
    return d


def render(tpl: Template, ctx: dict, kb) -> list:
    """Render a template into pieces [(text, entity|None)]; `kb` resolves [[G:]] / [[D:]] norms."""
    out = []
    syn = ctx.get("_syn")
    for t in tpl.tokens:
        if isinstance(t, str):
            if syn is not None:
                rx, table, rng, p = syn
                t = rx.sub(lambda m: rng.choice(table[m.group(0)]) if rng.random() < p else m.group(0), t)
            out.append((t, None))
        elif t[0] == "slot":
            v = ctx[t[1]]
            if callable(v):
                v = v()
            if isinstance(v, str):
                out.append((v, None))
            elif isinstance(v, Template):
                out.extend(render(v, ctx, kb))
            else:
                out.extend(v)
        elif t[0] == "G":
            out.append((t[1], ent("GUIDELINE", kb.generic_norm(t[1]))))
        elif t[0] == "D":
            out.append((t[1], ent("DRUG", kb.drug_norm(t[1]))))
        else:  # C
            out.append((t[1], ent("SESSION_COUNT", parse_count(t[1], ctx.get("_count_role", "recommended")))))
    return out


def capfirst(pieces: list) -> list:
    for i, (txt, e) in enumerate(pieces):
        if txt:
            if txt[0].islower():
                pieces = list(pieces)
                pieces[i] = (txt[0].upper() + txt[1:], e)
            return pieces
    return pieces


def upper_pieces(pieces: list) -> list:
    return [(t.upper(), e) for t, e in pieces]


def pieces_text(pieces) -> str:
    return "".join(t for t, _ in pieces)


def join_list(items: list, conj: str = "and") -> list:
    """Join piece lists as 'a, b and c'."""
    out = []
    for i, p in enumerate(items):
        if i:
            out.append((" " + conj + " " if i == len(items) - 1 else ", ", None))
        out.extend(p)
    return out


_TYPOS = [
    (re.compile(r"\bcognitive\b"), "congnitive"), (re.compile(r"\bCOGNITIVE\b"), "CONGNITIVE"),
    (re.compile(r"\bwith sciatica\b"), "wit sciatica"), (re.compile(r"\bthan is recommended\b"), "then is recommended"),
    (re.compile(r"\breceived\b"), "recieved"), (re.compile(r"\boccurred\b"), "occured"),
    (re.compile(r"\bseparate\b"), "seperate"), (re.compile(r"\bIllness\b"), "Illnes"),
    (re.compile(r"\bthe the\b"), "the"), (re.compile(r"\bbehavioral therapy\b"), "several therapy"),
]


class Writer:
    """Accumulates text; records entity spans and named marks exactly."""

    def __init__(self, typo_rate: float = 0.0, rng=None):
        self.parts: list[str] = []
        self.n = 0
        self.entities: list[dict] = []
        self.section = "header"
        self.item = None
        self.typo_rate = typo_rate
        self.rng = rng
        self.typos = 0

    def add(self, text: str, e: dict | None = None):
        if not text:
            return
        if e is not None:
            if text != text.strip():
                raise ValueError(f"entity text with outer white space: {text!r}")
            rec = {"label": e["label"], "start": self.n, "end": self.n + len(text), "text": text,
                   "section": self.section, "item": self.item if self.section == "item" else None,
                   "norm": e["norm"]}
            if "citation" in e:
                rec["citation"] = e["citation"]
            self.entities.append(rec)
        elif self.typo_rate and self.rng.random() < self.typo_rate * min(1.0, len(text) / 60):
            for rx, rep in _TYPOS:
                new = rx.sub(rep, text, count=1)
                if new != text:
                    text = new
                    self.typos += 1
                    break
        self.parts.append(text)
        self.n += len(text)

    def add_pieces(self, pieces):
        for t, e in pieces:
            self.add(t, e)

    def pos(self) -> int:
        return self.n

    def text(self) -> str:
        return "".join(self.parts)
