"""Letter-level fields: header table, reviewer specialties, patient facts.

Each extractor reads only its own part of the letter (spans from `nlp.layout`) and returns
null for what the letter does not state, or states ambiguously.
"""
from __future__ import annotations

import datetime as dt
import functools
import re

from nlp.config import load_yaml
from nlp.layout import LetterLayout, Span

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"])}
DATE = (r"(?:\d{1,2}\s*[/-]\s*\d{1,2}\s*[/-]\s*\d{2,4}"
        r"|(?:January|February|March|April|May|June|July|August|September|October|November|December)"
        r"\s+\d{1,2},?\s+\d{4})")

_CASE_NUMBER = r"CM\d{2}-\d{5,8}"
_TABLE_LABELS = {
    "case_number": r"Case Number:",
    "assigned": r"Date Assigned:",
    "date_of_injury": r"Date of Injury:",
    "decision": r"(?:Decision Date|^Dated):",
    "ur_denial": r"(?:UR Denial Date|Date of UR Decision):",
    "application_received": r"Application\s+Received:",
}
_TABLE = {key: label + r"\s*(" + (_CASE_NUMBER if key == "case_number" else DATE) + ")"
          for key, label in _TABLE_LABELS.items()}
# the table's cells as a run of labels and values, for tables extracted column by column ("Case
# Number: Date of Injury: CM14-0176430 04/07/2014"); "Priority:" and its value only keep the pairs in step
_TABLE_CELL = re.compile("|".join(f"(?P<{key}>{label.replace('^', '')})" for key, label in _TABLE_LABELS.items())
                         + r"|(?P<priority>Priority:)|(?P<value>" + _CASE_NUMBER + "|" + DATE + r"|Standard|Expedited|Urgent)",
                         re.I)
_INJURY = re.compile(
    r"(?:date of injury|injury date|injured|injury|DOI)\)?:?\s*(?:was|is)?\s*(?:of|on|dated|date of)?\s*"
    r"(?:on\s+)?(" + DATE + ")"
    # "injured his right shoulder on 06/03/2013", "a crush injury to the left foot on 11/05/2012"
    r"|(?:injured\s+(?:his|her|their)|injury\s+to\s+(?:his|her|their|the))(?:\s+[a-z-]+){1,5}\s+on\s+(" + DATE + ")",
    re.I)
# "52-year-old", "52 yr old" and the clinical shorthand "38 y/o", "38 yo", "38 y.o."
_YEARS_OLD = r"(?:(?:year|yr)s?[\s-]+old\b|y/o\b|y\.o\.|yo\b)"
_AGE = re.compile(r"\b(\d{1,3})[\s-]*" + _YEARS_OLD, re.I)
# the age that introduces the patient ("The injured worker is a 52-year-old female"), when the summary
# names other ages too ("her 16-year-old daughter")
_INTRODUCED_AGE = re.compile(r"\b(?:is|was)\s+(?:now\s+)?an?\s+(\d{1,3})[\s-]*" + _YEARS_OLD, re.I)
# the sex word after the age, up to two describing words between ("a 39-year-old right-hand-dominant
# female"); a bare M or F only after the shorthand ("38 y/o F")
_SEX = re.compile(r"\b(?:(?:year|yr)s?[\s-]+old|aged?\s+\d+)[\s,]+(?:(?!(?:who|with|and|whose|of|in)\b)[a-z][\w-]*[\s,]+){0,2}?"
                  r"(male|female|man|woman|gentleman|lady)\b"
                  r"|\d\s*(?:y/o|y\.o\.|yo)[\s,]+(male|female|man|woman|m|f)\b", re.I)
# the sentence that introduces the patient by age (its bounds: a period before a capital, or the text's ends)
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")
_DATE_RE = re.compile(DATE, re.I)
_HE = re.compile(r"(?<!/)\b(he|him|his|himself)\b(?!/)", re.I)
_SHE = re.compile(r"(?<!/)\b(she|her|hers|herself)\b(?!/)", re.I)


