"""SESSION_COUNT normalization (SPEC section 2).

`normalize_count(text, role=None, unit_hint=None)` ->
``{"min": int|None, "max": int|None, "unit": str|None, "over": {"min","max","unit"}|None, "role": str|None}``

Readings (number words such as "Six", "twenty-four" come from configs/lexicons/number_words.yaml,
unit words from configs/lexicons/count_terms.yaml):

- "36 sessions" -> 36/36 session; "24 WEEKS" -> 24/24 week; "Six visits" -> 6/6 visit;
  "12 physical therapy visits" -> 12/12 visit (up to three words between number and unit).
- ranges: "3 - 4 sessions", "13-20 visits", "3 to 4 sessions" -> min/max.
- "over"/"for"/"in"/"x"/"times" N weeks|months after the count -> `over`
  ("3 - 4 sessions over two weeks" -> 3/4 session over 2/2 week).
- **frequency x duration**: "2 times a week for 6 weeks", "twice weekly for eight weeks", "2x/week x 6 weeks",
  "3 visits per week for 2 weeks", "1-2 times per week for 6 weeks" and the bare "2 x 6" /
  "2x6" (read as per week x weeks) -> the product as the count (12 session over 6/6 week; 6-12
  for "1-2 times ..."); the unit is the frequency's own noun (visits/sessions/treatments) or
  `session`. An explicit count in the same text wins over the product ("Four sessions ... two
  times a week times 2 weeks" -> 4 session over 2 week).
- a count written as frequency times count: "two times four visits (8)" -> 8/8 visit (the total
  in parentheses when stated, else the product).
- quantities: "QUANTITY: 6.00", "QTY: 2", "#12" -> the number; unit from a unit word right after
  it ("QUANTITY: 24 WEEKS" -> week), else from `unit_hint`, else `unit`. `unit_hint` is either a
  unit name ("month") or the request text, read with `unit_hint_patterns`
  ("MONTHLY MEDICATION MANAGEMENT (IN MONTHS)" -> month); see `unit_from_hint`.

`role` is passed through when it is one of requested / completed / recommended (else None);
`infer_count_role(context, in_request)` proposes one from cue words. Never raises: text that
holds no count gives min/max/unit None.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from nlp.config import load_yaml


ROLES = ("requested", "completed", "recommended")
AUTHORIZED = "authorized"  # a cue class of count_terms.yaml, not a role: what it marks has role null
UNITS = ("session", "visit", "treatment", "week", "month", "unit")

_NUM = r"\d+(?:\.\d+)?"
_RANGE = rf"(?P<{{p}}a>{_NUM})(?:\s*(?:-|to|or|–)\s*(?P<{{p}}b>{_NUM}))?"


def _range(prefix: str) -> str:
    return _RANGE.format(p=prefix)


@lru_cache(maxsize=1)
def _data() -> dict:
    numbers = load_yaml("lexicons/number_words.yaml")
    terms = load_yaml("lexicons/count_terms.yaml")
    units = {str(k).lower(): str(v) for k, v in terms["units"].items()}
    unit_alt = "|".join(sorted((re.escape(u) for u in units), key=len, reverse=True))
    ones = {str(k): int(v) for k, v in numbers["units"].items() if str(k) not in ("a", "an")}
    tens = {str(k): int(v) for k, v in numbers["tens"].items()}
    word_alt = "|".join(sorted(list(ones) + list(tens), key=len, reverse=True))
    numword_re = re.compile(
        rf"\b(?:(?P<t>{'|'.join(tens)})(?:[\s-]+(?P<u1>{'|'.join(k for k, v in ones.items() if 1 <= v <= 9)}))?"
        rf"|(?P<u>{word_alt}))\b"
    )
    rx: dict[str, Any] = {}
    rx["unit_alt"] = unit_alt
    def alt(words: list) -> str:
        ws = sorted((str(w).lower() for w in words), key=len, reverse=True)
        return "|".join(r"\s*".join(re.escape(p) for p in w.split()) for w in ws)

    per = rf"(?:{alt(terms['per_words'])})"
    freq_noun = rf"(?P<fn>{alt(terms['frequency_words'])})"
    over_alt = alt(terms["over_words"])
    qty_alt = "|".join(
        (re.escape(q) if not q[-1].isalnum() else rf"\b{re.escape(q)}\b") for q in terms["quantity_labels"]
    )
    # "2 times a week for 6 weeks", "2x/week x 6 weeks", "3 visits per week for 2 weeks"
    # "weekly for six weeks", "monthly for 12 months", "weekly sessions over six weeks": once per
    # week (month) for the duration, the frequency word alone
    rx["implicit_freq"] = re.compile(
        rf"^\s*(?P<fl>week|month)ly(?:\s+(?:{unit_alt}))?\b\s*,?\s*(?:{over_alt})\s+"
        rf"(?:a\s+(?:period|course|total)\s+of\s+)?{_range('d')}\s*(?P<du>weeks?|wks?|months?)\b"
    )
    rx["freq"] = re.compile(
        rf"{_range('f')}\s*{freq_noun}?\s*(?:{per}?\s*(?P<fu>week|wk|month)s?|(?P<fl>week|month)ly)\b"
        rf"(?:\s*(?:,|\()?\s*(?:{over_alt})?\s*(?:a\s+(?:period|course|total)\s+of\s+)?"
        rf"{_range('d')}\s*(?P<du>weeks?|wks?|months?)\b)?"
    )
    # "two times four visits (8)": a count written as frequency times count, its total in parentheses
    rx["times_count"] = re.compile(
        rf"(?<![\d.]){_range('f')}\s*(?:times|x|×)\s*{_range('c')}\s*(?P<cu>{unit_alt})\b(?:\s*\((?P<tot>\d+)\))?"
    )
    # bare "2 x 6", "2x6"
    rx["bare_x"] = re.compile(rf"(?<![\d.])(?P<fa>\d+)\s*[x×]\s*(?P<da>\d+)(?![\d.])(?!\s*(?:mg|mcg|g|ml|%))")
    # "12 sessions", "6-visit", "6 PT (physical therapy) sessions": a number, up to three service
    # words (a parenthesized gloss too), its unit
    rx["count"] = re.compile(
        rf"(?<![\d.#:])(?<!#\s){_range('c')}\s*(?:-\s*)?(?:(?!(?:{over_alt}|{per})\b)\(?[a-z][a-z'/-]*\)?\s+){{0,3}}?"
        rf"(?P<cu>{unit_alt})\b"
    )
    rx["over"] = re.compile(
        rf"\b(?:{over_alt})\s+(?:a\s+(?:period|course|total)\s+of\s+|the\s+next\s+|approximately\s+|about\s+)?"
        rf"{_range('o')}\s*(?P<ou>weeks?|wks?|months?)\b"
    )
    rx["qty"] = re.compile(rf"(?:{qty_alt})\s*[:#=]?\s*{_range('q')}(?:\s*(?P<qu>{unit_alt})\b)?")
    rx["bare"] = re.compile(rf"(?<![\d.]){_range('n')}(?:\s*(?P<nu>{unit_alt})\b)?")
    hints = [(str(a).lower(), str(b)) for a, b in terms["unit_hint_patterns"]]
    cue_re = {role: _phrases_re(terms["role_cues"][role]) for role in (*ROLES, AUTHORIZED) if terms["role_cues"][role]}
    return {"ones": ones, "tens": tens, "numword_re": numword_re, "units": units, "rx": rx,
            "hints": hints, "cue_re": cue_re, "not_cue_re": _phrases_re(terms["not_cues"]),
            "guideline_re": _phrases_re(terms["guideline_words"])}


def _phrases_re(phrases: list) -> re.Pattern:
    """Any of `phrases` as whole words, in lower case, the longest first; in a phrase `*` stands
    for one word ("modified the * request to") and `YYYY` for a year ("in early YYYY")."""
    alts = sorted({str(p).lower() for p in phrases}, key=len, reverse=True)
    alts = [re.escape(p).replace(r"\*", r"[a-z-]+").replace("yyyy", r"(?:19|20)\d\d") for p in alts]
    return re.compile(r"(?<![a-z])(?:" + "|".join(alts) + r")(?![a-z0-9])")


def _words_to_digits(text: str) -> str:
    d = _data()

    def repl(m: re.Match) -> str:
        if m.group("t"):
            v = d["tens"][m.group("t")] + (d["ones"][m.group("u1")] if m.group("u1") else 0)
        else:
            w = m.group("u")
            v = d["ones"][w]
            if w in ("once", "twice", "thrice"):
                return f"{v} times"
        return str(v)

    return d["numword_re"].sub(repl, text)


def _prep(text: str) -> str:
    t = text.lower().replace("–", "-").replace("—", "-").replace("×", "x")
    t = re.sub(r"\s+", " ", t)
    t = _words_to_digits(t)
    t = re.sub(r"\b(\d+)\s*\(\1\)", r"\1", t)  # "five (5) sessions" -> "5 sessions"
    # "a session" / "an initial visit" -> 1
    t = re.sub(r"\b(?:a|an|single)\s+(?=(?:[a-z]+\s+)?(?:session|visit|treatment)s?\b)", "1 ", t)
    # a whole mention "a month" is one month ("two times a week" is not: there "a" means per)
    t = re.sub(r"^\s*(?:a|an|single)\s+(?=(?:week|month)s?\s*$)", "1 ", t)
    return t.strip()


def _num(v: str | None) -> int | None:
    if v is None:
        return None
    try:
        f = float(v)
    except ValueError:
        return None
    if f != f or f in (float("inf"), float("-inf")) or abs(f) > 1e9:
        return None
    return int(round(f))


def _pair(m: re.Match, p: str) -> tuple[int | None, int | None]:
    a = _num(m.group(p + "a"))
    b = _num(m.group(p + "b")) if (p + "b") in m.re.groupindex else None
    if b is None:
        b = a
    if a is not None and b is not None and a > b:
        a, b = b, a
    return a, b


def _unit(word: str | None) -> str | None:
    if not word:
        return None
    return _data()["units"].get(word.lower().strip())


def unit_from_hint(hint: str | None) -> str | None:
    """Unit for a bare quantity from a hint: a unit name, or request text such as
    "MONTHLY MEDICATION MANAGEMENT (IN MONTHS)" (configs/lexicons/count_terms.yaml)."""
    if not hint or not isinstance(hint, str):
        return None
    h = re.sub(r"\s+", " ", hint.lower()).strip()
    if h in UNITS:
        return h
    u = _unit(h)
    if u:
        return u
    for pat, unit in _data()["hints"]:
        if re.search(r"(?<![a-z])" + re.escape(pat) + r"(?![a-z])", h):
            return unit
    return None


def _empty(role: str | None) -> dict:
    return {"min": None, "max": None, "unit": None, "over": None, "role": role}


def normalize_count(text: str, role: str | None = None, unit_hint: str | None = None) -> dict:
    """Normalize a SESSION_COUNT mention; see the module docstring."""
    role = role if role in ROLES else None
    try:
        return _normalize(text, role, unit_hint)
    except Exception:  # a normalizer must never break the pipeline
        return _empty(role)


def _over(m: re.Match | None, p: str, unit_group: str) -> dict | None:
    if m is None or m.group(p + "a") is None:
        return None
    a, b = _pair(m, p)
    u = _unit(m.group(unit_group))
    if a is None or u is None:
        return None
    return {"min": a, "max": b, "unit": u}


def _normalize(text: Any, role: str | None, unit_hint: str | None) -> dict:
    if not isinstance(text, str) or not text.strip():
        return _empty(role)
    t = _prep(text[:2000])
    rx = _data()["rx"]
    out = _empty(role)

    # "two times four visits (8)" -> 8 visits (the stated total, else the product)
    tm = rx["times_count"].search(t)
    if tm is not None and _unit(tm.group("cu")) in ("session", "visit", "treatment"):
        fa, fb = _pair(tm, "f")
        ca, cb = _pair(tm, "c")
        if None not in (fa, fb, ca, cb):
            total = _num(tm.group("tot"))
            out.update(min=total or fa * ca, max=total or fb * cb, unit=_unit(tm.group("cu")))
            return out

    im = rx["implicit_freq"].search(t)
    if im is not None and _unit(im.group("du")) == im.group("fl"):
        da, db = _pair(im, "d")
        if None not in (da, db):
            out.update(min=da, max=db, unit="session", over={"min": da, "max": db, "unit": _unit(im.group("du"))})
            return out

    # frequency x duration
    fm = None
    for m in rx["freq"].finditer(t):
        if m.group("da") is not None:
            fm = m
            break
    if fm is None:
        bx = rx["bare_x"].search(t)
    else:
        bx = None

    explicit_t = t
    if fm is not None:
        explicit_t = t[: fm.start()] + " " * (fm.end() - fm.start()) + t[fm.end():]
    elif bx is not None:
        explicit_t = t[: bx.start()] + " " * (bx.end() - bx.start()) + t[bx.end():]

    # an explicit count ("Four sessions", "12 sessions") that is not a frequency
    cm = None
    for m in rx["count"].finditer(explicit_t):
        u = _unit(m.group("cu"))
        if u in ("session", "visit", "treatment"):
            cm = m
            break
        if cm is None and u in ("week", "month"):
            cm = m
    if cm is not None and _unit(cm.group("cu")) in ("week", "month") and (fm is not None or bx is not None):
        cm = None  # "for 6 weeks" belongs to the frequency

    if cm is not None:
        a, b = _pair(cm, "c")
        out.update(min=a, max=b, unit=_unit(cm.group("cu")))
        if fm is not None:
            out["over"] = _over(fm, "d", "du")
        elif bx is not None:
            w = _num(bx.group("da"))
            out["over"] = {"min": w, "max": w, "unit": "week"}
        else:
            om = rx["over"].search(t[cm.end():])
            if om is not None and out["unit"] in ("session", "visit", "treatment"):
                out["over"] = _over(om, "o", "ou")
        return out

    if fm is not None:
        fa, fb = _pair(fm, "f")
        da, db = _pair(fm, "d")
        if None not in (fa, fb, da, db):
            noun = _unit(fm.group("fn")) if fm.group("fn") else None
            out.update(min=fa * da, max=fb * db, unit=noun if noun in ("session", "visit", "treatment") else "session")
            out["over"] = {"min": da, "max": db, "unit": _unit(fm.group("du"))}
            return out
    if bx is not None:
        f, w = _num(bx.group("fa")), _num(bx.group("da"))
        if f is not None and w is not None:
            out.update(min=f * w, max=f * w, unit="session", over={"min": w, "max": w, "unit": "week"})
            return out

    qm = rx["qty"].search(t)
    if qm is not None:
        a, b = _pair(qm, "q")
        u = _unit(qm.group("qu")) or unit_from_hint(unit_hint) or "unit"
        out.update(min=a, max=b, unit=u)
        return out

    nm = rx["bare"].search(t)
    if nm is not None:
        a, b = _pair(nm, "n")
        u = _unit(nm.group("nu")) or unit_from_hint(unit_hint) or "unit"
        out.update(min=a, max=b, unit=u)
        om = rx["over"].search(t[nm.end():])
        if om is not None and u in ("session", "visit", "treatment"):
            out["over"] = _over(om, "o", "ou")
        return out
    return out


def infer_count_role(context: str, in_request: bool, span: tuple[int, int] | None = None) -> str | None:
    """Role of a count from its context (the sentence around it).

    `in_request` (the count is in the item's request or heading) -> "requested", unless its
    sentence says the part was authorized (None). Otherwise the cue words of
    configs/lexicons/count_terms.yaml decide (`role_cue`; an `authorized` cue -> None); with no
    cue, a count after a guideline's name in its sentence is what the guideline allows
    (recommended). Without `span` the first role with a cue in the order completed, recommended,
    requested. No cue -> None.
    """
    if not isinstance(context, str) or not context.strip():
        return "requested" if in_request else None
    ctx = _without_not_cues(context.lower()[:5000])
    if in_request:  # the heading's authorized part ("Y was authorized by the Claims Administrator")
        authorized = _data()["cue_re"].get(AUTHORIZED)
        return None if authorized is not None and authorized.search(ctx) else "requested"
    if span is None:
        found = {role for role, cre in _data()["cue_re"].items() if cre.search(ctx)}
        return next((role for role in ("completed", "recommended", "requested") if role in found), None)
    cue = _nearest_cue(ctx, span)
    if cue is None and _data()["guideline_re"].search(ctx[:span[0]]):
        return "recommended"  # no cue, a guideline named before the count: what it allows
    return None if cue == AUTHORIZED else cue


def role_cue(context: str, span: tuple[int, int]) -> str | None:
    """The class of the cue word nearest to the count at `span` in `context` (a role or
    `AUTHORIZED`), preferring cues before it; None when the sentence has no cue."""
    return _nearest_cue(_without_not_cues(context.lower()[:5000]), span) if isinstance(context, str) else None


def role_cue_hits(context: str, span: tuple[int, int]) -> list[tuple[str, int, str, str]]:
    """Every cue word of `context` outside the count at `span`: (side "L"/"R", distance in
    characters, its class, the phrase), nearest first on each side. The features of the count
    role model (nlp/ner/count_roles.py) read them."""
    if not isinstance(context, str):
        return []
    s, e = span
    hits = []
    for m, role in _cue_matches(_without_not_cues(context.lower()[:5000])):
        if m.end() <= s:
            hits.append(("L", s - m.end(), role, m.group()))
        elif m.start() >= e:
            hits.append(("R", m.start() - e, role, m.group()))
    return sorted(hits, key=lambda h: (h[0], h[1], -len(h[3])))


def _cue_matches(ctx: str):
    """(match, class) of every cue word of `ctx` (lower case, not-cues blanked)."""
    for role, cre in _data()["cue_re"].items():
        for m in cre.finditer(ctx):
            yield m, role


def names_a_guideline(text: str) -> bool:
    """Whether `text` holds one of the words that attribute a sentence to a guideline."""
    return isinstance(text, str) and _data()["guideline_re"].search(text.lower()) is not None


def _without_not_cues(ctx: str) -> str:
    """`ctx` with its `not_cues` phrases blanked out, offsets kept."""
    return _data()["not_cue_re"].sub(lambda m: " " * len(m.group()), ctx)


def _nearest_cue(ctx: str, span: tuple[int, int]) -> str | None:
    try:
        hits = [(m.start(), m.end(), role) for m, role in _cue_matches(ctx)]
        if not hits:
            return None
        s, e = span

        def dist(h: tuple[int, int, str]) -> tuple[int, int, int]:
            # nearest first; of two cues ending at the same place the longer one ("modified to
            # allow for" over "allow for")
            if h[1] <= s:
                return (s - h[1], 0, h[0])
            if h[0] >= e:
                return (h[0] - e + 15, 1, -h[1])  # cues after the count count a little less
            return (0, 0, h[0])

        return min(hits, key=dist)[2]
    except Exception:
        return None


__all__ = ["normalize_count", "infer_count_role", "role_cue", "role_cue_hits", "names_a_guideline", "unit_from_hint", "ROLES", "UNITS", "AUTHORIZED"]
