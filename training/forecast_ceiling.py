"""How high can a forecast go on the generated corpus? An oracle that reads the generator's own facts.

    .venv/bin/python -m training.forecast_ceiling [--corpus data/corpus] [--model models/default]

The generator decides each item from its facts and writes some of them into the case summary
(configs/corpus.yaml `summary_evidence`); a forecast can only use what was written. The oracle
is a gradient-boosting model on exactly that, taken from the generator's records instead of the
text: the item's review rule, category and topic, the requested count, which kinds of summary
sentence the letter has (`template_ids` mapped to their slots in configs/templates/sentences.yaml,
e.g. `summary_finding_met`, `summary_fi_no`, `summary_drug_long`), each crossed with the rule,
and the completed count where the summary states it. Summary sentences are recorded per letter,
not per item, so the comparison uses single-item letters, where they belong to the one item.
Trained on the train split's single-item letters, scored on test and test_unseen beside the
classifier's forecast on the same items. It also reports how often the generated summaries state
the deciding fact, beside the real letters' hand-annotated rate.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from nlp.config import default_model_dir
from training.generator import deciding_rule

ROOT = Path(__file__).resolve().parent.parent


def template_slots(corpus_cfg: dict | None = None) -> dict[str, str]:
    """Template id → its slot (kind) in the generator's knowledge base (`corpus_cfg`: the
    generator settings, default configs/corpus.yaml)."""
    from training.corpus import DEFAULT_CONFIG, load_config
    from training.generator.kb import load_kb

    return load_kb(corpus_cfg or load_config(DEFAULT_CONFIG)).template_kinds()


def single_item_letters(dataset, slot_of: dict):
    """(letter id, its one item, the slots of its summary sentences) of each single-item letter."""
    for r in dataset.select_columns(["id", "items", "template_ids"]):
        if len(r["items"]) == 1:
            yield str(r["id"]), r["items"][0], {s for s in (slot_of.get(t) for t in r["template_ids"])
                                                if s and s.startswith("summary_")}


def oracle_rows(dataset, slot_of: dict) -> list[tuple[str, dict, int]]:
    """(letter id, oracle features, overturned) of each single-item letter."""
    out = []
    for letter_id, it, slots in single_item_letters(dataset, slot_of):
        f = {f"rule={it['rule']}": 1.0, f"category={it['treatment_category']}": 1.0, f"topic={it['topic']}": 1.0,
             "requested": float(it["requested_count"] or 0)}
        for s in slots:
            f[f"slot={s}"] = 1.0
            f[f"slot={s}|{it['rule']}"] = 1.0
        if "summary_prior_count" in slots and it["prior_count"]:
            f["completed"] = float(it["prior_count"])
            f["total"] = float((it["requested_count"] or 0) + it["prior_count"])
        out.append((letter_id, f, int(it["decision"] in (1, "overturned"))))
    return out


def evidence_rates(dataset, slot_of: dict, evidence_slots: dict) -> dict:
    """Per review rule, how many single-item letters' summaries state the deciding fact (a
    sentence of the rule's `evidence_slots` kinds), split by decision. A service of a certified
    surgery is judged by the criteria rule; a quantity item counts only after a completed course."""
    counts: dict = {}
    for _, it, slots in single_item_letters(dataset, slot_of):
        facts = json.loads(it["facts"]) if isinstance(it["facts"], str) else (it["facts"] or {})
        rule = deciding_rule(it["rule"], facts)
        if rule not in evidence_slots or (rule == "quantity" and not (it["prior_count"] or 0) > 0):
            continue
        stated = bool(slots & set(evidence_slots[rule]))
        decision = "overturned" if it["decision"] in (1, "overturned") else "upheld"
        for key in (rule, f"{rule}|{decision}"):
            c = counts.setdefault(key, {"stated": 0, "items": 0})
            c["stated"] += stated
            c["items"] += 1
    return {k: dict(v, share=round(v["stated"] / v["items"], 3)) for k, v in sorted(counts.items())}


def real_evidence_rates(path: Path = ROOT / "training" / "real_labels" / "summary_evidence.jsonl") -> dict:
    """The real letters' case facts by how their summaries state them (yes / partial / no)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    facts = [r for r in rows if r["kind"] == "case_fact"]
    return {"case_facts": len(facts), **{k: round(sum(r["in_summary"] == k for r in facts) / len(facts), 3)
                                         for k in ("yes", "partial", "no")}}


def run(corpus: Path, model: Path, seed: int = 0) -> dict:
    from datasets import load_from_disk
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.metrics import roc_auc_score

    from models.features import load_config
    from models.predict import ItemPredictor
    from models.bundle import classifier_dir, load_parser
    from training.classifier import _p_over, load_corpus_split
    from training.corpus import DEFAULT_CONFIG
    from training.corpus import load_config as corpus_config
    from training.dataset_io import dataset_dir

    ds = load_from_disk(str(dataset_dir(corpus)))
    generator_cfg = corpus_config(DEFAULT_CONFIG)
    slot_of = template_slots(generator_cfg)
    train = oracle_rows(ds["train"], slot_of)
    vec = DictVectorizer(sparse=False)
    oracle = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=seed)
    oracle.fit(vec.fit_transform([f for _, f, _ in train]), [y for _, _, y in train])
    forecast = ItemPredictor.load(classifier_dir(model)).models["decision_forecast"]
    parser, cfg = load_parser(model), load_config()
    out = {"train_single_item_letters": len(train),
           "evidence_rates": {"generated_train": evidence_rates(ds["train"], slot_of, generator_cfg["evidence_slots"]),
                              "real": real_evidence_rates()}}
    for split in ("test", "test_unseen"):
        rows = oracle_rows(ds[split], slot_of)
        ids = {i for i, _, _ in rows}
        data = load_corpus_split(corpus, split, parser, cfg)
        keep = [k for k, g in enumerate(data.groups) if g in ids]
        y_model = (np.asarray(data.decision)[keep] == "overturned").astype(int)
        p_model = _p_over(forecast, [data.X[k] for k in keep])
        p_all = _p_over(forecast, data.X)
        out[split] = {
            "single_item_letters": len(rows), "overturned": sum(y for _, _, y in rows),
            "oracle_roc_auc": round(float(roc_auc_score([y for _, _, y in rows],
                                                        oracle.predict_proba(vec.transform([f for _, f, _ in rows]))[:, 1])), 3),
            "model_roc_auc_same_items": round(float(roc_auc_score(y_model, p_model)), 3),
            "model_items_matched": len(keep),
            "model_roc_auc_all_items": round(float(roc_auc_score(data.y_decision() == "overturned", p_all)), 3),
        }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT / "data" / "corpus"))
    ap.add_argument("--model", default=str(default_model_dir()))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(json.dumps(run(Path(args.corpus), Path(args.model), args.seed), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