def parse_date(s: str | None) -> str | None:
    """ISO date of "03/16/2013", "10-18-2016", "March 12, 2009"; None if not a valid date."""
    if not s:
        return None
    s = re.sub(r"\s+", " ", s.strip())
    m = re.fullmatch(r"(\d{1,2}) ?[/-] ?(\d{1,2}) ?[/-] ?(\d{2,4})", s)
    try:
        if m:
            mo, d, y = (int(g) for g in m.groups())
            y = y + 2000 if y < 100 and y < 50 else (y + 1900 if y < 100 else y)
            return dt.date(y, mo, d).isoformat()
        m = re.fullmatch(r"([A-Za-z]+) (\d{1,2}),? (\d{4})", s)
        if m and m.group(1).lower() in _MONTHS:
            return dt.date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2))).isoformat()
    except ValueError:
        return None
    return None


def _table_cells(part: str) -> dict:
    """The table's labels paired with its values in order, in each run of cells that only white
    space separates: each value goes to the first label still waiting for a value of its kind."""
    out: dict = {}
    pending: list[str] = []
    end = None
    for m in _TABLE_CELL.finditer(part):
        if end is not None and part[end:m.start()].strip():
            pending = []  # prose between: a new run
        end = m.end()
        key = m.lastgroup
        if key != "value":
            pending.append(key)
            continue
        value, date = m.group(), parse_date(m.group())
        kind = "case_number" if re.fullmatch(_CASE_NUMBER, value, re.I) else ("date" if date else "priority")
        k = next((k for k in pending if (k if k in ("case_number", "priority") else "date") == kind), None)
        if k is not None:
            pending.remove(k)
            out.setdefault(k, date or value)
    return out


def header_table(text: str, header: Span) -> dict:
    """Case number, dates and date of injury from the published PDFs' header table, its labels and
    values read in step (`_table_cells`), else each label's value after it."""
    part = header.text(text)
    cells = _table_cells(part)
    out = {}
    for key, pat in _TABLE.items():
        if cells.get(key):
            out[key] = cells[key]
            continue
        m = re.search(pat, part, re.I | re.M)
        out[key] = (m.group(1) if key == "case_number" else parse_date(m.group(1))) if m else None
    return out


@functools.lru_cache(maxsize=1)
def _specialty_lexicon():
    cfg = load_yaml("lexicons/specialties.yaml")
    aliases = {k.lower(): v for k, v in cfg["aliases"].items()}
    known = sorted({*cfg["known"], *aliases.values()}, key=len, reverse=True)
    return aliases, known


@functools.lru_cache(maxsize=1)
def _professions() -> tuple[re.Pattern, dict[str, str]]:
    """"The expert reviewer is a Licensed Chiropractor" (", and Acupuncturist"): each licence named -> its
    specialty."""
    professions = {k.lower(): v for k, v in load_yaml("lexicons/specialties.yaml")["professions"].items()}
    names = "|".join(re.escape(k) for k in sorted(professions, key=len, reverse=True))
    return (re.compile(r"reviewer(?: who reviewed (?:this|the) (?:case|file))? is an? (?:licensed |board[- ]certified )?"
                       r"(?P<s>%s)\b(?:,?\s+and\s+(?:an?\s+)?(?:licensed\s+)?(?P<s2>%s)\b)?" % (names, names), re.I),
            professions)


def canonical_specialty(name: str) -> str:
    aliases, known = _specialty_lexicon()
    key = re.sub(r"\s+", " ", name).strip(" .,;").lower()
    if key in aliases:
        return aliases[key]
    for k in known:
        if k.lower() == key:
            return k
    return " ".join(w if w.isupper() else w[:1].upper() + w[1:] for w in key.split())


