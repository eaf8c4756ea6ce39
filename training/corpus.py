"""Build the synthetic training corpus: Hugging Face dataset, Parquet, spaCy DocBins, card.

`build_corpus(n, seed, out)` generates `n` letters with training/generator, splits them into
train / validation / test / test_unseen (test_unseen alone draws the held-out templates, drug
names and treatments chosen from the seed; see docs/CORPUS.md), and writes

    out/hf/                     datasets.DatasetDict.save_to_disk
    out/parquet/<split>.parquet
    out/spacy/{train,dev,test,test_unseen}.spacy
    out/README.md               dataset card (fields, label counts per split, settings, seed)
    out/stats.json, out/holdout.json

`compare_to_real(corpus_dir, real_dir)` compares generated and real letters, `label_mix` their labels.
"""
from __future__ import annotations

import collections
import hashlib
import json
import re
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from training.generator import CATEGORIES, DECISIONS, LAYOUTS, RATIONALES, choose_holdout, generate_letter, load_kb
from nlp.config import config_copy, configs_dir, plain, read_yaml
from nlp.config import load_config as _packaged_config
from training.generator.kb import REPO

DEFAULT_CONFIG = configs_dir() / "corpus.yaml"
SPLITS = ["train", "validation", "test", "test_unseen"]
LABELS = ["DRUG", "SESSION_COUNT", "GUIDELINE"]
SECTIONS = ["header", "summary", "item"]


def load_config(config: Path | str | None = None) -> dict:
    """configs/corpus.yaml, or the file a user names (`--config PATH`), through the one config
    loader (`nlp.config`): a strict mapping (a missing key raises `ConfigError`), a copy the
    caller may change."""
    return read_yaml(config) if config else config_copy(_packaged_config("corpus.yaml"))


# ---------------------------------------------------------------------------- generation
_W: dict = {}


def _init_worker(cfg: dict, seed: int):
    kb = load_kb(cfg)
    _W.update(kb=kb, cfg=cfg, ho=choose_holdout(kb, seed, cfg), seed=seed)


def _gen_chunk(args):
    lo, hi, unseen = args
    return [generate_letter(_W["kb"], _W["cfg"], _W["ho"], _W["seed"], i, unseen) for i in range(lo, hi)]


def split_sizes(n: int, cfg: dict) -> dict:
    shares = cfg["splits"]
    sizes = {s: int(n * float(shares[s])) for s in SPLITS}
    sizes["train"] += n - sum(sizes.values())
    return sizes


def generate_splits(n: int, seed: int, cfg: dict, workers: int | None = None) -> dict:
    """{split: [letter dicts]} — deterministic for (n, seed, cfg) whatever the worker count."""
    sizes = split_sizes(n, cfg)
    workers = max(1, int(workers or cfg["workers"]))
    jobs, owner, lo = [], [], 0
    chunk = 250
    for s in SPLITS:
        hi = lo + sizes[s]
        for a in range(lo, hi, chunk):
            jobs.append((a, min(hi, a + chunk), s == "test_unseen"))
            owner.append(s)
        lo = hi
    out = {s: [] for s in SPLITS}
    if workers == 1 or n <= 500:
        _init_worker(cfg, seed)
        results = map(_gen_chunk, jobs)
    else:
        ex = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(cfg, seed))
        results = ex.map(_gen_chunk, jobs)
    for s, letters in zip(owner, results):
        for L in letters:
            L["split"] = s
            out[s].append(L)
    if workers > 1 and n > 500:
        ex.shutdown()
    # leak-free: no letter text in two splits
    seen = set()
    for s in SPLITS:
        keep = []
        for L in out[s]:
            h = hashlib.sha1(L["text"].encode()).hexdigest()
            if h not in seen:
                seen.add(h)
                keep.append(L)
        out[s] = keep
    return out


