"""Letter rendering: layouts, case summary, items, citations — with exact gold annotations."""
from __future__ import annotations

import datetime as dt
import hashlib
import random
import re

from . import artifacts, markers
from .case import Item, Sampler, deciding_rule, ends_in_single_letter, wchoice
from .kb import KB, Holdout, expand_pages
from .text import (NUMBER_WORDS, Template, Writer, capfirst, ent, join_list, num_word, pieces_text, render,
                   upper_pieces)

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
# unit -> the unit words a count of it is written with (the generator's choice; each word, and
# its singular, is a unit word of configs/lexicons/count_terms.yaml, which gives its unit: markers.unit_of)
_UNIT_WORDS = {"session": ["sessions", "visits"], "visit": ["visits"], "treatment": ["treatments", "sessions"],
               "week": ["weeks"], "month": ["months"]}
_SPEC_DEFAULT = ["Occupational Medicine", "Preventive Medicine", "Preventative Medicine", "Family Practice", "Internal Medicine",
                 "Anesthesiology", "Pain Management", "Physical Medicine & Rehabilitation", "Physical Medicine and Rehabilitation",
                 "Emergency Medicine", "Hospice & Palliative Medicine", "Pulmonary Diseases"]
_SPEC_BY_CAT = {
    "behavioral_health": ["Psychiatry", "Psychology", "Occupational Medicine", "Preventive Medicine"],
    "surgery": ["Orthopedic Surgery", "Neurological Surgery", "Hand Surgery", "Plastic Surgery"],
    "chiropractic": ["Chiropractor", "Physical Medicine & Rehabilitation"],
    "acupuncture": ["Acupuncturist", "Family Practice", "Pain Management"],
    "injections": ["Anesthesiology", "Pain Management", "Physical Medicine & Rehabilitation", "Neurology"],
    "diagnostic_testing": ["Neurology", "Physical Medicine and Rehabilitation", "Occupational Medicine", "Internal Medicine"],
}


def _fmt_date(d: dt.date, style: str) -> str:
    if style == "long":
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    if style == "slash":
        return d.strftime("%m/%d/%Y")
    if style == "dash":
        return d.strftime("%m-%d-%Y")
    return f"{d.month}-{d.day}-{d.strftime('%y')}"