def split_specialties(phrase: str) -> list[str]:
    """"Internal Medicine and Pulmonary Diseases" → two; known names containing "and" stay whole."""
    aliases, known = _specialty_lexicon()
    phrase = re.sub(r"\s*&\s*", " and ", re.sub(r"\s+", " ", phrase)).strip(" .")
    for alias, canon in sorted(aliases.items(), key=lambda kv: len(kv[0]), reverse=True):
        phrase = re.sub(r"(?<!\w)" + re.escape(alias) + r"(?!\w)", canon, phrase, flags=re.I)
    found: list[tuple[int, str]] = []
    rest = phrase
    for name in known:
        # capitalized words right before a known name are part of it: "Spine Surgery", "Forensic Psychiatry"
        for m in re.finditer(r"\b(?P<pre>(?:(?!(?:And|In|Of)\b)[A-Z][a-z]+ )*)(?i:" + re.escape(name) + r")\b", rest):
            found.append((m.start(), canonical_specialty(m.group(0)) if m.group("pre") else name))
            rest = rest[:m.start()] + "#" * len(m.group(0)) + rest[m.end():]
    for m in re.finditer(r"[^#,;]+", rest):
        leftover = re.sub(r"^\s*(and|&)\s+|\s+(and|&)\s*$", "", m.group(0)).strip()
        for part in re.split(r"\s+(?:and|&)\s+", leftover):
            if len(part) > 3 and part.lower() not in {"and", "in"}:
                found.append((m.start(), canonical_specialty(part)))
    out = []
    for _, name in sorted(found):
        if name not in out:
            out.append(name)
    return out


# "board certified in the same or a similar specialty as the provider": no specialty named
_NAMED = r"(?!(?:the|a|an|one|this|that|their|his|her)\b)"
# where a qualification sentence's specialty ends: its next clause ("and is licensed to practice in
# California", ", has a subspecialty in ...", "licensed in California", "and a California license"), the
# board that certified it ("by the American Board of ..."), the sentence's or line's end
_PHRASE_END = (r"(?=,? and (?:is|has|holds)\b|[,;]? (?:and )?(?:is )?licensed\b|,? (?:and )?an? (?:California )?licen[cs]e\b"
               r"| by the\b|[;,] (?:he/she|he|she)\b|\.\s|\.$|,? (?:has|holds|with|who)\b|\n|$)")
_SPECIALTY_PHRASES = [
    # to the line's end, or to a sentence run into it ("... Cardiovascular Disease The expert reviewer is")
    re.compile(r"Certification\(s\)/Specialty:\s*(?P<s>[^\n]+?)(?=\s+(?-i:The|He/she|He|She)\s+[a-z]|\n|$)", re.I),
    # "Board Certified in", "board-certified in", "certified in Psychiatry by the American Board of ...",
    # "certified by the American Board of Internal Medicine in Internal Medicine"
    re.compile(r"(?:Board[- ])?Certifi(?:ed|cation)(?: by the American Board of(?: [\w&]+){1,6}?)? in (?!California\b)"
               + _NAMED + r"(?P<s>.+?)" + _PHRASE_END, re.I),
    re.compile(r"(?:sub-?specialty (?:certification |certificate |training )?|added qualifications? )in " + _NAMED
               + r"(?P<s>.+?)" + _PHRASE_END, re.I),
    # "is licensed in Chiropractic and Acupuncture and is licensed to practice in California"
    re.compile(r"\bis licensed in (?!California\b)(?P<s>.+?)" + _PHRASE_END, re.I),
    # "a Doctor of Chiropractic who is also licensed in Acupuncture", "is certified in Acupuncture"
    re.compile(r"\b(?:is|also) (?:licensed|certified) in (?!California\b)(?P<s>.+?)" + _PHRASE_END, re.I),
]