# ---------------------------------------------------------------------------- dataset
def features():
    from datasets import ClassLabel, Features, List, Value

    cit = {"text": Value("string"), "source": Value("string"), "document": Value("string"),
           "topic": Value("string"), "pages": List(Value("int32"))}
    ent = {"label": ClassLabel(names=LABELS), "start": Value("int32"), "end": Value("int32"),
           "text": Value("string"), "section": ClassLabel(names=SECTIONS), "item": Value("int32"),
           "clean_start": Value("int32"), "clean_end": Value("int32"),
           "drug_generic": Value("string"), "drug_class": Value("string"),
           "count_min": Value("int32"), "count_max": Value("int32"), "count_unit": Value("string"),
           "count_over_min": Value("int32"), "count_over_max": Value("int32"), "count_over_unit": Value("string"),
           "count_role": Value("string"),
           "guideline_source": Value("string"), "guideline_document": Value("string"),
           "guideline_topic": Value("string"), "guideline_pages": List(Value("int32")),
           "norm": Value("string")}
    item = {"index": Value("int32"), "request": Value("string"), "original_request": Value("string"),
            "decision": ClassLabel(names=DECISIONS), "rationale": ClassLabel(names=RATIONALES),
            "rationale_labels": List(ClassLabel(names=RATIONALES)),
            "treatment_category": ClassLabel(names=CATEGORIES), "treatment_id": Value("string"),
            "topic": Value("string"), "rule": Value("string"), "drug_generic": Value("string"),
            "held_out": Value("bool"),
            "ca_guidelines": List(cit), "reviewer_guidelines": List(cit),
            "heading_start": Value("int32"), "heading_end": Value("int32"),
            "request_start": Value("int32"), "request_end": Value("int32"),
            "original_request_start": Value("int32"), "original_request_end": Value("int32"),
            "ca_start": Value("int32"), "ca_end": Value("int32"),
            "reviewer_start": Value("int32"), "reviewer_end": Value("int32"),
            "rationale_start": Value("int32"), "rationale_end": Value("int32"),
            "requested_count": Value("int32"), "prior_count": Value("int32"),
            "functional_improvement": Value("bool"), "facts": Value("string")}
    return Features({
        "id": Value("string"), "split": Value("string"), "layout": ClassLabel(names=LAYOUTS),
        "era": Value("int32"), "voice": Value("string"),
        "text": Value("string"), "clean_text": Value("string"),
        "case_number": Value("string"),
        "dates": {"assigned": Value("string"), "decision": Value("string"), "ur_denial": Value("string"),
                  "application_received": Value("string")},
        "reviewer_specialties": List(Value("string")),
        "patient": {"age": Value("int32"), "sex": Value("string"), "date_of_injury": Value("string")},
        "summary_start": Value("int32"), "summary_end": Value("int32"),
        "entities": List(ent), "items": List(item),
        "artifacts": List(Value("string")), "template_ids": List(Value("string")),
        "unseen": Value("bool"),
    })


def _flat_entity(e: dict) -> dict:
    n = e["norm"] or {}
    over = n.get("over") or {}
    d = {"label": e["label"], "start": e["start"], "end": e["end"], "text": e["text"], "section": e["section"],
         "item": e["item"], "clean_start": e["clean_start"], "clean_end": e["clean_end"],
         "drug_generic": None, "drug_class": None, "count_min": None, "count_max": None, "count_unit": None,
         "count_over_min": None, "count_over_max": None, "count_over_unit": None, "count_role": None,
         "guideline_source": None, "guideline_document": None, "guideline_topic": None, "guideline_pages": [],
         "norm": json.dumps(n, sort_keys=True)}
    if e["label"] == "DRUG":
        d.update(drug_generic=n.get("generic"), drug_class=n.get("drug_class"))
    elif e["label"] == "SESSION_COUNT":
        d.update(count_min=n.get("min"), count_max=n.get("max"), count_unit=n.get("unit"),
                 count_over_min=over.get("min"), count_over_max=over.get("max"), count_over_unit=over.get("unit"),
                 count_role=n.get("role"))
    else:
        d.update(guideline_source=n.get("source"), guideline_document=n.get("document"),
                 guideline_topic=n.get("topic"), guideline_pages=list(n.get("pages") or []))
    return d