class LetterBuilder:
    def __init__(self, kb: KB, cfg: dict, holdout: Holdout, seed: int, index: int, unseen: bool):
        self.kb, self.cfg, self.ho = kb, cfg, holdout
        self.unseen = unseen
        self.rng = random.Random(f"{seed}:{index}:{'u' if unseen else 's'}")
        self.seed, self.index = seed, index
        self.template_ids: list[str] = []

    # ------------------------------------------------------------------ helpers
    def pick(self, kind: str, avoid: tuple = ()) -> Template:
        rng = self.rng
        allowed = [t for t in self.kb.templates[kind]
                   if (not t.voices or self.voice in t.voices) and (not t.eras or self.era in t.eras)
                   and (self.unseen or t.id not in self.ho.templates)
                   and not (avoid and t.slots() & set(avoid))]
        if self.unseen:
            held = [t for t in allowed if t.id in self.ho.templates]
            if held and rng.random() < self.cfg["unseen_template_preference"]:
                allowed = held
        t = rng.choice(allowed)
        self.template_ids.append(t.id)
        return t

    def r(self, tpl, ctx) -> list:
        return render(tpl, ctx, self.kb)

    def layout_text(self, name: str, **fields) -> str:
        """A layout's fixed prose: template `name` of configs/templates/layout_text.yaml with `fields`."""
        return self.kb.layout_text[name].format(**fields)

    def date(self, d: dt.date) -> str:
        return _fmt_date(d, self.date_style)

    def side(self) -> str:
        return self.sides.get("s") or self.sides.setdefault("s", self.rng.choice(self.kb.vocab["sides"][:2]))

    def fill_vocab(self, s: str) -> str:
        if "{" not in s:
            return s
        return s.replace("{side}", self.side()).replace("{pain}", str(self.pain)).replace("{pain2}", str(self.pain2))

    # ------------------------------------------------------------------ counts
    def count_piece(self, n: int, unit: str, role: str, cap: bool = False, word: bool | None = None):
        rng = self.rng
        cf = self.kb.count_forms
        if (role == "requested" and cf["ranges"] and n >= 3 and unit in ("session", "visit", "treatment")
                and rng.random() < cf["range_share"]):
            return self.range_piece(n - rng.choice([1, 2]), n, unit, role, cap)
        uw = rng.choice(_UNIT_WORDS.get(unit, ["sessions"]))
        if n == 1:
            uw = uw[:-1]
        if word is None:
            word = rng.random() < 0.25 and n in (1, 2, 3, 4, 5, 6, 8, 10, 12, 24)
        num = num_word(n) if word else str(n)
        txt = f"{num} {uw}"
        if cap:
            txt = txt[0].upper() + txt[1:]
        return [(txt, ent("SESSION_COUNT", {"min": n, "max": n, "unit": markers.unit_of(uw), "over": None, "role": role}))]

    def range_piece(self, a: int, b: int, unit: str, role: str, cap: bool = False):
        """A count written as a range ("three to four sessions", "10-12 visits"): min a, max b."""
        rng = self.rng
        uw = rng.choice(_UNIT_WORDS.get(unit, ["sessions"]))
        forms = [f for f in self.kb.count_forms["ranges"]
                 if "{A}" not in f or (a in NUMBER_WORDS and b in NUMBER_WORDS)]
        txt = rng.choice(forms).format(a=a, b=b, A=num_word(a), B=num_word(b), u=uw)
        if cap:
            txt = txt[0].upper() + txt[1:]
        return [(txt, ent("SESSION_COUNT", {"min": a, "max": b, "unit": markers.unit_of(uw), "over": None, "role": role}))]

    def week_length_piece(self, n: int, role: str):
        """A length of a service in weeks before its name ("Two to three week trial of ..."):
        unit week, a range when n >= 2 and the form has one."""
        rng = self.rng
        forms = self.kb.count_forms["week_lengths"]
        if n < 2:
            forms = [f for f in forms if "{b}" not in f and "{B}" not in f] or ["{a} week"]
        f = rng.choice(forms)
        a = n - 1 if ("{b}" in f or "{B}" in f) else n
        txt = f.format(a=a, b=n, A=num_word(a), B=num_word(n))
        return [(txt, ent("SESSION_COUNT", {"min": a, "max": n, "unit": "week", "over": None, "role": role}))]

    def times_piece(self, n: int, role: str):
        """A quantity after a service without a unit word ("Massage therapy times 8"): unit "unit"."""
        txt = self.rng.choice(self.kb.count_forms["times"]).format(n=n)
        return [(txt, ent("SESSION_COUNT", {"min": n, "max": n, "unit": "unit", "over": None, "role": role}))]

    def freq_piece(self, n: int, unit: str, role: str):
        """A frequency with its duration, one SESSION_COUNT normalized to the course (SPEC §2)."""
        rng = self.rng
        cf = self.kb.count_forms
        opts = [p for p in (1, 2, 3) if n % p == 0 and 1 <= n // p <= 12 and not (p == 1 and n > 8)]
        if not opts or unit not in ("session", "visit", "treatment"):
            return self.count_piece(n, unit, role)
        p = rng.choice(opts)
        w = n // p
        lo = p
        if p >= 2 and cf["freq_range_duration"] and rng.random() < cf["freq_range_share"]:
            lo = p - 1
            forms = cf["freq_range_duration"]
        elif p == 1:
            forms = cf["freq_duration_once"]
        else:
            forms = list(cf["freq_duration"])
            if p == 2:
                forms += cf["freq_duration_twice"]
        f = rng.choice(forms)
        if lo != p:
            txt = f.format(p=lo, P=num_word(lo), p2=p, P2=num_word(p), w=w, W=num_word(w))
        else:
            txt = f.format(p=p, P=num_word(p), w=w, W=num_word(w))
        if w == 1:
            txt = txt.replace("weeks", "week")
        norm = {"min": lo * w, "max": n, "unit": "session",
                "over": {"min": w, "max": w, "unit": "week"}, "role": role}
        return [(txt, ent("SESSION_COUNT", norm))]

    # ------------------------------------------------------------------ drugs
    def drug_pieces(self, name: str, d: dict, upper: bool = False, cap: bool = False):
        """A drug name as a DRUG entity; a dosage-form word it ends with ("Terocin lotion",
        "lidocaine 5% patch") is written after the entity (SPEC §2)."""
        stem, rest = self.kb.split_dosage_form(name)
        if cap:
            stem = stem[:1].upper() + stem[1:]
        if upper:
            stem, rest = stem.upper(), rest.upper()
        e = ent("DRUG", {"generic": d["generic"], "drug_class": d["class"]})
        return [(stem, e)] + ([(rest, None)] if rest else [])

    # ------------------------------------------------------------------ requests
    def request_pieces(self, it: Item, n: int | None = None, role: str = "requested", name_idx: int | None = None):
        """Pieces of the request as written (heading form)."""
        rng, kb = self.rng, self.kb
        if it.drug is not None:
            return self.drug_request(it)
        t = kb.treatments[it.tid]
        names = t["names"]
        if name_idx is None:
            if it.partial:
                cand = [i for i, s in enumerate(names) if "{cnt}" in s or "{Cnt}" in s]
                name_idx = rng.choice(cand) if cand else rng.randrange(len(names))
            else:
                name_idx = rng.randrange(len(names))
            it.facts["name_idx"] = name_idx
        tpl = kb.tpl(names[name_idx])
        n = it.n if n is None else n
        unit = it.unit or "session"
        region_body = self.body_for(it.region)
        qty_slot = []
        ctx = {
            "cnt": lambda: self.count_piece(n, unit, role),
            "Cnt": lambda: self.count_piece(n, unit, role, cap=True, word=True),
            "freq": lambda: self.freq_piece(n, unit, role),
            "freq_m": lambda: [("for ", None)] + self.count_piece(n, "month", role, word=False),
            "wk": lambda: [(rng.choice([f"{n} WEEKS", f"{n} weeks"]), ent("SESSION_COUNT", {"min": n, "max": n, "unit": "week", "over": None, "role": role}))],
            "times": lambda: self.times_piece(n, role),
            "wtrial": lambda: self.week_length_piece(n, role),
            "bfreq": lambda: it.facts.setdefault("bare_freq", rng.choice(kb.count_forms["bare_frequencies"])),
            "n": str(n or rng.choice([2, 3, 5])),
            "body": region_body,
            "side": self.side(),
            "Side": self.side().capitalize(),
            "level": self.level,
            "clevel": self.clevel,
            "_count_role": role,
        }

        def qty():
            q = n or 1
            txt = rng.choice([f"QTY: {q}", f"QUANTITY: {q}.00", f"Qty: {q}"])
            e = ent("SESSION_COUNT", {"min": q, "max": q, "unit": "unit", "over": None, "role": role})
            qty_slot.append(e)
            return [(txt, e)]
        ctx["qty"] = qty
        pieces = self.r(tpl, ctx)
        if qty_slot:
            low = pieces_text(pieces).lower()
            for hint, u in markers.unit_hints():
                if hint in low:
                    qty_slot[0]["norm"]["unit"] = u
                    break
        return capfirst(pieces)

    def drug_request(self, it: Item):
        rng, kb = self.rng, self.kb
        if it.compound:
            cv = it.facts.get("compound_values")
            if cv is None:
                cv = it.facts["compound_values"] = {"form": rng.choice(kb.compound_request_forms),
                                                    "g": str(rng.choice([120, 180, 240, 30])),
                                                    "p": [str(rng.choice([2, 3, 5, 10, 15, 20])) for _ in it.compound]}
            form = cv["form"]
            ctx = {"g": cv["g"], "_count_role": None}
            for k, (d, name) in enumerate(it.compound, 1):
                ctx[f"c{k}"] = self.drug_pieces(name, d, cap=k == 1)
                ctx[f"p{k}"] = cv["p"][k - 1]
            return self.r(kb.tpl(form), ctx)
        d = it.drug
        name = it.drug_name
        form = it.facts.get("drug_form")
        if form is None:
            df = kb.dosage_forms
            no_str = (lambda fs: fs if d["strengths"] else [f for f in fs if "{str}" not in f.lower()])
            r = rng.random()
            if (d["class"] in df["classes"] and df["request_forms"]
                    and not kb.split_dosage_form(name)[1] and r < df["share"]):
                forms = no_str(df["request_forms"])
            elif kb.drug_request_forms_dosing and r > 0.8:
                forms = no_str(kb.drug_request_forms_dosing)
            else:
                forms = no_str(kb.drug_request_forms)
            form = rng.choice(forms)
        it.facts["drug_form"] = form
        vals = it.facts.get("drug_values")
        if vals is None:
            vals = it.facts["drug_values"] = {
                "str": rng.choice(d["strengths"]) if d["strengths"] else "",
                "pills": str(rng.choice([30, 60, 90, 120, 10, 20, 40])), "refills": str(rng.choice([1, 2, 3, 5]))}
        if "dosing" not in vals:  # letters of older corpora have none: drawn once, then kept
            vals["dosing"] = rng.choice(kb.count_forms["dosing_frequencies"])
            vals["dform"] = rng.choice(kb.dosage_forms["topical"])
        st = vals["str"]
        ctx = {"drug": self.drug_pieces(name, d), "DRUG": self.drug_pieces(name, d, upper=True), "str": st, "STR": st.upper(),
               "pills": vals["pills"], "refills": vals["refills"], "date": self.date(self.d_rfa),
               "dosing": vals["dosing"], "dform": vals["dform"]}
        return capfirst(self.r(kb.tpl(form), ctx))

    def body_for(self, region: str) -> str:
        opts = self.kb.vocab["regions"].get(region, {}).get("body") or ["low back"]
        return self.fill_vocab(self.rng.choice(opts))

    @staticmethod
    def dispute_list(w, prepared) -> None:
        """The front matter's "Treatment(s) in Dispute" list: every request, "; "-separated."""
        for k, (_it, req, *_rest) in enumerate(prepared):
            if k:
                w.add("; ")
            w.add_pieces(req)

    def tshort(self, it: Item) -> str:
        if it.drug is not None:
            return it.drug_name
        return self.kb.treatments[it.tid]["short"]

    def tshort_pieces(self, it: Item, cap: bool = False):
        """The treatment's short name as template pieces; a drug's name is a DRUG entity."""
        text = self.tshort(it)
        if cap:
            text = text[:1].upper() + text[1:]
        if it.drug is None or it.compound:
            return [(text, None)] if it.drug is None else self.drug_pieces(it.compound[0][1], it.compound[0][0])
        return self.drug_pieces(text, it.drug)

    # ------------------------------------------------------------------ citations
    def drug_topic_cite(self, ref_id: str, era: int, it: Item | None):
        """A citation whose topic is the item's drug ("... (ODG), Pain Chapter, Meloxicam",
        "... 2016, Section(s): Cyclobenzaprine (Flexeril)"): one GUIDELINE, no DRUG inside; None
        when no drug-topic form fits (`drug_topic_forms`, chance `drug_topic_share`)."""
        rng, kb = self.rng, self.kb
        if it is None or it.drug is None or it.compound or not kb.drug_topic_forms or rng.random() >= kb.drug_topic_share:
            return None
        ref = kb.refs[ref_id]
        kind = {"MTUS": "mtus", "ODG": "odg"}.get(kb.documents[ref["doc"]]["source"])
        forms = [f for f in kb.drug_topic_forms if f["kind"] == kind and era in f["era"]
                 and ("{Topic}" not in f["text"] or (ref["doc"] == f["doc"] and ref.get("topic")))
                 and (not f.get("pages") or (ref["doc"] == f["doc"] and ref.get("pages")))]
        if not forms:
            return None
        f = rng.choice(forms)
        self.template_ids.append(f["id"])
        doc = kb.documents[f["doc"]]
        d = it.drug
        drug = d["generic"][:1].upper() + d["generic"][1:]
        brand = f" ({rng.choice(d['brands'])})" if d.get("brands") and rng.random() < 0.5 else ""
        fill = {"{Drug}": drug, "{brand}": brand, "{Topic}": ref.get("topic") or "", "{pages}": ref.get("pages") or "",
                "{chapter}": rng.choice(doc.get("chapter") or [""]),
                "{name16}": rng.choice(doc.get("names_2016") or [""]), "{name}": rng.choice(doc.get("names_2014") or [""])}
        txt, topic = f["text"], f["topic"]
        for k, v in fill.items():
            txt, topic = txt.replace(k, v), topic.replace(k, v)
        norm = {"source": doc["source"], "document": f["doc"] if doc["source"] == "MTUS" else doc.get("document"),
                "topic": topic.lower(), "pages": expand_pages(ref.get("pages")) if f.get("pages") else []}
        return [(txt, ent("GUIDELINE", norm))], dict(text=txt, **norm)

    def companion_cite(self, first_doc: str):
        """A second MTUS ACOEM chapter cited after the first ("..., and Shoulder Complaints 2004,
        Section(s): Initial Care"): its own GUIDELINE (SPEC §2: one per cited document)."""
        rng, kb = self.rng, self.kb
        md = kb.multi_document
        cands = [r for r in md["companions"] if kb.refs[r]["doc"] != first_doc and kb.refs[r].get("topic")]
        if not cands:
            return None
        ref = kb.refs[rng.choice(cands)]
        doc = kb.documents[ref["doc"]]
        name = rng.choice(doc.get("names_2016") or doc.get("names_2014"))
        if name.startswith("MTUS ") and rng.random() < md["drop_source"]:
            name = name[len("MTUS "):]
        txt = f"{name}, Section(s): {ref['topic']}"
        norm = {"source": "MTUS", "document": ref["doc"], "topic": ref["topic"].lower(), "pages": []}
        return [(txt, ent("GUIDELINE", norm))], dict(text=txt, **norm)

    def cite(self, ref_id: str, era: int, it: Item | None = None):
        """One GUIDELINE citation -> (pieces, citation dict)."""
        rng, kb = self.rng, self.kb
        dt_cite = self.drug_topic_cite(ref_id, era, it)
        if dt_cite is not None:
            return dt_cite
        ref = kb.refs[ref_id]
        doc = kb.documents[ref["doc"]]
        src = doc["source"]
        topic = ref.get("topic")
        pages = ref.get("pages")
        if src == "MTUS":
            kind = "mtus"
        elif src == "ODG":
            kind = "odg"
        else:
            kind = "other"
        forms = [f for f in kb.forms if f["kind"] == kind and era in f["era"]
                 and ("topic" not in f["shows"] or topic) and ("pages" not in f["shows"] or pages)
                 and ("{name16}" not in f["text"] or doc.get("names_2016"))
                 and ("{name}" not in f["text"] or doc.get("names_2014") or doc.get("names_other"))]
        if not forms:
            forms = [f for f in kb.forms if f["kind"] == kind and ("topic" not in f["shows"] or topic)
                     and ("pages" not in f["shows"] or pages) and ("{name16}" not in f["text"] or doc.get("names_2016"))]
        f = rng.choice(forms)
        self.template_ids.append(f["id"])
        name = rng.choice(doc.get("names_2014") or doc.get("names_other") or [""])
        txt = f["text"]
        txt = txt.replace("{name16}", rng.choice(doc.get("names_2016") or [name])).replace("{name}", name)
        txt = txt.replace("{chapter}", rng.choice(doc.get("chapter") or [""]))
        if topic:
            txt = txt.replace("{Topic}", topic).replace("{TOPIC}", topic.upper())
        if pages:
            txt = txt.replace("{pages}", pages)
        norm = {"source": src, "document": ref["doc"] if src == "MTUS" else doc.get("document"),
                "topic": topic.lower() if (topic and "topic" in f["shows"]) else None,
                "pages": expand_pages(pages) if "pages" in f["shows"] else []}
        cit = dict(text=txt, **norm)
        return [(txt, ent("GUIDELINE", norm))], cit

    def guideline_paragraph(self, role: str, mtus: list, other: list, era: int, it: Item | None = None):
        rng, kb = self.rng, self.kb
        avail = set()
        if mtus:
            avail.add("mtus")
        if other:
            avail.add("other")
        paras = [p for p in kb.paragraphs if p["role"] == role and era in p["era"] and set(p["needs"]) <= avail]
        p_none = self.cfg["ca_no_citation_2016"] if era == 2016 else self.cfg["ca_no_citation"]
        if role == "ca" and avail and rng.random() > p_none:
            paras = [p for p in paras if p["needs"]] or paras
        if role == "reviewer":
            paras = [p for p in paras if p["needs"]] or paras
        if not paras:
            paras = [p for p in kb.paragraphs if p["role"] == role and set(p["needs"]) <= avail] or \
                    [p for p in kb.paragraphs if p["role"] == role and not p["needs"]] or \
                    [p for p in kb.paragraphs if p["role"] == role]
        p = rng.choice(paras)
        self.template_ids.append(p["id"])
        cits = []
        ctx = {}
        for need in p["needs"]:
            ref = rng.choice(mtus if need == "mtus" else other)
            pieces, c = self.cite(ref, era, it)
            ctx[need] = pieces
            cits.append(c)
            md = kb.multi_document
            if (need == "mtus" and md and self.template_ids[-1] == "cf_m16_section"
                    and kb.refs[ref]["doc"].startswith("acoem_ch") and rng.random() < md["share"]):
                second = self.companion_cite(kb.refs[ref]["doc"])
                if second is not None:
                    ctx[need] = pieces + [(rng.choice(md["joiners"]), None)] + second[0]
                    cits.append(second[1])
        if "needs" in p and not p["needs"] and "{" in p["text"]:
            pass
        pieces = self.r(kb.tpl(p["text"]), ctx)
        return pieces, cits

    def mention(self, cits: list):
        """A GUIDELINE mention (rationale) of the reviewer's main cited document."""
        rng, kb = self.rng, self.kb
        pm = kb.paired_mentions
        if pm["forms"] and rng.random() < pm["share"]:
            return self.r(kb.tpl(rng.choice(pm["forms"])), {})
        for c in cits:
            if c["source"] == "MTUS" and c["document"] in kb.documents and kb.documents[c["document"]].get("mentions") and rng.random() < 0.7:
                txt = rng.choice(kb.documents[c["document"]]["mentions"])
                return [(txt, ent("GUIDELINE", {"source": "MTUS", "document": c["document"], "topic": None, "pages": []}))]
            if c["source"] in ("ODG", "ACOEM"):
                txt = rng.choice([k for k, v in kb.generic.items() if v == c["source"]])
                return [(txt, ent("GUIDELINE", kb.generic_norm(txt)))]
        txt = rng.choice(["MTUS", "CA MTUS", "MTUS Guidelines", "California MTUS guidelines", "MTUS guidelines"])
        return [(txt, ent("GUIDELINE", kb.generic_norm(txt)))]

    # ------------------------------------------------------------------ rationale
    def rationale(self, it: Item, req: list, rv_cits: list, items_by_index: dict) -> list:
        rng, kb = self.rng, self.kb
        topic = kb.topics[it.topic]
        f = it.facts
        G = lambda: self.mention(rv_cits)  # noqa: E731
        unit = it.unit or "session"
        ctx = {
            "P": self.person, "Pc": self.person_c, "Pp": self.person_p, "req": req,
            "tshort": self.tshort_pieces(it), "Tshort": self.tshort_pieces(it, cap=True),
            "G": G, "fi_gain": lambda: self.fill_vocab(rng.choice(kb.vocab["fi_gain"])),
            "pain": str(self.pain), "pain2": str(self.pain2),
            "criterion": kb.tpl(f.get("criterion") or rng.choice(topic.get("criteria") or ["the clinical findings that support the request"])),
            "condition": f.get("condition") or topic.get("condition") or "an exceptional indication",
            "missing": rng.choice(kb.vocab["missing_drug"] if it.drug is not None else kb.vocab["missing_service"]),
            "drug": self.drug_pieces(it.drug_name, it.drug) if it.drug else [("the medication", None)],
            "rcnt": lambda: self.count_piece(it.n, unit, "requested") if it.n else [("the requested sessions", None)],
            "pcnt": lambda: self.count_piece(it.prior, unit, "completed") if it.prior and it.prior > 0 else [("the sessions", None)],
            "_count_role": "recommended",
            "_syn": self.syn,
        }
        rv = kb.vocab["regions"].get(it.region) or kb.vocab["regions"]["lumbar"]
        ctx["complaint"] = lambda: self.fill_vocab(rng.choice(rv["complaint"]))
        ctx["exam"] = lambda: ", ".join(self.fill_vocab(x) for x in rng.sample(rv["exam"], k=min(len(rv["exam"]), rng.randint(1, 3))))
        if it.compound:
            d, name = it.compound[0]
            ctx["drug"] = self.drug_pieces(name, d)
        if it.parent and it.parent in items_by_index:
            ctx["surgery"] = kb.treatments[items_by_index[it.parent].tid]["short"]
        elif "certified_surgery" in f:
            ctx["surgery"] = f["certified_surgery"]
        else:
            ctx["surgery"] = "surgery"
        says = [kb.tpl(s) for s in topic["says"]]
        facts = [kb.tpl(s) for s in topic["facts"]]
        ctx["says"] = rng.choice(says)
        ctx["fact"] = rng.choice(facts)
        ctx["fact2"] = rng.choice([x for x in facts if x is not ctx["fact"]] or facts)
        sents: list[list] = []

        no_prior = () if (it.prior and it.prior > 0) else ("pcnt",)

        def add(kind):
            sents.append(capfirst(self.r(self.pick(kind, no_prior), ctx)))

        path = f.get("path", "")
        if path != "unknown_prior" or True:
            add("r_guideline")
            if rng.random() < (0.6 if self.era == 2016 else 0.35) and len(says) > 1 and len(facts) > 1:
                ctx["says"] = rng.choice([x for x in says if x is not ctx["says"]])
                ctx["fact"] = rng.choice([x for x in facts if x is not ctx["fact"]])
                ctx["fact2"] = rng.choice([x for x in facts if x is not ctx["fact"]])
                add("r_guideline")
        if rng.random() < (0.45 if self.era == 2016 else 0.2):
            add("r_recap")
        dis = f.get("disagreement")
        if dis:
            add("r_judgment_yes" if it.decision == "overturned" else "r_gap")
        elif "depends_on_denied_request" in it.labels:
            add("r_depends")
        elif path == "trial_ok":
            add("r_trial_ok")
        elif path == "total_ok":
            add("r_fi_yes")
            add("r_total_ok")
        elif path == "exceeds":
            if it.prior and it.prior > 0:
                add("r_fi_yes")
            add("r_exceeds")
        elif path == "no_fi":
            add("r_fi_no")
            if "exceeds_guideline_quantity" in it.labels:
                add("r_exceeds")
        elif path == "unknown_prior":
            ctx["criterion"] = "how many prior sessions have been completed"  # plain text
            add("r_gap")
            add("r_exceeds")
        elif path == "criteria_met":
            if it.parent or "certified_surgery" in f:
                add("r_depends_ok")
            add("r_criteria_met")
        elif path == "not_indicated":
            add("r_not_rec")
        elif path == "gap":
            add("r_gap")
            if rng.random() < 0.3:
                add("r_missing")
            if "not_recommended" in it.labels:
                add("r_not_rec")
        elif path == "exception":
            add("r_exception")
        elif path == "not_recommended":
            add("r_not_rec")
            if "insufficient_documentation" in it.labels:
                add("r_missing" if rng.random() < 0.5 else "r_gap")
        elif path == "ongoing_ok":
            add("r_ongoing_yes")
        elif path == "ongoing_no":
            add("r_ongoing_no")
            if "insufficient_documentation" in it.labels and rng.random() < 0.5:
                add("r_missing")
        elif path == "short_ok":
            add("r_drug_new")
        elif path == "long_term":
            add("r_drug_long")
            if "no_functional_improvement" in it.labels:
                ctx["tshort"] = self.tshort_pieces(it)
                add("r_ongoing_no")
            if "insufficient_documentation" in it.labels:
                add("r_missing")
        add("r_conclude_overturned" if it.decision == "overturned" else "r_conclude_upheld")
        out = []
        for i, s in enumerate(sents):
            if i:
                out.append(("  " if self.double_space else " ", None))
            out.extend(s)
        return out

    # ------------------------------------------------------------------ summary
    def summary(self, items: list[Item]) -> list:
        rng, kb, v = self.rng, self.kb, self.kb.vocab
        regions = [it.region for it in items] or ["lumbar"]
        reg = regions[0]
        rv = v["regions"].get(reg, v["regions"]["lumbar"])
        dx_all = []
        for r_ in dict.fromkeys(regions):
            rvv = v["regions"].get(r_)
            if rvv:
                dx_all.extend(rng.sample(rvv["dx"], k=min(2, len(rvv["dx"]))))
        dx = ", ".join(self.fill_vocab(x) for x in dx_all[:4]) if dx_all else "chronic pain"
        ctx = {"P": self.person, "Pc": self.person_c, "Pp": self.person_p, "age": str(self.age), "sex": self.sex,
               "doi": self.date(self.doi), "date": lambda: self.date(self.d_note), "date2": lambda: self.date(self.d_rfa),
               "month_year": f"{MONTHS[self.d_prior.month - 1]} {self.d_prior.year}",
               "mech": rng.choice(v["mech"]), "employer": "" if self.redact else rng.choice(v["employer"]),
               "employer_name": "" if self.redact else rng.choice(v["employer_names"]),
               "dx": dx, "complaint": lambda: self.fill_vocab(rng.choice(rv["complaint"])),
               "exam": lambda: ", ".join(self.fill_vocab(x) for x in rng.sample(rv["exam"], k=min(len(rv["exam"]), rng.randint(1, 3)))),
               "pain": str(self.pain), "pain2": str(self.pain2),
               "tx_list": ", ".join(rng.sample(v["prior_general"], k=rng.randint(2, 5))),
               "work": self.fill_vocab(rng.choice(v["work"][self.work])),
               "fi_gain": lambda: self.fill_vocab(rng.choice(v["fi_gain"])),
               "_count_role": "completed", "_syn": self.syn}

        sents = []

        def add(kind, **extra):
            c = dict(ctx)
            c.update(extra)
            tpl = self.pick(kind)
            if kind == "summary_intro":
                slots = tpl.slots()
                self.stated["age"] = "age" in slots
                self.stated["sex"] = "sex" in slots
                self.stated["doi"] = "doi" in slots
            sents.append(capfirst(self.r(tpl, c)))

        add("summary_intro")
        length = self.summary_length
        if rng.random() < 0.85:
            add("summary_dx")
        if length >= 1 and rng.random() < 0.8:
            add("summary_complaint")
        if length >= 1 and rng.random() < 0.7:
            add("summary_exam")
        if length >= 2 and rng.random() < 0.5:
            add("summary_complaint")
        if length >= 3:
            add("summary_complaint")
            add("summary_exam")
        if length >= 4 and rng.random() < 0.7:
            add("summary_complaint")
        if rng.random() < 0.7:
            add("summary_prior")
        # per-item facts (what a forecast can see)
        ev = self.cfg["summary_evidence"]
        deciding = self.cfg["evidence_slots"]

        def states(it, kind) -> bool:
            """A reviewer who departs from the rule decided a case whose record is ambiguous: its
            summary states the rule's deciding finding only with chance `summary_evidence.disagreement`."""
            if not it.facts.get("disagreement"):
                return True
            return kind not in deciding.get(deciding_rule(it.rule, it.facts), ()) or rng.random() < ev["disagreement"]

        for it in items:
            ts = self.tshort(it)
            unit = it.unit or "session"
            if it.drug is None and it.prior is not None and rng.random() < 0.85:
                if it.prior > 0:
                    add("summary_prior_count", tshort=ts, pcnt=self.count_piece(it.prior, unit, "completed"))
                elif it.prior == -1:
                    add("summary_prior_unknown", tshort=ts)
            fi_kind = "summary_fi_yes" if it.fi else "summary_fi_no"
            if it.drug is None and it.fi is not None and it.prior and it.prior > 0 and rng.random() < 0.8 and states(it, fi_kind):
                add(fi_kind, tshort=ts)
            if it.drug is not None and "long_term" in it.facts and rng.random() < 0.75:
                kind = "summary_drug_long" if it.facts["long_term"] else "summary_drug_new"
                if states(it, kind):
                    name = it.drug_name if not it.compound else it.compound[0][1]
                    d = it.drug if not it.compound else it.compound[0][0]
                    add(kind, drug=self.drug_pieces(name, d))
            if it.drug is not None and it.rule == "ongoing_fi" and rng.random() < 0.6 and states(it, fi_kind):
                add(fi_kind, tshort=self.tshort_pieces(it))
            if it.rule in ("criteria",) and "criterion" in it.facts and rng.random() < ev["criteria"] + 0.1 * length:
                kind = "summary_finding_met" if it.facts.get("path") == "criteria_met" else "summary_finding_gap"
                if states(it, kind):
                    add(kind, tshort=self.tshort_pieces(it), criterion=kb.tpl(it.facts["criterion"]))
            elif it.rule == "not_recommended" and "condition" in it.facts and not it.assoc and rng.random() < (
                    ev["exception"] if it.facts.get("path") == "exception" else ev["exception_claimed"]):
                if states(it, "summary_condition"):
                    add("summary_condition", tshort=self.tshort_pieces(it), condition=it.facts["condition"])
            elif not it.assoc and rng.random() < ev["reason"]:
                add("summary_reason", tshort=self.tshort_pieces(it))
        certified = [it.facts["certified_surgery"] for it in items if "certified_surgery" in it.facts]
        if certified and rng.random() < self.cfg["certified_surgery"]["summary"]:
            add("summary_surgery_certified", surgery=certified[0])
        if rng.random() < 0.6:
            drugs = [it for it in items if it.drug is not None and not it.compound]
            names = [self.drug_pieces(it.drug_name, it.drug) for it in drugs]
            pool = [d for d in kb.drugs if (self.unseen or d["generic"] not in self.ho.drugs)]
            for d in rng.sample(pool, k=min(len(pool), rng.randint(0, 3))):
                nm = Sampler(kb, self.cfg, self.ho, rng, self.unseen).drug_name(d)
                if ends_in_single_letter(nm):
                    continue
                if all(d["generic"] != x.drug["generic"] for x in drugs):
                    names.append(self.drug_pieces(nm, d))
            if names:
                rng.shuffle(names)
                add("summary_meds", drug_list=join_list(names))
        if rng.random() < 0.7:
            add("summary_work")
        if rng.random() < 0.85:
            reqs = [self.request_pieces_summary(it) for it in items[:3]]
            add("summary_request", req_list=join_list(reqs))
            if rng.random() < 0.7:
                add("summary_ur", req_list=join_list([self.request_pieces_summary(it) for it in items[:2]]))
        if rng.random() < 0.25:
            add("summary_gap")
        out = []
        for i, s in enumerate(sents):
            if i:
                out.append(("  " if self.double_space else " ", None))
            out.extend(s)
        return out

    def request_pieces_summary(self, it: Item):
        p = self.request_pieces(it, name_idx=it.facts.get("name_idx"))
        if p and p[0][1] is None and p[0][0][:1].isupper() and p[0][0][1:2].islower():
            p = [(p[0][0][0].lower() + p[0][0][1:], None)] + p[1:]
        return p

    # ------------------------------------------------------------------ layout
    def build(self) -> dict:
        rng, kb, cfg = self.rng, self.kb, self.cfg
        layout = wchoice(rng, cfg["layout_mix"])
        if layout == "dwc_2014":
            era = 2016 if rng.random() < cfg["published_share"] else 2014
        elif layout == "dwc_2013_notice":
            era = 2013
        else:
            era = 2015
        self.layout, self.era = layout, era
        rx, table = kb.synonyms()
        self.syn = (rx, table, rng, cfg["synonym_rate"]) if rx is not None and cfg["synonym_rate"] > 0 else None
        self.voice = rng.choice(sorted(kb.voices))
        if era == 2016:
            self.voice = rng.choice(["b", "c", "d", "d"])
        person = kb.voices[self.voice]["person"]
        self.person = "the " + person
        self.person_c = "The " + person
        self.person_p = "the " + person + "'s"
        self.double_space = era in (2013, 2014) and rng.random() < 0.7
        self.date_style = rng.choice(["long", "slash", "dash", "short"] if era == 2016 else ["long", "slash", "slash"])
        self.sides = {}
        self.pain = rng.randint(5, 9)
        self.pain2 = rng.randint(2, self.pain - 1)
        self.level = rng.choice(kb.vocab["levels"])
        self.clevel = rng.choice(kb.vocab["clevels"])
        self.age = rng.randint(22, 70)
        self.sex = rng.choice(["male", "female"])
        self.work = "off" if rng.random() < 0.5 else "working"
        self.summary_length = rng.choice([0, 1, 1, 2, 2, 3, 3]) + (1 if era == 2016 else 0)
        self.stated = {}
        art = rng.random() < cfg["artifacts"]["share"]
        self.artifacts = []
        self.redact = art and rng.random() < cfg["artifacts"]["redaction"]
        year = {2013: 2013, 2014: rng.choice([2013, 2014, 2014, 2015]), 2015: rng.choice([2015, 2016]), 2016: rng.choice([2016, 2017])}[era]
        self.d_decision = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        self.d_assigned = self.d_decision - dt.timedelta(days=rng.randint(20, 45))
        self.d_received = self.d_assigned - dt.timedelta(days=rng.randint(1, 10))
        self.d_ur = self.d_received - dt.timedelta(days=rng.randint(3, 30))
        self.d_rfa = self.d_ur - dt.timedelta(days=rng.randint(3, 20))
        self.d_note = self.d_rfa - dt.timedelta(days=rng.randint(0, 30))
        self.d_prior = self.d_note - dt.timedelta(days=rng.randint(30, 400))
        self.doi = self.d_note - dt.timedelta(days=rng.randint(20, 365 * 12))
        self.case_number = f"CM{self.d_assigned.strftime('%y')}-{rng.randint(0, 9999999):07d}"

        sampler = Sampler(kb, cfg, self.ho, rng, self.unseen)
        items = sampler.sample_items()
        sampler.decide(items)
        items_by_index = {it.index: it for it in items}
        upper = layout == "dwc_2014" and era == 2014 and rng.random() < 0.15

        pool = _SPEC_BY_CAT.get(items[0].cat if items else "", _SPEC_DEFAULT)
        specs = [s for s in kb.vocab["specialties"] if s in pool]
        specs = rng.sample(specs, k=min(len(specs), rng.choice([1, 1, 2, 2, 3])))
        self.specialties = [markers.canonical_specialty(s) for s in specs]

        w = Writer(typo_rate=cfg["artifacts"]["typo_rate"] if art else 0.0, rng=rng)
        P = "\n\n"
        item_recs = []

        # per-item pieces first (so the header can list requests)
        prepared = []
        for it in items:
            req = self.request_pieces(it)
            if upper:
                req = upper_pieces(req)
            t = kb.treatments.get(it.tid)
            if it.drug is not None:
                spec = it.facts["refs"]
                mtus, other = list(spec.get("mtus", [])), list(spec.get("other", []))
            else:
                mtus, other = list(t.get("mtus", [])), list(t.get("other", []))
            if not mtus and not other:
                other = ["uptodate_ref"]
            ca, ca_c = self.guideline_paragraph("ca", mtus, other, era, it)
            rv, rv_c = self.guideline_paragraph("reviewer", mtus, other, era, it)
            prepared.append((it, req, ca, ca_c, rv, rv_c))

        # ---------------- header (fixed prose: configs/templates/layout_text.yaml)
        lt = self.layout_text
        if layout == "dwc_2014" and era == 2016:
            w.add(lt("header_dwc_2014_2016", case_number_label=markers.written('Case Number:'),
                     decision_date_label=markers.written('Decision Date:'), case_number=self.case_number, date_assigned=_fmt_date(self.d_assigned, 'slash'),
                     date_of_injury=_fmt_date(self.doi, 'slash'), date_decision=_fmt_date(self.d_decision, 'slash'),
                     date_ur=_fmt_date(self.d_ur, 'slash'), date_received=_fmt_date(self.d_received, 'slash')))
            self.stated.update(header_dates=True)
        elif layout == "dwc_2013_notice":
            w.add(lt("header_dwc_2013_notice", notice_title=markers.written('Notice of Independent Medical Review Determination'),
                     dated=markers.written('Dated:'), case_number_label=markers.written('IMR Case Number:'), date_decision=_fmt_date(self.d_decision, 'slash'), case_number=self.case_number,
                     date_ur=_fmt_date(self.d_ur, 'slash'), date_of_injury=_fmt_date(self.doi, 'slash'),
                     date_received=_fmt_date(self.d_received, 'slash')))
            self.dispute_list(w, prepared)
            ov = [it.decision == "overturned" for it in items]
            fd, what = (("OVERTURN", "all of") if all(ov) else ("UPHOLD", "none of") if not any(ov) else ("OVERTURN", "some of"))
            w.add(lt("notice_final_determination", addressee='' if self.redact else lt("notice_addressee"),
                     final_determination=markers.written('Final Determination:'), determination=fd, share=what, items_heading=markers.section_heading(layout, 'items')))
            for k, (it, req, *_rest) in enumerate(prepared, 1):
                neg = "" if it.decision == "overturned" else "not "
                w.add(lt("notice_determination_item", k=k, has_determined=markers.written('MAXIMUS Federal Services, Inc. has determined')))
                w.add_pieces(req)
                w.add(lt("necessity", neg=neg) + P)
            w.add(lt("notice_qualifications", qualifications=markers.written('Medical Qualifications of the Expert Reviewer:'),
                     specialties=' and '.join(specs)))
            self.stated.update(header_dates=True)
        elif layout == "dwc_2015":
            w.add(lt("header_dwc_2015", maximus=markers.written('MAXIMUS FEDERAL SERVICES, INC.'),
                     imr=markers.written('Independent Medical Review'), dated=markers.written('Dated:'),
                     case_number_label=markers.written('IMR Case Number:'), date_decision=_fmt_date(self.d_decision, 'slash'), case_number=self.case_number,
                     date_of_injury=_fmt_date(self.doi, 'slash'), date_ur=_fmt_date(self.d_ur, 'slash'),
                     date_received=_fmt_date(self.d_received, 'slash')))
            self.dispute_list(w, prepared)
            w.add(P)
            self.stated.update(header_dates=True)

        if layout != "dwc_2013_notice":
            reviewer = rng.choice(kb.layout_choices["reviewer"])
            rn = reviewer.split(" ", 1)[1]
            w.add(lt("how_determination_made", lead=rng.choice(['', ' ']),
                     heading=markers.written('HOW THE IMR FINAL DETERMINATION WAS MADE'), reviewer=reviewer))
            if era == 2016:
                w.add(lt("credentials_2016", reviewer_noun=rn,
                         credentials_heading=markers.written('The Expert Reviewer has the following credentials:'),
                         licensure=markers.written('State(s) of Licensure:'),
                         certification=markers.written('Certification(s)/Specialty:'),
                         states=','.join(['California'] + rng.sample(kb.vocab['states'][1:], k=rng.randint(0, 2))),
                         specialties=', '.join(specs)))
            else:
                if len(specs) > 1 and rng.random() < 0.5:
                    cred = lt("credential_subspecialty", specialty=specs[0], subspecialties=' and '.join(specs[1:]))
                else:
                    cred = lt("credential_board", specialties=' and '.join(specs))
                w.add(lt("credentials", reviewer_noun=rn, credential=cred))
            if layout == "dwc_2015":
                w.add(lt("documents_reviewed", heading=markers.written('DOCUMENTS REVIEWED'), date_received=_fmt_date(self.d_received, 'slash'), date_ur=_fmt_date(self.d_ur, 'slash'),
                         date_prior=_fmt_date(self.d_prior, 'slash'), date_rfa=_fmt_date(self.d_rfa, 'slash')))

        # ---------------- summary
        w.section = "summary"
        if layout == "dwc_2013_notice":
            w.add(f"{markers.section_heading(layout, 'summary')}{P}")
        else:
            w.add(lt("summary_intro", heading=markers.section_heading(layout, 'summary')))
        s_start = w.pos()
        w.add_pieces(self.summary(items))
        s_end = w.pos()
        w.add(P)

        # ---------------- items
        w.section = "header"
        if layout in ("dwc_2014", "dwc_2015"):
            w.add(lt("items_intro", heading=markers.section_heading(layout, 'items'),
                     based_on=markers.written('The Final Determination was based on decisions')))
        w.section = "item"
        for k, (it, req, ca, ca_c, rv, rv_c) in enumerate(prepared, 1):
            w.item = it.index
            word = markers.decision_word(it.decision)
            rec = {"index": it.index}
            h0 = w.pos()
            orig_text = None
            prefix = []
            if it.assoc and rng.random() < 0.8:
                prefix = [(lt("associated_service"), None)]
            if layout == "dwc_2014":
                if it.partial and era == 2016 or (it.partial and rng.random() < 0.5):
                    orig = self.request_pieces(it, n=it.partial["original"], name_idx=it.facts.get("name_idx"))
                    auth = self.request_pieces(it, n=it.partial["authorized"], role="completed", name_idx=it.facts.get("name_idx"))
                    if upper:
                        orig, auth = upper_pieces(orig), upper_pieces(auth)
                    o0 = w.pos()
                    w.add_pieces(orig)
                    orig_text = (o0, w.pos())
                    w.add(lt("partial_original"))
                    w.add_pieces(auth)
                    w.add(lt("partial_authorized"))
                    r0 = w.pos()
                    w.add_pieces(req)
                    r1 = w.pos()
                    w.add(lt("partial_decision", decision=word))
                else:
                    r0 = w.pos()
                    w.add_pieces(prefix)
                    w.add_pieces(req)
                    r1 = w.pos()
                    w.add(f":  {word}" if era == 2014 else f": {word}")
            elif layout == "dwc_2015":
                neg = "" if it.decision == "overturned" else "not "
                w.add(lt("numbered_request", k=k))
                r0 = w.pos()
                w.add_pieces(req)
                r1 = w.pos()
                w.add(lt("necessity", neg=neg))
            else:
                w.add(lt("regarding_request", k=k, regarding=markers.written('Regarding the request for')))
                r0 = w.pos()
                w.add_pieces(req)
                r1 = w.pos()
                w.add(":")
            h1 = w.pos()
            w.add(P)
            labels = [label + " " for label in markers.field_labels(layout)]
            w.add(labels[0])
            c0 = w.pos()
            w.add_pieces(ca)
            c1 = w.pos()
            w.add(P + labels[1])
            v0 = w.pos()
            w.add_pieces(rv)
            v1 = w.pos()
            w.add(P + labels[2])
            a0 = w.pos()
            w.add_pieces(self.rationale(it, req, rv_c, items_by_index))
            a1 = w.pos()
            w.add(P)
            rec.update(spans={"heading": (h0, h1), "request": (r0, r1), "original_request": orig_text,
                              "ca": (c0, c1), "reviewer": (v0, v1), "rationale": (a0, a1)},
                       ca_cits=ca_c, rv_cits=rv_c, item=it)
            item_recs.append(rec)
        w.item = None
        clean = w.text().rstrip("\n") + "\n"

        # ---------------- artifacts
        protect = sorted((e["start"], e["end"]) for e in w.entities)
        mode = "none"
        inserts = []
        if art:
            mode = rng.choice(["blank", "pdf"])
            width = rng.randint(cfg["artifacts"]["wrap_min"], cfg["artifacts"]["wrap_max"])
            page = cfg["artifacts"]["page_chars"] if rng.random() < cfg["artifacts"]["page_breaks"] else 0
            inserts = artifacts.plan(clean, rng, mode, width, page, protect,
                                     no_break_inside_entities=not cfg["artifacts"]["wrap_inside_entities"])
            self.artifacts.append("wrap_" + mode)
            if page:
                self.artifacts.append("page_breaks")
            if self.redact:
                self.artifacts.append("redaction")
            if w.typos:
                self.artifacts.append("typos")
        ins = artifacts.Insertions(clean, inserts)
        text = ins.text
        ms, me = ins.map_start, ins.map_end

        def span(p):
            if p is None:
                return None
            return (ms(p[0]), me(p[1]))

        ents = []
        for e in w.entities:
            s, e2 = ms(e["start"]), me(e["end"])
            rec = dict(e)
            rec.update(start=s, end=e2, text=text[s:e2], clean_start=e["start"], clean_end=e["end"])
            ents.append(rec)

        def ws(s):
            return re.sub(r"\s+", " ", s).strip()

        out_items = []
        for rec in item_recs:
            it: Item = rec["item"]
            sp = rec["spans"]
            f = {k: v for k, v in it.facts.items() if k not in ("refs",)}
            out_items.append({
                "index": it.index,
                "request": ws(clean[sp["request"][0]:sp["request"][1]]),
                "original_request": ws(clean[sp["original_request"][0]:sp["original_request"][1]]) if sp["original_request"] else None,
                "decision": it.decision, "rationale": it.rationale, "rationale_labels": list(dict.fromkeys(it.labels)),
                "treatment_category": it.cat, "treatment_id": it.tid, "topic": it.topic, "rule": it.rule,
                "drug_generic": (it.drug or {}).get("generic") if not it.compound else None,
                "held_out": it.held,
                "ca_guidelines": rec["ca_cits"], "reviewer_guidelines": rec["rv_cits"],
                "heading_span": span(sp["heading"]), "request_span": span(sp["request"]),
                "original_request_span": span(sp["original_request"]),
                "ca_span": span(sp["ca"]), "reviewer_span": span(sp["reviewer"]), "rationale_span": span(sp["rationale"]),
                "requested_count": it.n, "prior_count": it.prior, "functional_improvement": it.fi,
                "facts": f,
            })
        hd = self.stated.get("header_dates")
        rid = hashlib.sha1(f"{self.seed}:{self.index}:{self.unseen}".encode()).hexdigest()[:16]
        return {
            "id": f"gen_{self.index:06d}_{rid}",
            "layout": layout, "era": era, "voice": self.voice,
            "text": text, "clean_text": clean,
            "case_number": self.case_number if hd else None,
            "dates": {"assigned": self.d_assigned.isoformat() if (hd and era == 2016) else None,
                      "decision": self.d_decision.isoformat() if hd else None,
                      "ur_denial": self.d_ur.isoformat() if hd else None,
                      "application_received": self.d_received.isoformat() if hd else None},
            "reviewer_specialties": list(dict.fromkeys(self.specialties)),
            "patient": {"age": self.age if self.stated.get("age") else None,
                        "sex": self.sex if self.stated.get("sex") else None,
                        "date_of_injury": self.doi.isoformat() if (self.stated.get("doi") or hd) else None},
            "summary_span": (ms(s_start), me(s_end)),
            "entities": ents, "items": out_items,
            "artifacts": self.artifacts, "template_ids": sorted(set(self.template_ids)),
            "unseen": self.unseen,
        }


def generate_letter(kb: KB, cfg: dict, holdout: Holdout, seed: int, index: int, unseen: bool = False) -> dict:
    return LetterBuilder(kb, cfg, holdout, seed, index, unseen).build()