@functools.lru_cache(maxsize=1)
def _licensure() -> re.Pattern:
    """The credentials block's other label and its values (`licensure_states`), read out of a
    specialty phrase that an extraction ran them into."""
    states = load_yaml("lexicons/specialties.yaml").get("licensure_states") or []
    names = "|".join(re.escape(s) for s in sorted(states, key=len, reverse=True))
    return re.compile(r"State\(s\) of Licensure:|\b(?:%s)\b(?:\s*,\s*)?" % names if names else r"State\(s\) of Licensure:")


def reviewer_specialties(text: str, header: Span) -> list[str]:
    """The credentials block's specialties when the letter has one, wherever it stands (its sentences then
    name the same ones otherwise: "Surgery of the Hand" for the block's "Hand Surgery"); else the
    qualification sentences', in the letter's order, then the licence a sentence names."""
    part = header.text(text)
    # the block stands in the header, or where another extraction put it (after the items)
    def block_in(where: str) -> list[str]:
        return [_licensure().sub(" ", m.group("s")) for m in _SPECIALTY_PHRASES[0].finditer(where)]

    block = block_in(part) or block_in(text)
    phrases = block or [m.group("s") for m in sorted((m for pat in _SPECIALTY_PHRASES[1:] for m in pat.finditer(part)),
                                                     key=lambda m: m.start("s"))]
    out: list[str] = []
    for phrase in phrases:
        for s in split_specialties(phrase):
            if s not in out:
                out.append(s)
    if not block:
        licence, professions = _professions()
        for m in licence.finditer(part):
            for named in filter(None, (m.group("s"), m.group("s2"))):
                if professions[named.lower()] not in out:
                    out.append(professions[named.lower()])
    return out


def patient(text: str, summary: Span | None, header_doi: str | None = None) -> dict:
    part = summary.text(text) if summary else ""
    age = None
    ages = {int(m.group(1)) for m in _AGE.finditer(part) if 14 <= int(m.group(1)) <= 100}
    if len(ages) > 1:
        ages = {int(m.group(1)) for m in _INTRODUCED_AGE.finditer(part) if 14 <= int(m.group(1)) <= 100}
    if len(ages) == 1:
        age = ages.pop()
    sex = None
    words = {(m.group(1) or m.group(2)).lower() for m in _SEX.finditer(part)}
    sexes = {"male" if w in {"male", "man", "gentleman", "m"} else "female" for w in words}
    if len(sexes) == 1:
        sex = sexes.pop()
    elif not sexes:
        he, she = len(_HE.findall(part)), len(_SHE.findall(part))
        if he and not she:
            sex = "male"
        elif she and not he:
            sex = "female"
    doi = header_doi
    if doi is None:
        dates = {parse_date(m.group(1) or m.group(2)) for m in _INJURY.finditer(part)} - {None}
        if len(dates) == 1:
            doi = dates.pop()
        elif not dates:
            doi = _introduction_date(part)
    return {"age": age, "sex": sex, "date_of_injury": doi}


def _introduction_date(part: str) -> str | None:
    """The one date of the sentence that introduces the patient by age, when the injury is told by
    its event ("a 41 year old bus operator who was assaulted by a passenger on 02/19/2014") or a
    cumulative trauma by its end ("... from cumulative trauma through 08/15/2014")."""
    m = _AGE.search(part)
    if not m:
        return None
    ends = [e.end() for e in _SENTENCE_END.finditer(part)]
    start = max((e for e in ends if e <= m.start()), default=0)
    end = min((e for e in ends if e > m.end()), default=len(part))
    dates = {parse_date(d.group()) for d in _DATE_RE.finditer(part, start, end)} - {None}
    return dates.pop() if len(dates) == 1 else None


def letter_fields(text: str, layout: LetterLayout) -> dict:
    table = header_table(text, layout.header)
    return {
        "case_number": table["case_number"],
        "dates": {k: table[k] for k in ("assigned", "decision", "ur_denial", "application_received")},
        "reviewer_specialties": reviewer_specialties(text, layout.header),
        "patient": patient(text, layout.summary, table["date_of_injury"]),
    }