def _flat_item(it: dict) -> dict:
    def sp(key):
        v = it.get(key)
        return (v[0], v[1]) if v else (None, None)
    hs, he = sp("heading_span")
    rs, re_ = sp("request_span")
    os_, oe = sp("original_request_span")
    cs, ce = sp("ca_span")
    vs, ve = sp("reviewer_span")
    as_, ae = sp("rationale_span")
    return {"index": it["index"], "request": it["request"], "original_request": it["original_request"],
            "decision": it["decision"], "rationale": it["rationale"], "rationale_labels": it["rationale_labels"],
            "treatment_category": it["treatment_category"], "treatment_id": it["treatment_id"],
            "topic": it["topic"], "rule": it["rule"], "drug_generic": it["drug_generic"], "held_out": it["held_out"],
            "ca_guidelines": it["ca_guidelines"], "reviewer_guidelines": it["reviewer_guidelines"],
            "heading_start": hs, "heading_end": he, "request_start": rs, "request_end": re_,
            "original_request_start": os_, "original_request_end": oe, "ca_start": cs, "ca_end": ce,
            "reviewer_start": vs, "reviewer_end": ve, "rationale_start": as_, "rationale_end": ae,
            "requested_count": it["requested_count"], "prior_count": it["prior_count"],
            "functional_improvement": it["functional_improvement"],
            "facts": json.dumps(it["facts"], sort_keys=True, default=str)}


def to_row(L: dict) -> dict:
    return {"id": L["id"], "split": L["split"], "layout": L["layout"], "era": L["era"], "voice": L["voice"],
            "text": L["text"], "clean_text": L["clean_text"], "case_number": L["case_number"],
            "dates": L["dates"], "reviewer_specialties": L["reviewer_specialties"], "patient": L["patient"],
            "summary_start": L["summary_span"][0], "summary_end": L["summary_span"][1],
            "entities": [_flat_entity(e) for e in L["entities"]], "items": [_flat_item(i) for i in L["items"]],
            "artifacts": L["artifacts"], "template_ids": L["template_ids"], "unseen": L["unseen"]}


# ---------------------------------------------------------------------------- stats / card
def distinct_bigram_ratio(texts, limit: int = 3000) -> float:
    tot, seen = 0, set()
    for t in texts[:limit]:
        w = re.findall(r"[A-Za-z0-9']+", t.lower())
        for a, b in zip(w, w[1:]):
            seen.add((a, b))
            tot += 1
    return len(seen) / tot if tot else 0.0


def split_stats(letters: list) -> dict:
    items = [i for L in letters for i in L["items"]]
    c = collections.Counter
    ents = c(e["label"] for L in letters for e in L["entities"])
    return {
        "letters": len(letters), "items": len(items),
        "overturn_rate": round(sum(i["decision"] == "overturned" for i in items) / max(1, len(items)), 4),
        "decision": dict(c(i["decision"] for i in items)),
        "rationale": dict(c(i["rationale"] for i in items).most_common()),
        "treatment_category": dict(c(i["treatment_category"] for i in items).most_common()),
        "layout": dict(c(L["layout"] for L in letters)),
        "entities": dict(ents),
        "letters_with_artifacts": sum(bool(L["artifacts"]) for L in letters),
        "items_per_letter": round(len(items) / max(1, len(letters)), 3),
        "overturn_by_category": {k: round(sum(i["decision"] == "overturned" for i in items if i["treatment_category"] == k) / v, 3)
                                 for k, v in c(i["treatment_category"] for i in items).items()},
    }


