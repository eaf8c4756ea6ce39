"""Treatment categories on real letters, and the trained fallback's experiment (docs/CATEGORIES.md).

* `real_items(split)` — the hand-labelled items of the shared real letters (training/real_labels)
  with the request as the parser reads it from the PDF (examples/real). `split` is "dev" (the
  letters not in configs/real/frozen_cases.json) or "frozen".
* `evaluate_dev()` — accuracy and confusion of `nlp.categories` on the development items.
* `evaluate_frozen()` — the frozen items' aggregate accuracy only: no request, no per-item
  result, no confusion leaves this function (the frozen letters are scored once per release).
* `fallback_cv()` — does a character n-gram model of request texts, trained on the generated
  corpus (and on the other folds' development items), help where the knowledge base gives no
  category? Letter-grouped folds (training.real_protocol.letter_folds).
* `build_fallback(out)` — trains the fallback on the corpus and writes it as JSON
  (`nlp.categories.FallbackModel`); ship it as configs/kb/category_fallback.json only if the
  CV says it helps.

Run: `python -m training.category_model dev|cv|build OUT|frozen`. Nothing here prints request
text of a frozen letter; `dev` prints development requests only with `--errors`.
"""
from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from nlp.categories import CATEGORIES, FallbackModel, clean_request, explain, kb_decision
from nlp.config import REPO_ROOT

LABELS = REPO_ROOT / "training" / "real_labels" / "real_items.jsonl"
REAL_PDFS = REPO_ROOT / "examples" / "real"
CORPUS = REPO_ROOT / "data" / "corpus"


# ----------------------------------------------------------------------------- real items
def real_items(split: str = "dev", labels: Path = LABELS, pdfs: Path = REAL_PDFS) -> list[dict]:
    """[{case, index, request, label}] for the hand-labelled items of one split ("dev" or
    "frozen"); `request` is the parser's request of the item (None if the parser missed it)."""
    from nlp.reading import iter_documents
    from nlp.record import parse_text
    from training.real_protocol import load_frozen

    if split not in ("dev", "frozen"):
        raise ValueError(split)
    frozen = load_frozen()
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if (r["case_number"] in frozen) == (split == "frozen")]
    cases = sorted({r["case_number"] for r in rows})
    parsed: dict = {}
    for doc in iter_documents([str(pdfs / f"{c}.pdf") for c in cases]):
        if doc.error is not None:
            continue
        _, layout, err = parse_text(doc.id, doc.source, doc.text or "")
        if err is None and layout is not None:
            for it in layout.items:
                parsed[(doc.id, it.index)] = it.request
    return [{"case": r["case_number"], "index": r["index"], "request": parsed.get((r["case_number"], r["index"])),
             "label": r["treatment_category"]} for r in rows]


def _has_drug():
    from models.bundle import has_drug

    return has_drug


def confusion(pairs) -> dict:
    """{gold: {predicted: count}} of (gold, predicted) pairs."""
    out: dict = collections.defaultdict(collections.Counter)
    for gold, pred in pairs:
        out[gold][pred] += 1
    return {g: dict(c) for g, c in sorted(out.items())}


def evaluate_dev(classify=None, items=None) -> dict:
    """Accuracy, per-source counts and the confusion on the development items."""
    has_drug = _has_drug()
    classify = classify or (lambda r: explain(r, has_drug))
    items = real_items("dev") if items is None else items
    preds = [classify(it["request"] or "") for it in items]
    cats = [getattr(p, "category", p) for p in preds]
    ok = sum(c == it["label"] for c, it in zip(cats, items))
    return {"items": len(items), "letters": len({it["case"] for it in items}), "correct": ok,
            "accuracy": round(ok / max(1, len(items)), 4),
            "sources": dict(collections.Counter(getattr(p, "source", "?") for p in preds)),
            "confusion": confusion((it["label"], c) for it, c in zip(items, cats)),
            "errors": [(it["case"], it["index"], it["label"], c) for it, c in zip(items, cats) if c != it["label"]]}


def evaluate_frozen(classify=None) -> dict:
    """The frozen items' aggregate accuracy (and their number), nothing else."""
    has_drug = _has_drug()
    classify = classify or (lambda r: explain(r, has_drug).category)
    items = real_items("frozen")
    ok = sum(classify(it["request"] or "") == it["label"] for it in items)
    return {"items": len(items), "correct": ok, "accuracy": round(ok / max(1, len(items)), 4)}


# ----------------------------------------------------------------------------- fallback model
def corpus_requests(corpus: Path = CORPUS, split: str = "train") -> list[tuple[str, str]]:
    """Distinct (request, category) pairs of a generated corpus split."""
    from datasets import load_from_disk

    from training.dataset_io import dataset_dir, decoded_rows

    ds = load_from_disk(str(dataset_dir(corpus)))[split]
    seen = {}
    for row in decoded_rows(ds.select_columns(["items"])):
        for it in row["items"]:
            seen.setdefault(clean_request(it["request"]), it["treatment_category"])
    return sorted(seen.items())


