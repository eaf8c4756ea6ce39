"""Case sampling and the review rules that decide each disputed item.

Facts are sampled first (with a latent "favorable" draw whose probability sets the overall
overturn rate); the decision is then a function of the facts by the topic's rule
(configs/kb/rules.yaml), and a configurable share of reviewers depart from the rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CATEGORIES = ["pharmaceuticals", "physical_therapy", "chiropractic", "acupuncture",
              "diagnostic_imaging", "diagnostic_testing", "surgery", "injections", "dmepos",
              "behavioral_health", "evaluation_management", "programs", "home_health", "other"]
RATIONALES = ["not_recommended", "exceeds_guideline_quantity", "no_functional_improvement",
              "insufficient_documentation", "guideline_criteria_met", "depends_on_denied_request"]
DECISIONS = ["upheld", "overturned"]
LAYOUTS = ["dwc_2014", "dwc_2013_notice", "dwc_2015"]
_COMPOUND_INGREDIENTS = {"ketoprofen", "flurbiprofen", "diclofenac", "cyclobenzaprine", "baclofen", "gabapentin", "lidocaine",
                         "capsaicin", "menthol", "camphor", "dextromethorphan", "amitriptyline", "tramadol", "methyl salicylate",
                         "orphenadrine", "ibuprofen", "naproxen", "prilocaine", "bupivacaine"}
REGIONS = ["lumbar", "cervical", "thoracic", "shoulder", "knee", "hip", "wrist", "elbow", "ankle", "head", "psych"]


def ends_in_single_letter(name: str) -> bool:
    """"vitamin d", "Lido-K": before a sentence's period the tokenizer reads "d." / "K." as an
    abbreviation, so the name would not end on a token boundary."""
    return len(name) > 2 and not name[-2].isalnum() and name[-1].isalpha()


def deciding_rule(rule: str, facts: dict) -> str:
    """The review rule that decided an item: a service of a surgery that was not denied (`depends`)
    is judged on its own criteria, and only criteria-judged items have a `criterion`."""
    return "criteria" if "criterion" in facts else rule


def wchoice(rng, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


@dataclass
class Item:
    index: int
    tid: str                  # treatment id (drug items: "rx_<class>")
    cat: str
    topic: str
    rule: str
    region: str
    drug: dict | None = None  # lexicon entry for drug items
    drug_name: str | None = None
    compound: list | None = None  # [(drug entry, name)] for compounded creams
    n: int | None = None      # requested count (counted services)
    unit: str | None = None
    prior: int | None = None  # completed count (None: none; -1: unknown amount)
    fi: bool | None = None
    facts: dict = field(default_factory=dict)
    decision: str = "upheld"
    rationale: str = "not_recommended"
    labels: list = field(default_factory=list)
    parent: int | None = None  # index of the surgery an associated service serves
    assoc: bool = False
    partial: dict | None = None
    held: bool = False


class Sampler:
    def __init__(self, kb, cfg, holdout, rng, unseen: bool):
        self.kb, self.cfg, self.ho, self.rng, self.unseen = kb, cfg, holdout, rng, unseen

    # ---- pools -------------------------------------------------------------------------
    def treatment_ok(self, tid: str) -> bool:
        return self.unseen or tid not in self.ho.treatments

    def drug_ok(self, d: dict) -> bool:
        return self.unseen or d["generic"] not in self.ho.drugs

    def drugs_of(self, cls: str) -> list:
        return [d for d in self.kb.drugs_by_class.get(cls, []) if self.drug_ok(d)]

    # ---- items -------------------------------------------------------------------------
    def pick_treatment(self, cat: str, region: str | None, force_held: bool = False):
        kb = self.kb
        ids = [t for t in kb.by_cat[cat] if self.treatment_ok(t) and not kb.treatments[t].get("assoc")]
        if force_held:
            ids = [t for t in ids if t in self.ho.treatments]
        if region:
            fit = [t for t in ids if region in kb.treatments[t]["regions"] or "any" in kb.treatments[t]["regions"]]
            if fit:
                ids = fit
        if not ids:
            return None
        return kb.treatments[self.rng.choice(ids)]

    def drug_name(self, d: dict) -> str:
        for _ in range(4):
            name = self._drug_name(d)
            if not ends_in_single_letter(name):
                return name
        return name

    def _drug_name(self, d: dict) -> str:
        r = self.rng.random()
        if r < 0.45 or (r < 0.9 and not d["brands"]):
            return d["names"][0]
        if r < 0.9:
            return self.rng.choice(d["brands"])
        return self.rng.choice(d["names"])

    def make_drug_item(self, index: int, region: str, force_held: bool = False) -> Item | None:
        rng, kb = self.rng, self.kb
        pw = self.cfg["pharma_class_mix"]
        for _ in range(20):
            cls = wchoice(rng, pw)
            pool = self.drugs_of(cls)
            if force_held:
                pool = [d for d in pool if d["generic"] in self.ho.drugs]
            if pool:
                break
        else:
            pool = [d for d in kb.drugs if self.drug_ok(d) and (not force_held or d["generic"] in self.ho.drugs)]
            if not pool:
                return None
            cls = None
        d = rng.choice(pool)
        cls = d["class"]
        spec = kb.drug_overrides.get(d["generic"]) or kb.drug_classes.get(cls) or kb.drug_classes["other"]
        topic = spec["topic"]
        it = Item(index=index, tid=f"rx_{cls}", cat="pharmaceuticals", topic=topic,
                  rule=kb.topics[topic]["rule"], region=region, drug=d, drug_name=self.drug_name(d),
                  held=d["generic"] in self.ho.drugs)
        it.facts["refs"] = spec
        if cls in ("compounded", "topical_analgesic") and rng.random() < 0.45:
            ing = [x for x in kb.drugs if self.drug_ok(x) and x["generic"] in _COMPOUND_INGREDIENTS]
            ing = list({x["generic"]: x for x in ing}.values())
            if len(ing) >= 3:
                chosen = rng.sample(ing, 3)
                it.compound = [(x, x["names"][0]) for x in chosen]
                it.topic = "rx_compounded"
                it.rule = kb.topics["rx_compounded"]["rule"]
                it.tid = "rx_compounded"
                it.facts["refs"] = kb.drug_classes.get("compounded") or spec
                it.held = any(x["generic"] in self.ho.drugs for x in chosen)
        return it

    def make_item(self, index: int, cat: str, region: str, force_held: bool = False) -> Item | None:
        if cat == "pharmaceuticals":
            return self.make_drug_item(index, region, force_held)
        t = self.pick_treatment(cat, region, force_held)
        if t is None:
            return None
        reg = region if (region in t["regions"] or "any" in t["regions"]) else self.rng.choice(
            [r for r in t["regions"] if r != "any"] or [region])
        it = Item(index=index, tid=t["id"], cat=cat, topic=t["topic"], rule=self.kb.topics[t["topic"]]["rule"],
                  region=reg, held=t["id"] in self.ho.treatments)
        if t.get("counts"):
            it.n = self.rng.choice(t["counts"])
            it.unit = t.get("unit", "session")
        return it

    def sample_items(self) -> list[Item]:
        rng, cfg, kb = self.rng, self.cfg, self.kb
        n_items = int(wchoice(rng, {int(k): v for k, v in cfg["items_per_letter"].items()}))
        items: list[Item] = []
        region = None
        force_first = None
        certified = False
        if self.unseen:
            force_first = "drug" if (rng.random() < 0.5 and any(d["generic"] in self.ho.drugs for d in kb.drugs)) else "treatment"
        tries = 0
        while len(items) < n_items and tries < 50:
            tries += 1
            idx = len(items) + 1
            if force_first and not items:
                if force_first == "drug":
                    it = self.make_drug_item(idx, region or rng.choice(REGIONS[:-1]), force_held=True)
                else:
                    cat = rng.choice(sorted({kb.treatments[t]["cat"] for t in self.ho.treatments}))
                    it = self.make_item(idx, cat, None, force_held=True)
                    if it is not None:
                        region = it.region
            else:
                cat = wchoice(rng, cfg["category_mix"])
                if region is None:
                    region = rng.choice(REGIONS[:-1]) if cat != "behavioral_health" else "psych"
                if cat == "surgery" and certified:
                    continue  # the letter's surgery was certified: no other surgery is disputed
                it = self.make_item(idx, cat, region)
            if it is None:
                continue
            if region is None:
                region = it.region
            items.append(it)
            t = kb.treatments.get(it.tid)
            if t and t.get("surgery") and len(items) < n_items + 2 and rng.random() < cfg["associated_services"]:
                assoc = [a for a in kb.treatments.values() if a.get("assoc") and self.treatment_ok(a["id"])
                         and (it.region in a["regions"] or "any" in a["regions"])]
                subs = []
                for a in rng.sample(assoc, k=min(len(assoc), rng.randint(1, 3))):
                    j = len(items) + 1
                    sub = Item(index=j, tid=a["id"], cat=a["cat"], topic=a["topic"], rule="depends",
                               region=it.region, parent=it.index, assoc=True)
                    if a.get("counts"):
                        sub.n = rng.choice(a["counts"])
                        sub.unit = a.get("unit", "session")
                    items.append(sub)
                    subs.append(sub)
                cert = cfg["certified_surgery"]
                alone = not any(x.cat == "surgery" for x in items if x is not it)
                if subs and alone and not it.held and rng.random() < cert["share"]:
                    # UR certified the surgery; only its associated services are disputed
                    items.remove(it)
                    certified = True
                    for k, sub in enumerate(subs, it.index):
                        sub.index, sub.parent = k, None
                        sub.facts["certified_surgery"] = t["short"]
        return items[:max(n_items, len(items))]

    # ---- decisions ---------------------------------------------------------------------
    def p_favorable(self, it: Item) -> float:
        cfg = self.cfg
        if "certified_surgery" in it.facts:
            return float(cfg["certified_surgery"]["favorable"])
        p = cfg["base_favorable"] * cfg["category_overturn_multiplier"].get(it.cat, 1.0)
        p *= cfg["rule_overturn_multiplier"].get(it.rule, 1.0)
        return min(0.95, p)

    def decide(self, items: list[Item]):
        rng, kb = self.rng, self.kb
        by_index = {it.index: it for it in items}
        for it in items:
            topic = kb.topics[it.topic]
            fav = rng.random() < self.p_favorable(it)
            f = it.facts
            f["favorable"] = fav
            rule = it.rule
            labels: list[str]
            if rule == "depends":
                parent = by_index.get(it.parent)
                if parent is not None and parent.decision == "upheld":
                    dec, labels = "upheld", ["depends_on_denied_request"]
                else:
                    rule = "criteria"
            if rule == "quantity":
                trial, mx = int(topic["trial"]), int(topic["max"])
                n = it.n or trial
                if fav:
                    if rng.random() < 0.5:
                        it.prior, it.fi = None, None
                        it.n = n = min(n, trial)
                        f["path"] = "trial_ok"
                    else:
                        it.prior = rng.choice([x for x in (2, 3, 4, 6, 8) if x < mx] or [2])
                        it.fi = True
                        it.n = n = max(1, min(n, mx - it.prior))
                        f["path"] = "total_ok"
                    dec, labels = "overturned", ["guideline_criteria_met"]
                else:
                    mode = wchoice(rng, {"exceeds": 0.4, "no_fi": 0.4, "unknown": 0.2})
                    if mode == "exceeds":
                        if rng.random() < 0.5:
                            it.prior = None
                            if n <= trial:
                                it.n = n = trial + rng.choice([2, 4, 6, 6, 12])
                        else:
                            it.prior = rng.choice([6, 8, 10, 12, 18, 24])
                            it.fi = True
                            if it.prior + n <= mx:
                                it.n = n = mx - it.prior + rng.choice([2, 4, 6])
                        dec, labels = "upheld", ["exceeds_guideline_quantity"]
                        f["path"] = "exceeds"
                    elif mode == "no_fi":
                        it.prior = rng.choice([4, 6, 8, 10, 12, 16, 20, 24])
                        it.fi = False
                        dec, labels = "upheld", ["no_functional_improvement"]
                        if it.prior + n > mx:
                            labels.append("exceeds_guideline_quantity")
                        f["path"] = "no_fi"
                    else:
                        it.prior = -1
                        it.fi = None
                        if n <= trial:
                            it.n = n = trial + rng.choice([2, 6, 12])
                        dec, labels = "upheld", ["exceeds_guideline_quantity", "insufficient_documentation"]
                        f["path"] = "unknown_prior"
            elif rule == "criteria":
                crit = topic.get("criteria") or ["the clinical findings that support the request"]
                if "certified_surgery" in f:
                    crit = [c for c in crit if c not in topic.get("surgery_criteria", ())] or crit
                f["criterion"] = rng.choice(crit)
                if fav:
                    dec, labels = "overturned", ["guideline_criteria_met"]
                    f["path"] = "criteria_met"
                elif topic.get("condition") and rng.random() < 0.3:
                    dec, labels = "upheld", ["not_recommended"]
                    f["path"] = "not_indicated"
                else:
                    dec, labels = "upheld", ["insufficient_documentation"]
                    f["path"] = "gap"
                    if rng.random() < 0.25:
                        labels.append("not_recommended")
            elif rule == "not_recommended":
                f["condition"] = topic.get("condition", "an exceptional indication")
                if fav:
                    dec, labels = "overturned", ["guideline_criteria_met"]
                    f["path"] = "exception"
                else:
                    dec, labels = "upheld", ["not_recommended"]
                    f["path"] = "not_recommended"
                    if rng.random() < 0.35:
                        labels.append("insufficient_documentation")
            elif rule == "ongoing_fi":
                if fav:
                    it.fi, f["monitoring"] = True, True
                    dec, labels = "overturned", ["guideline_criteria_met"]
                    f["path"] = "ongoing_ok"
                else:
                    it.fi = rng.random() < 0.3
                    f["monitoring"] = False
                    dec = "upheld"
                    labels = ["insufficient_documentation"] if it.fi else ["no_functional_improvement", "insufficient_documentation"][: rng.choice([1, 2])]
                    f["path"] = "ongoing_no"
            elif rule == "short_term":
                if fav:
                    f["long_term"] = False
                    dec, labels = "overturned", ["guideline_criteria_met"]
                    f["path"] = "short_ok"
                else:
                    f["long_term"] = True
                    dec, labels = "upheld", ["not_recommended"]
                    if rng.random() < 0.3:
                        labels.append("no_functional_improvement")
                    if rng.random() < 0.25:
                        labels.append("insufficient_documentation")
                    f["path"] = "long_term"
            if it.drug is not None and it.rule != "short_term":
                f["long_term"] = rng.random() < 0.6
            f["rule_decision"] = dec
            f["disagreement"] = False
            if rng.random() < self.cfg["disagreement"] and "depends_on_denied_request" not in labels:
                f["disagreement"] = True
                if dec == "upheld":
                    dec, labels = "overturned", ["guideline_criteria_met"]
                else:
                    dec, labels = "upheld", ["insufficient_documentation"]
            it.decision, it.labels = dec, labels
            it.rationale = labels[0]
            # partial authorization: a counted request the claims administrator cut down
            if it.n and it.unit in ("session", "visit") and it.n >= 6 and not it.assoc and rng.random() < self.cfg["partial_authorization"]:
                auth = max(1, it.n // rng.choice([2, 3]))
                it.partial = {"original": it.n + auth, "authorized": auth}