def _card(stats: dict, cfg: dict, seed: int, n: int, ho: dict, spacy_report: dict, build_s: float) -> str:
    # `configs:` maps every split to its Parquet file, so `datasets.load_dataset(OUT)` keeps the
    # four splits apart (without it the file names' prefixes merged test_unseen into test)
    data_files = [f"  - split: {s}\n    path: parquet/{s}.parquet" for s in SPLITS]
    lines = ["---", "pretty_name: IMR synthetic letters", "language: [en]", "license: mit",
             "task_categories: [token-classification, text-classification]",
             "configs:", "- config_name: default", "  data_files:", *data_files, "---", "",
             "# IMR synthetic Final Determination Letters", "",
             f"Generated by `training/corpus.py` (`build_corpus(n={n}, seed={seed})`) from the knowledge base in "
             "`configs/kb/`, the templates in `configs/templates/` and the drug lexicon `configs/lexicons/drugs.yaml`. "
             "Letters follow the three layouts of SPEC §1; every entity and item carries exact gold annotations. "
             f"Build time: {build_s:.1f} s.", "",
             "## Splits", "",
             "| split | letters | items | overturned | DRUG | SESSION_COUNT | GUIDELINE |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for s in SPLITS:
        st = stats["splits"][s]
        e = st["entities"]
        lines.append(f"| {s} | {st['letters']} | {st['items']} | {st['overturn_rate']:.1%} | {e.get('DRUG', 0)} | {e.get('SESSION_COUNT', 0)} | {e.get('GUIDELINE', 0)} |")
    lines += ["", "**Split design.** `train`, `validation` and `test` are drawn from the same generator with the same "
              "knowledge base; `test_unseen` letters each contain at least one element held out from all other splits: "
              f"{len(ho['treatments'])} treatments ({ho['share_treatments']:.0%} of the KB), "
              f"{len(ho['drugs'])} drugs with {len(ho['drug_names'])} surface names ({ho['share_drug_names']:.0%} of lexicon names) and "
              f"{len(ho['templates'])} paraphrase templates ({ho['share_templates']:.0%}). The held-out sets are chosen "
              "deterministically from the seed (`holdout.json`). Letters are generated from per-letter seeds, so no two splits share a letter; "
              "duplicate texts are dropped.", "",
              "## Label counts per split", ""]
    for key in ("decision", "rationale", "treatment_category", "layout"):
        lines += [f"### {key}", "", "| value | " + " | ".join(SPLITS) + " |", "| --- |" + " --- |" * len(SPLITS)]
        vals = sorted({v for s in SPLITS for v in stats["splits"][s][key]})
        for v in vals:
            lines.append(f"| {v} | " + " | ".join(str(stats["splits"][s][key].get(v, 0)) for s in SPLITS) + " |")
        lines.append("")
    lines += ["## Fields", "",
              "- `text`: the letter as extracted (PDF artifacts on a share of letters: wrapped lines with or without interleaved blank lines, "
              "`\\f` page breaks, redaction gaps, typos); `clean_text`: the same letter before wrapping/page breaks (one paragraph per line).",
              "- `layout` (ClassLabel: " + ", ".join(LAYOUTS) + "), `era` (2013 notice, 2014 classic, 2015, 2016 published form), `voice` (reviewer style).",
              "- `case_number`, `dates` {assigned, decision, ur_denial, application_received}, `patient` {age, sex, date_of_injury}, "
              "`reviewer_specialties` (full words) — null when the letter does not state them.",
              "- `entities`: list of {label (DRUG / SESSION_COUNT / GUIDELINE), start, end (into `text`), text (== text[start:end]), "
              "section (header / summary / item), item (item index or null), clean_start, clean_end (into `clean_text`), "
              "normalized fields drug_generic, drug_class, count_min, count_max, count_unit, count_over_*, count_role, "
              "guideline_source, guideline_document, guideline_topic, guideline_pages, and `norm` (the SPEC §2 value as JSON)}.",
              "- `items`: list of {index, request, original_request, decision (ClassLabel), rationale (ClassLabel), rationale_labels, "
              "treatment_category (ClassLabel), treatment_id, topic, rule, drug_generic, held_out, ca_guidelines / reviewer_guidelines "
              "(normalized citations {text, source, document, topic, pages}), character spans (into `text`) of heading, request, "
              "original_request, ca (Claims Administrator guideline text), reviewer (MAXIMUS guideline text) and rationale, "
              "requested_count, prior_count (-1: unknown amount), functional_improvement, facts (JSON: the sampled facts and the rule path)}. "
              "`facts` (rule path, `favorable`, `rule_decision`) and `held_out` are for analysis: they give the label away and are never classifier features "
              "(`rule` and `topic` are knowledge-base properties of the request, known before review); "
              "the forecast mode may use only the request, the case summary and the claims administrator's guideline.",
              "- `summary_start`/`summary_end`: span of the case summary; `artifacts`, `template_ids` (paraphrase/citation template ids used), `unseen`.",
              "", "spaCy DocBins (`spacy/*.spacy`, by `training.ner.build_docbins`) hold each letter's text as the "
              "pipeline reads it (`nlp.textnorm.normalize_text`), the gold spans mapped onto it through the "
              "normalizer's offsets, tokenized with the project tokenizer (`nlp.ner.tokenizer.blank_pipeline`):", "",
              "| split | letters | entities | not token-aligned |", "| --- | --- | --- | --- |"]
    for k, v in spacy_report.items():
        lines.append(f"| {k} | {v['letters']} | {v['entities']} | {v['not_token_aligned']} |")
    if not spacy_report:
        lines.append("| (not built: `imr corpus build --no-docbins`; `imr train ner` builds its own) | | | |")
    lines += ["", "## Generator settings", "", "```yaml", yaml.safe_dump(plain(cfg), sort_keys=False).strip(), "```", "",
              f"Seed: {seed}. Distinct-bigram ratio (first 3,000 train letters): {stats['distinct_bigram_ratio']:.4f}.", ""]
    return "\n".join(lines)


def build_corpus(n: int, seed: int, out: Path, config: Path = DEFAULT_CONFIG, docbins: bool = True) -> dict:
    """Generate `n` letters and write the dataset, Parquet, DocBins (unless `docbins` is false:
    `imr train all` has its NER step build the DocBins of the letters it trains on) and card."""
    from datasets import Dataset, DatasetDict

    t0 = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_config(config)
    workers = int(cfg["workers"])
    kb = load_kb(cfg)
    ho = choose_holdout(kb, seed, cfg)
    letters = generate_splits(n, seed, cfg, workers)
    t_gen = time.time() - t0
    feats = features()
    rows = {s: [to_row(L) for L in letters[s]] for s in SPLITS}
    dd = DatasetDict({s: Dataset.from_list(rows[s], features=feats) for s in SPLITS})
    dd.save_to_disk(str(out / "hf"))
    (out / "parquet").mkdir(exist_ok=True)
    for s in SPLITS:
        dd[s].to_parquet(str(out / "parquet" / f"{s}.parquet"))
    t_ds = time.time() - t0 - t_gen
    # DocBins for the NER: the normalized letter text (what the pipeline sees), gold spans mapped onto it.
    from training.ner import build_docbins

    spacy_report = build_docbins(out / "hf", out / "spacy", seed=seed, jobs=workers) if docbins else {}
    stats = {"n": n, "seed": seed, "splits": {s: split_stats(letters[s]) for s in SPLITS},
             "distinct_bigram_ratio": round(distinct_bigram_ratio([L["text"] for L in letters["train"]]), 4),
             "distinct": {"templates_used": len({t for s in SPLITS for L in letters[s] for t in L["template_ids"]}),
                          "templates_total": sum(len(v) for v in kb.templates.values()),
                          "drug_generics_used": len({e["norm"]["generic"] for s in SPLITS for L in letters[s] for e in L["entities"] if e["label"] == "DRUG"}),
                          "drug_names_used": len({e["text"].lower() for s in SPLITS for L in letters[s] for e in L["entities"] if e["label"] == "DRUG"}),
                          "treatments_used": len({i["treatment_id"] for s in SPLITS for L in letters[s] for i in L["items"]}),
                          "treatments_total": len(kb.treatments)},
             "spacy": spacy_report}
    hos = ho.summary(kb)
    build_s = time.time() - t0
    stats["timing_s"] = {"generate": round(t_gen, 1), "dataset": round(t_ds, 1), "total": round(build_s, 1)}
    (out / "holdout.json").write_text(json.dumps(hos, indent=1))
    (out / "stats.json").write_text(json.dumps(stats, indent=1))
    (out / "README.md").write_text(_card(stats, cfg, seed, n, hos, spacy_report, build_s))
    return stats


# ---------------------------------------------------------------------------- real vs generated
_FORMS = {"Page(s):": r"Page\(s\):", "Section(s):": r"Section\(s\):",
          "did not cite any medical evidence": r"did not cite any medical evidence",
          "Non-MTUS Citation": r"Non-MTUS Citation", "outside of the MTUS": r"outside of the MTUS",
          "did not base their decision on the MTUS": r"did not base their decision on the MTUS",
          "Official Disability Guidelines": r"Official Disability Guidelines|\bODG\b"}


def _corpus_documents(corpus_dir: Path, limit: int):
    """RawDocuments of a corpus build (its Parquet splits) or of any letters the reader takes."""
    from nlp.reading import iter_documents

    pq = sorted((corpus_dir / "parquet").glob("*.parquet")) if (corpus_dir / "parquet").exists() else []
    for k, doc in enumerate(iter_documents([str(p) for p in pq] or [str(corpus_dir)])):
        if k >= limit:
            return
        yield doc


def compare_to_real(corpus_dir, real_dir, max_generated: int = 2000) -> list[dict]:
    """Rows {metric, generated, real} comparing generated letters with real ones.

    Both sides go through the project's own reader and layout parser (no NER): letter length,
    items per letter, overturn rate, treatment-category mix and citation forms (the share of
    guideline paragraphs, either side, that use each form).
    """
    from nlp.record import build_record, parse_text
    from models.bundle import has_drug

    def metrics(docs):
        n = chars = 0
        items = overturned = 0
        cats, forms, paras = collections.Counter(), collections.Counter(), 0
        for doc in docs:
            if doc.text is None:
                continue
            text, layout, err = parse_text(doc.id, doc.source, doc.text)
            if err is not None:
                continue
            rec = build_record(doc.id, doc.source, text, layout, (), has_drug)
            n += 1
            chars += len(text)
            for it in rec["items"]:
                items += 1
                overturned += it["decision"] == "overturned"
                cats[it["treatment_category"]] += 1
                for side in ("claims_administrator", "reviewer"):
                    span = it["spans"][side]
                    if span:
                        paras += 1
                        forms.update(name for name, rx in _FORMS.items() if re.search(rx, text[span[0]:span[1]]))
        res = {"letters": n, "chars_mean": round(chars / max(1, n)),
               "items_per_letter": round(items / max(1, n), 2),
               "overturn_rate": round(overturned / max(1, items), 3)}
        for c in sorted(cats):
            res[f"category:{c}"] = round(cats[c] / max(1, items), 3)
        for name in _FORMS:
            res[f"citation:{name}"] = round(forms[name] / max(1, paras), 3)
        return res

    from nlp.reading import iter_documents

    g = metrics(_corpus_documents(Path(corpus_dir), max_generated))
    r = metrics(iter_documents([str(real_dir)]))
    keys = list(dict.fromkeys(list(g) + list(r)))
    return [{"metric": k, "generated": g.get(k, 0), "real": r.get(k, 0)} for k in keys]


def label_mix(corpus_dir, real_labels, split: str = "train") -> list[dict]:
    """Rows {metric, generated, real}: the share of each decision, primary rationale and treatment
    category among a corpus split's items (its `stats.json`) and among the hand-labeled real items
    (`training/real_labels/real_items.jsonl`)."""
    stats = Path(corpus_dir) / "stats.json"
    gen = (json.loads(stats.read_text()) if stats.is_file() else {}).get("splits", {}).get(split)
    if not gen or "rationale" not in gen:
        raise ValueError(f"{corpus_dir} has no label counts for its {split} split (stats.json of `imr corpus build`)")
    real = [json.loads(line) for line in Path(real_labels).read_text().splitlines() if line.strip()]
    rows = []
    for field in ("decision", "rationale", "treatment_category"):
        g, r = gen[field], collections.Counter(x[field] for x in real)
        total = sum(g.values())
        for k in sorted(set(g) | set(r), key=lambda k: (-g.get(k, 0), k)):
            rows.append({"metric": f"{field}:{k}", "generated": round(g.get(k, 0) / max(1, total), 3),
                         "real": round(r[k] / max(1, len(real)), 3)})
    return rows


def format_table(rows: list[dict]) -> str:
    out = ["| metric | generated | real |", "| --- | --- | --- |"]
    out += [f"| {r['metric']} | {r['generated']} | {r['real']} |" for r in rows]
    return "\n".join(out)


def main(argv=None) -> int:
    """`python -m training.corpus build --n 20000 --seed 0 --out data/corpus` / `compare --corpus ... --real ...`."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m training.corpus")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--n", type=int, default=20000)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--out", type=Path, default=REPO / "data" / "corpus")
    b.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    c = sub.add_parser("compare")
    c.add_argument("--corpus", type=Path, default=REPO / "data" / "corpus")
    c.add_argument("--real", type=Path, required=True)
    a = ap.parse_args(argv)
    if a.cmd == "build":
        stats = build_corpus(a.n, a.seed, a.out, a.config)
        print(json.dumps({k: stats[k] for k in ("n", "seed", "timing_s", "distinct", "distinct_bigram_ratio", "spacy")}, indent=1))
    else:
        print(format_table(compare_to_real(a.corpus, a.real)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