def _matrix(texts, lo, hi, buckets):
    from scipy.sparse import csr_matrix

    data, rows, cols = [], [], []
    for i, t in enumerate(texts):
        for k, v in FallbackModel.features(t, lo, hi, buckets).items():
            rows.append(i)
            cols.append(k)
            data.append(v)
    return csr_matrix((data, (rows, cols)), shape=(len(texts), buckets))


def train_fallback(pairs, ngram=(2, 5), buckets: int = 2 ** 18, C: float = 10.0, threshold: float = 0.6,
                   prune: float = 1e-3, meta: dict | None = None) -> FallbackModel:
    """A multinomial logistic regression on hashed char n-grams of `pairs` (text, category)."""
    from sklearn.linear_model import LogisticRegression

    texts, y = [p[0] for p in pairs], [p[1] for p in pairs]
    X = _matrix(texts, ngram[0], ngram[1], buckets)
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(X, y)
    coef = clf.coef_ if len(clf.classes_) > 2 else [-clf.coef_[0], clf.coef_[0]]
    intercept = clf.intercept_ if len(clf.classes_) > 2 else [-clf.intercept_[0], clf.intercept_[0]]
    rows = [{str(j): round(float(w), 4) for j, w in enumerate(r) if abs(w) >= prune} for r in coef]
    return FallbackModel({"ngram": list(ngram), "buckets": buckets, "classes": [str(c) for c in clf.classes_],
                          "coef": rows, "intercept": [round(float(b), 4) for b in intercept],
                          "threshold": threshold, "meta": meta or {"train_pairs": len(pairs)}})


def model_json(m: FallbackModel) -> dict:
    return {"ngram": [m.lo, m.hi], "buckets": m.buckets, "classes": m.classes,
            "coef": [{str(k): v for k, v in sorted(r.items())} for r in m.coef],
            "intercept": m.intercept, "threshold": m.threshold, "meta": m.meta}


def fallback_cv(k: int = 5, repeats: int = 3, corpus: Path = CORPUS, with_dev: bool = True) -> dict:
    """Letter-grouped CV on the development items: knowledge base alone vs knowledge base +
    fallback (the fallback decides only where the knowledge base gives none), and the fallback
    alone. Each fold's fallback trains on the corpus and, with `with_dev`, on the development
    items of the other folds' letters."""
    from training.real_protocol import check_not_frozen, letter_folds

    has_drug = _has_drug()
    items = real_items("dev")
    check_not_frozen([it["case"] for it in items], "category fallback CV")
    base = corpus_requests(corpus)
    kb = [kb_decision(it["request"] or "", has_drug) for it in items]
    res = {"items": len(items), "kb_undecided": sum(d is None for d in kb), "repeats": []}
    for rep in range(repeats):
        folds = letter_folds([it["case"] for it in items], rep, k)
        kb_ok = comb_ok = alone_ok = reached = reached_ok = 0
        for f in range(k):
            train = list(base)
            if with_dev:
                train += [(clean_request(it["request"] or ""), it["label"]) for it in items if folds[it["case"]] != f]
            model = train_fallback(train)
            for it, d in zip(items, kb):
                if folds[it["case"]] != f:
                    continue
                probs = model.proba(clean_request(it["request"] or ""))
                best = max(probs, key=probs.get)
                alone_ok += best == it["label"]
                kb_cat = d.category if d else "other"
                kb_ok += kb_cat == it["label"]
                if d is None and probs[best] >= model.threshold:
                    reached += 1
                    reached_ok += best == it["label"]
                    comb_ok += best == it["label"]
                else:
                    comb_ok += kb_cat == it["label"]
        n = len(items)
        res["repeats"].append({"kb": round(kb_ok / n, 4), "kb_plus_fallback": round(comb_ok / n, 4),
                               "fallback_alone": round(alone_ok / n, 4), "fallback_decided": reached,
                               "fallback_decided_correct": reached_ok})
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.category_model")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dev", help="accuracy and confusion on the development items")
    d.add_argument("--errors", action="store_true", help="also print the misclassified development requests")
    sub.add_parser("cv", help="letter-grouped CV of the trained fallback on the development items")
    b = sub.add_parser("build", help="train the fallback on the corpus and write its JSON")
    b.add_argument("out")
    sub.add_parser("frozen", help="the frozen items' aggregate accuracy (once per release)")
    a = ap.parse_args(argv)
    if a.cmd == "dev":
        r = evaluate_dev()
        if a.errors:
            items = {(it["case"], it["index"]): it["request"] for it in real_items("dev")}
            r["errors"] = [(*e, items[(e[0], e[1])]) for e in r["errors"]]
        print(json.dumps(r, indent=1))
    elif a.cmd == "cv":
        print(json.dumps(fallback_cv(), indent=1))
    elif a.cmd == "build":
        m = train_fallback(corpus_requests())
        Path(a.out).write_text(json.dumps(model_json(m), separators=(",", ":")), encoding="utf-8")
        print(json.dumps({"out": a.out, "classes": m.classes, "features": sum(len(r) for r in m.coef)}))
    elif a.cmd == "frozen":
        print(json.dumps(evaluate_frozen()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
