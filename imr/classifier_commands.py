"""Handlers for `imr train classifier` and `imr evaluate classifier` (wired by imr/cli.py).

    from imr.classifier_commands import add_train_arguments, add_evaluate_arguments, train_classifier, evaluate_classifier
    p = sub.add_parser("classifier"); add_train_arguments(p); p.set_defaults(func=train_classifier)

Each handler takes the argparse namespace and returns an exit code (0 ok, 2 bad input, 3 a model
that fails its integrity check). Every attribute is optional (read with getattr), so a caller may
build the namespace by hand. Settings not given on the command line come from
configs/classifier.yaml (or `--config`).
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def add_train_arguments(p) -> None:
    p.add_argument("--real", nargs="+", default=None, metavar="LETTERS",
                   help="real letters (PDF/txt files, dirs, globs): each item heading states its decision, the "
                        "training label (default: configs/classifier.yaml training.real_letters); the frozen "
                        "subset (configs/real/frozen_cases.json) is set aside and scored once")
    p.add_argument("--no-generated", action="store_true",
                   help="real letters only: no generated corpus for the read/rationale heads or the forecast prior")
    p.add_argument("--written", nargs="*", default=None, metavar="DIR",
                   help="written letters with gold (dirs holding letters/ and gold/) for the read and rationale "
                        "heads (default: configs/classifier.yaml training.written_letters; none given: none); "
                        "the forecast learns from models.forecast.written_letters (null: the same)")
    p.add_argument("--repeats", type=int, default=None, help="repeats of the letter-grouped real CV (default: config)")
    p.add_argument("--release", action="store_true",
                   help="score the frozen real subset once with the final models (a bundled release; "
                        "development runs never look at it)")
    p.add_argument("--generated-first", action="store_true",
                   help="the earlier training: generated corpus splits with C chosen on generated validation")
    p.add_argument("--corpus", default=None, help="generated corpus (DatasetDict dir; default: configs/classifier.yaml training.corpus)")
    p.add_argument("--out", default=None, help="model directory to write (default: models/default/classifier)")
    p.add_argument("--config", default=None, help="classifier settings YAML (default: configs/classifier.yaml)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: config)")
    p.add_argument("--max-letters", type=int, default=None, help="cap letters per corpus split (quick runs)")
    p.add_argument("--no-real", action="store_true", help="do not use the real letters")
    p.add_argument("--no-real-cv", action="store_true", help="skip the letter-grouped CV on the real letters")
    p.add_argument("--no-hgb", action="store_true", help="skip the HistGradientBoosting comparison")
    p.add_argument("--metrics", default=None, help="metrics JSON path (default: <out>/metrics.json)")
    p.add_argument("--ner", default=None, help="NER pipeline or model bundle whose entities the features read "
                                               "(default: the bundled one); score with the same NER")


def add_evaluate_arguments(p) -> None:
    p.add_argument("--model", default=None, help="model directory (default: models/default/classifier)")
    p.add_argument("--corpus", default=None, help="generated corpus (default: configs/classifier.yaml training.corpus)")
    p.add_argument("--config", default=None, help="classifier settings YAML (default: configs/classifier.yaml)")
    p.add_argument("--max-letters", type=int, default=None, help="cap letters per corpus split (quick runs)")
    p.add_argument("--no-real", action="store_true", help="do not score the real letters")
    p.add_argument("--metrics", default=None, help="write the metrics JSON here")
    p.add_argument("--ner", default=None, help="NER pipeline or bundle (default: the model bundle's own ner/, "
                                               "else the bundled one)")


def _cfg(args):
    from models.features import load_config

    path = getattr(args, "config", None)
    if path and not Path(path).is_file():
        raise FileNotFoundError(f"no such config: {path}")
    return load_config(path)


def _print_headline(h: dict) -> None:
    for block, vals in h.items():
        print(f"{block}: " + ", ".join(f"{k}={v}" for k, v in vals.items()), file=sys.stderr)


def train_classifier(args) -> int:
    """`imr train classifier`: real letters first (training.real_first), or `--generated-first`
    (training.classifier.run_training)."""
    from training.real_protocol import FrozenLetterError

    try:
        cfg = _cfg(args)
    except FileNotFoundError as exc:
        print(f"imr train classifier: {exc}", file=sys.stderr)
        return 2
    opt = lambda name, default=None: getattr(args, name, default)  # noqa: E731
    try:
        if opt("generated_first", False):
            from training.classifier import run_training

            m = run_training(cfg, corpus=opt("corpus"), out=opt("out"), seed=opt("seed"), max_letters=opt("max_letters"),
                             real=not opt("no_real", False), real_cv_enabled=not opt("no_real_cv", False),
                             hgb=not opt("no_hgb", False), metrics_path=opt("metrics"), ner_model=opt("ner"))
        else:
            from training.real_first import run_real_first

            m = run_real_first(cfg, real=opt("real"), corpus=opt("corpus"), out=opt("out"), seed=opt("seed"),
                               ner_model=opt("ner"), generated=not opt("no_generated", False),
                               repeats=0 if opt("no_real_cv", False) else opt("repeats"),
                               metrics_path=opt("metrics"), max_letters=opt("max_letters"),
                               score_frozen=opt("release", False), written=opt("written"))
    except (ValueError, FrozenLetterError) as exc:
        print(f"imr train classifier: {exc}", file=sys.stderr)
        return 2
    _print_headline(m.get("headline") or {})
    print(f"imr train classifier: models in {m['model_dir']} ({sum(m['artifacts'].values()) / 1e6:.1f} MB), "
          f"{m['train_seconds']} s", file=sys.stderr)
    return 0


def evaluate_classifier(args) -> int:
    from models.persistence import ModelLoadError
    from training.classifier import ROOT, run_evaluation

    try:
        cfg = _cfg(args)
    except FileNotFoundError as exc:
        print(f"imr evaluate classifier: {exc}", file=sys.stderr)
        return 2
    model = getattr(args, "model", None) or (ROOT / cfg["training"]["out"])
    ner = getattr(args, "ner", None)
    if ner is None and (Path(model).parent / "ner" / "config.cfg").is_file():
        ner = Path(model).parent / "ner"  # the NER trained with this classifier
    try:
        out = run_evaluation(model, cfg, corpus=getattr(args, "corpus", None),
                             max_letters=getattr(args, "max_letters", None), real=not getattr(args, "no_real", False),
                             metrics_path=getattr(args, "metrics", None), ner_model=ner)
    except ModelLoadError as exc:
        print(f"imr evaluate classifier: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    for split, res in out.items():
        if isinstance(res, dict) and "decision_read" in res:
            print(f"{split}: read decision macro-F1={res['decision_read']['macro_f1']}, "
                  f"forecast ROC-AUC={res['decision_forecast']['roc_auc']}, "
                  f"rationale macro-F1={res['rationale_read']['macro_f1']}", file=sys.stderr)
    if not getattr(args, "metrics", None):
        print(json.dumps(out, indent=2, default=str))
    return 0
