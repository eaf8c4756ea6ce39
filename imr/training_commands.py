"""Handlers of `imr corpus`, `imr train` and `imr evaluate` (wired in imr/cli.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from nlp.config import REPO_ROOT, configs_dir, default_model_dir
from training.dataset_io import dataset_dir

DEFAULT_CORPUS = REPO_ROOT / "data" / "corpus"
DEFAULT_MODEL = default_model_dir()
RUNS = REPO_ROOT / "runs"


# ------------------------------------------------------------------------------ corpus
def corpus_build(args) -> int:
    from training.corpus import build_corpus

    stats = build_corpus(args.n, args.seed, Path(args.out), Path(args.config), docbins=args.docbins)
    print(json.dumps({k: stats.get(k) for k in ("n", "seed", "timing_s", "distinct", "distinct_bigram_ratio")},
                     indent=1, default=str))
    return 0


def corpus_from_letters(args) -> int:
    from training.real_corpus import build_from_letters

    print(json.dumps(build_from_letters(args.inputs, args.out, args.model), indent=1))
    return 0


def corpus_compare(args) -> int:
    from training.corpus import compare_to_real, format_table, label_mix

    rows = compare_to_real(args.corpus, args.real, max_generated=args.max_generated)
    if args.labels:
        try:
            rows += label_mix(args.corpus, args.labels)
        except (ValueError, OSError) as e:
            print(f"label mix left out: {e}", file=sys.stderr)
    print(format_table(rows))
    return 0


# ------------------------------------------------------------------------------ NER
def train_ner(args) -> int:
    from training.ner import assemble, build_docbins, reassemble, train

    if getattr(args, "reassemble", None):
        out = reassemble(args.reassemble, args.out)
        print(f"NER pipeline reassembled into {out}", file=sys.stderr)
        return 0
    docbins = Path(args.docbins)
    if not (docbins / "train.spacy").is_file() or args.rebuild_docbins:
        limit = {"train": args.max_letters, "validation": max(50, args.max_letters // 10)} if args.max_letters else None
        gold = [(args.gold_letters, g) for g in (getattr(args, "gold", None) or ())]
        exclude = set()
        for x in getattr(args, "real_exclude", None) or ():
            exclude.update(_letter_ids(x))
        print(json.dumps(build_docbins(dataset_dir(args.corpus), docbins, limit=limit, seed=args.seed,
                                       real=args.real or (), real_repeat=args.real_repeat,
                                       real_trust=args.real_trust, gold=gold,
                                       gold_repeat=getattr(args, "gold_repeat", 4), real_exclude=exclude)), file=sys.stderr)
    best = train(docbins, Path(args.runs), Path(args.config), max_steps=args.max_steps, seed=args.seed)
    out = assemble(best, Path(args.out))
    if not getattr(args, "no_count_roles", False):  # the count role model reads the new pipeline's rule roles
        from training.count_roles import train_count_roles as fit_roles

        summary = fit_roles(out)
        print(f"count role model ({summary['examples']} counts) trained", file=sys.stderr)
    print(f"NER pipeline saved to {out}", file=sys.stderr)
    return 0


def train_count_roles(args) -> int:
    from training.count_roles import evaluate_count_roles, train_count_roles as fit

    if args.evaluate:
        rows = evaluate_count_roles(args.ner)
        print("| set | counts | rules | model | how |\n| --- | ---: | ---: | ---: | --- |")
        for r in rows:
            print(f"| {r['set']} | {r['counts']} | {r['rules']:.3f} | {r['model']:.3f} | {r['how']} |")
        for how in ("left out", "held back"):
            part = [r for r in rows if r["how"] == how]
            n = sum(r["counts"] for r in part)
            if n:
                print(f"| all {how} | {n} | {sum(r['rules'] * r['counts'] for r in part) / n:.3f} "
                      f"| {sum(r['model'] * r['counts'] for r in part) / n:.3f} | {how} |")
        return 0
    summary = fit(args.ner, args.out or args.ner)
    print(json.dumps(summary), file=sys.stderr)
    print(f"count role model ({summary['examples']} counts) saved in {args.out or args.ner}", file=sys.stderr)
    return 0


def _letter_ids(spec: str) -> set[str]:
    """Letter ids from `spec`: a directory of gold files (their stems), a JSON file (a list of ids,
    or an object whose list values are ids, e.g. `selection.json`'s "heldback" via FILE:KEY), or
    one id."""
    path, _, key = spec.partition(":") if ":" in spec and not Path(spec).exists() else (spec, "", "")
    p = Path(path)
    if p.is_dir():
        return {g.stem for g in p.glob("*.json")}
    if p.is_file():
        data = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data[key] if key else [x for v in data.values() if isinstance(v, list) for x in v]
        return {str(x) for x in data}
    return {spec}


def evaluate_ner(args) -> int:
    from training.ner_evaluate import corpus_letters, evaluate, gold_letters
    from models.bundle import ner_dir

    pipeline = ner_dir(args.model)
    if pipeline is None:
        print("imr evaluate ner: no NER pipeline (train one with `imr train ner` or pass --model)", file=sys.stderr)
        return 2
    results = {"pipeline": str(pipeline)}
    if args.letters and args.gold:
        results["letters"] = evaluate(pipeline, list(gold_letters(args.letters, args.gold)))
    for real in args.real or ():
        from training.ner_evaluate import real_letters

        results[f"real_silver:{Path(real).name}"] = evaluate(pipeline, list(real_letters(real)), peer=False)
    for split in args.splits:
        letters = list(corpus_letters(dataset_dir(args.corpus), split, args.limit))
        results[split] = evaluate(pipeline, letters)
        holdout = Path(args.corpus) / "holdout.json"
        if split == "test_unseen" and holdout.is_file():
            from training.ner_evaluate import heldout_drug_recall

            names = set(json.loads(holdout.read_text())["drug_names"])
            results["test_unseen_heldout_drug_recall"] = heldout_drug_recall(pipeline, letters, names)
    text = json.dumps(results, indent=1)
    if "test_unseen_heldout_drug_recall" in results:
        print("recall on drug names held out of training (test_unseen): "
              + json.dumps(results["test_unseen_heldout_drug_recall"]), file=sys.stderr)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(_ner_table(results))
    return 0


def evaluate_report(args) -> int:
    from imr.report import corpus_gold, evaluate_to_dir, letters_gold, summary_line

    if not args.data:
        print("imr evaluate: --data is required (a corpus build, or letters)", file=sys.stderr)
        return 2
    corpus = len(args.data) == 1 and (dataset_dir(args.data[0]) / "dataset_dict.json").is_file()
    pairs = corpus_gold(args.data[0], args.split, args.limit) if corpus else letters_gold(args.data)
    source = f"{args.data[0]} ({args.split})" if corpus else " ".join(args.data)
    # a corpus split holds none of the real letters of the bundle's real_oof.json
    m = evaluate_to_dir(pairs, args.model, args.out, source, threshold=args.threshold, real_oof=not corpus)
    print(f"{summary_line(m)} -> {Path(args.out) / 'report.html'}", file=sys.stderr)
    return 0


def _probability(value: str) -> float:
    import argparse

    p = float(value)
    if not 0.0 <= p <= 1.0:  # NaN fails too
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return p


def _ner_table(results: dict) -> str:
    rows = ["| data | variant | DRUG F1 | SESSION_COUNT F1 | GUIDELINE F1 | micro F1 (strict) | micro F1 (lenient) "
            "| DRUGs not in lexicon |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for data, variants in results.items():
        if not isinstance(variants, dict) or data.endswith("heldout_drug_recall"):
            continue
        for name, r in variants.items():
            s = r["strict"]
            f = [str(s[lab]["f1"]) if lab in s else "" for lab in ("DRUG", "SESSION_COUNT", "GUIDELINE")]
            rows.append(f"| {data} | {name} | {' | '.join(f)} | {s['micro']['f1']} | {r['lenient']['micro']['f1']} "
                        f"| {r.get('drugs_not_in_lexicon', '')} |")
    # normalization where the span is right (strict matches), of the whole pipeline
    keys = ("drug_generic_accuracy", "drug_class_accuracy", "guideline_accuracy", "count_accuracy",
            "count_role_accuracy")
    rows += ["", "| data | drug generic | drug class | guideline (source, pages) | count (min, max, unit) | count role |",
             "| --- | --- | --- | --- | --- | --- |"]
    for data, variants in results.items():
        norm = variants.get("combined", {}).get("normalization") if isinstance(variants, dict) else None
        if norm:
            rows.append(f"| {data} | " + " | ".join("" if norm.get(k) is None else str(norm[k]) for k in keys) + " |")
    return "\n".join(rows)


def train_all(args) -> int:
    """corpus (unless it exists) → NER → classifier, each from its config in configs/."""
    import argparse

    from imr import classifier_commands as clf

    corpus = Path(args.corpus)
    if not (dataset_dir(corpus) / "dataset_dict.json").is_file():
        corpus_build(argparse.Namespace(n=args.n, seed=args.seed, out=str(corpus), docbins=False,  # the NER step builds its own
                                        config=str(configs_dir() / "corpus.yaml")))
    real = []
    if args.real:
        from models.bundle import ner_dir
        from training.real_corpus import build_from_letters

        if ner_dir(None) is None:  # silver entities need a current pipeline
            print("imr train all: no current NER pipeline for silver entities; real letters skipped", file=sys.stderr)
        else:
            real_out = Path(args.corpus).parent / "real"
            print(json.dumps(build_from_letters(args.real, real_out)), file=sys.stderr)
            real = [str(real_out)]
    ner_args = argparse.Namespace(corpus=str(corpus), docbins=str(corpus.parent / "ner_docbins"),
                                  rebuild_docbins=True, max_letters=args.ner_letters, max_steps=args.ner_max_steps,
                                  config=str(configs_dir() / "ner.cfg"), runs=str(Path(args.runs) / "ner"),
                                  seed=args.seed, out=str(Path(args.out) / "ner"), real=real,
                                  real_repeat=args.real_repeat, real_trust="drugs")
    if train_ner(ner_args):
        return 1
    clf_parser = argparse.ArgumentParser()
    clf.add_train_arguments(clf_parser)
    clf_argv = ["--corpus", str(dataset_dir(corpus)), "--out", str(Path(args.out) / "classifier"),
                "--seed", str(args.seed), "--ner", str(Path(args.out) / "ner")]  # features from the NER just trained
    if args.classifier_max_letters:
        clf_argv += ["--max-letters", str(args.classifier_max_letters)]
    if args.no_real_cv:
        clf_argv.append("--no-real-cv")
    return clf.train_classifier(clf_parser.parse_args(clf_argv))


def add_subcommands(sub) -> None:
    """`imr corpus ...`, `imr train ...`, `imr evaluate ...`."""
    from imr import classifier_commands as clf

    c = sub.add_parser("corpus", help="build, import and compare training corpora")
    csub = c.add_subparsers(dest="corpus_command", required=True)
    p = csub.add_parser("build", help="generate letters with gold annotations → datasets, Parquet, DocBins")
    p.add_argument("--n", type=int, default=20000, help="letters to generate")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same corpus)")
    p.add_argument("--out", default=str(DEFAULT_CORPUS), help="corpus directory to write")
    p.add_argument("--config", default=str(configs_dir() / "corpus.yaml"), help="corpus generator settings")
    p.add_argument("--no-docbins", dest="docbins", action="store_false",
                   help="skip the spaCy DocBins of every letter (imr train ner builds the ones it trains on)")
    p.set_defaults(func=corpus_build)
    p = csub.add_parser("from-letters", help="real letters → the same dataset shape (labels from their own words)")
    p.add_argument("inputs", nargs="+", help="letters: files, directories (recursive) or glob patterns")
    p.add_argument("--out", required=True, help="dataset directory to write")
    p.add_argument("--model", default=None, help="NER pipeline for the silver entities (default: bundled)")
    p.set_defaults(func=corpus_from_letters)
    p = csub.add_parser("compare", help="generated vs real letters: length, items, overturn rate, categories, citations, label mix")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="generated corpus directory")
    p.add_argument("--real", default=str(REPO_ROOT / "examples" / "real"), help="real letters (file, dir or glob)")
    p.add_argument("--max-generated", type=int, default=2000, help="generated letters to compare")
    p.add_argument("--labels", default=str(REPO_ROOT / "training" / "real_labels" / "real_items.jsonl"),
                   help="hand labels of the real items: adds the label mix of the corpus's train split beside "
                        "theirs ('' to leave it out)")
    p.set_defaults(func=corpus_compare)

    t = sub.add_parser("train", help="train the NER pipeline and the classifier")
    tsub = t.add_subparsers(dest="train_command", required=True)
    p = tsub.add_parser("ner", help="corpus → DocBins → spacy train configs/ner.cfg → assembled pipeline")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="generated corpus directory")
    p.add_argument("--docbins", default=str(REPO_ROOT / "data" / "ner_docbins"), help="spaCy DocBins directory")
    p.add_argument("--rebuild-docbins", action="store_true", help="rebuild the DocBins even when they exist")
    p.add_argument("--max-letters", type=int, default=4000, help="training letters (0: all)")
    p.add_argument("--max-steps", type=int, default=None, help="override training.max_steps of the config")
    p.add_argument("--real", action="append", default=None, metavar="DATASET",
                   help="a dataset of real letters (`imr corpus from-letters`; silver entities) to add to training; repeatable")
    p.add_argument("--real-repeat", type=int, default=4, help="times each real letter is added (default 4)")
    p.add_argument("--real-trust", choices=["drugs", "all"], default="drugs",
                   help="silver entities taken as annotated: DRUGs only, other entities' sentences missing (default), or all")
    p.add_argument("--gold", action="append", default=None, metavar="GOLD_DIR",
                   help="hand-annotated real letters (SPEC §5 gold files, e.g. training/real_ner_gold/develop) "
                        "to add to training with every entity trusted; repeatable. Never a held-back test half")
    p.add_argument("--gold-letters", default=str(REPO_ROOT / "examples" / "real"),
                   help="the letters of --gold (<id>.txt or <id>.pdf; default examples/real)")
    p.add_argument("--gold-repeat", type=int, default=4, help="times each gold letter is added (default 4)")
    p.add_argument("--real-exclude", action="append", default=None, metavar="IDS",
                   help="letters left out of the --real silver sets: a gold directory, a JSON list of ids, "
                        "FILE.json:KEY (e.g. training/real_ner_gold/selection.json:heldback) or one id; "
                        "repeatable. Letters of --gold are always left out of the silver sets")
    p.add_argument("--config", default=str(configs_dir() / "ner.cfg"), help="spaCy training config")
    p.add_argument("--runs", default=str(RUNS / "ner"), help="training runs (spaCy checkpoints)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default=str(DEFAULT_MODEL / "ner"), help="assembled pipeline directory to write")
    p.add_argument("--no-count-roles", action="store_true",
                   help="leave the count role model untrained (the cue-word rules' roles); by default it is "
                        "trained on configs/ner/count_roles.yaml's letters once the pipeline is assembled")
    p.add_argument("--reassemble", metavar="PIPELINE", default=None,
                   help="no training: take the trained tok2vec and ner of this assembled pipeline and assemble "
                        "them anew with the current configs (tokenizer rules, span rules, lexicons) into --out")
    p.set_defaults(func=train_ner)
    p = tsub.add_parser("count-roles", help="hand-annotated letters → the count role model of an assembled NER "
                                            "pipeline (sets in configs/ner/count_roles.yaml)")
    p.add_argument("--ner", default=str(DEFAULT_MODEL / "ner"), help="assembled NER pipeline (default: the bundled one)")
    p.add_argument("--out", default=None, help="where to save the pipeline with the model (default: --ner, in place)")
    p.add_argument("--evaluate", action="store_true",
                   help="write nothing: role accuracy of the rules and of the model per set, each training set "
                        "left out in turn, the held-back sets scored by the model fitted on all")
    p.set_defaults(func=train_count_roles)
    p = tsub.add_parser("all", help="every stage: corpus (if missing) → NER → classifier")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="generated corpus directory (built if missing)")
    p.add_argument("--n", type=int, default=20000, help="letters to generate when the corpus is missing")
    p.add_argument("--ner-letters", type=int, default=4000, help="NER training letters (0: all)")
    p.add_argument("--real", nargs="*", default=[str(REPO_ROOT / "examples" / "real")], metavar="INPUT",
                   help="real letters whose silver entities (current pipeline) join NER training (default: examples/real)")
    p.add_argument("--real-repeat", type=int, default=4, help="times each real letter is added to NER training")
    p.add_argument("--ner-max-steps", type=int, default=None, help="override the NER config's max_steps (quick runs)")
    p.add_argument("--classifier-max-letters", type=int, default=None, help="cap letters per split for the classifier (quick runs)")
    p.add_argument("--no-real-cv", action="store_true", help="skip the classifier's letter-grouped CV on real letters")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--runs", default=str(RUNS), help="training runs (spaCy checkpoints)")
    p.add_argument("--out", default=str(DEFAULT_MODEL), help="model bundle directory to write (ner/, classifier/)")
    p.set_defaults(func=train_all)
    p = tsub.add_parser("classifier", help="item examples → decision and rationale models with a model card")
    clf.add_train_arguments(p)
    p.set_defaults(func=clf.train_classifier)

    e = sub.add_parser("evaluate", help="score labelled letters → metrics.json + report.html (or: ner, classifier)",
                       description="Without a subcommand: score --data with --model and write metrics.json and "
                                   "report.html to --out. `ner` and `classifier` give the detailed tables.")
    e.add_argument("--data", nargs="+", help="a corpus build directory, or letters (files, dirs, globs)")
    e.add_argument("--split", default="test", help="corpus split (default: test)")
    e.add_argument("--limit", type=int, default=None, help="letters (corpus data)")
    e.add_argument("--model", default=None, help="model bundle (default: the bundled one)")
    e.add_argument("--out", default="report", help="output directory (default: report/)")
    e.add_argument("--threshold", type=_probability, default=None,
                   help="forecast decision: overturned when P(overturned) >= this (default: the model card's "
                        "thresholds.decision_forecast, else 0.5)")
    e.set_defaults(func=evaluate_report)
    esub = e.add_subparsers(dest="evaluate_command", required=False)
    p = esub.add_parser("ner", help="strict/lenient P/R/F per label and normalization accuracy")
    p.add_argument("--model", default=None, help="model bundle or spaCy pipeline (default: bundled)")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="generated corpus directory")
    p.add_argument("--splits", nargs="*", default=["test", "test_unseen"], help="corpus splits to score")
    p.add_argument("--limit", type=int, default=None, help="letters per split")
    p.add_argument("--letters", default=str(REPO_ROOT / "examples" / "letters"),
                   help="shared letters scored against --gold")
    p.add_argument("--gold", default=str(REPO_ROOT / "examples" / "gold"), help="gold annotations of --letters")
    p.add_argument("--real", action="append", default=None, metavar="DATASET",
                   help="also score against the silver entities of a real-letter dataset (`imr corpus from-letters`)")
    p.add_argument("--out", default=None, help="write the full results as JSON")
    p.set_defaults(func=evaluate_ner)
    p = esub.add_parser("classifier", help="decision and rationale metrics, read and forecast, with baselines")
    clf.add_evaluate_arguments(p)
    p.set_defaults(func=clf.evaluate_classifier)
