"""A wheel that works anywhere (issue 17): from a copy of the source tree (what a fresh clone holds),
`pip wheel .`, install it into a new virtual environment outside the checkout, and from an
empty folder run `imr parse` (also `cat letter.txt | imr parse - --out -`) and `imr score` with
the bundled models; `spacy package` the installed NER pipeline and `spacy.load` it by name there.

The new environment gets the wheel alone (`--no-deps`); the dependencies come from this test's
own environment through a .pth file, which adds its site-packages as a plain path (so neither
its .pth files nor the checkout's editable install take effect: `nlp`, `configs` and `models`
are the wheel's, as the first test checks). The .pth is written after installing, so pip never
sees, nor touches, this environment's packages."""
from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import LETTERS, REAL, ROOT

pytestmark = pytest.mark.slow  # about a minute: builds two wheels, runs four fresh processes

# what a clone does not have (.gitignore), or this test does not need
_SKIP_TOP = {".git", "data", "out", "runs", "build", "dist", "report", "analytics", ".pytest_cache", ".hypothesis"}
LABELS = {"DRUG", "GUIDELINE", "SESSION_COUNT"}


def _ignore(folder: str, names: list[str]) -> list[str]:
    top = Path(folder) == ROOT
    return [n for n in names if (top and (n in _SKIP_TOP or n.startswith(".venv"))) or n == "__pycache__"
            or n.endswith((".egg-info", ".pyc", ".jsonl.tmp"))]


def _run(args: list, timeout: int = 600, **kw) -> subprocess.CompletedProcess:
    res = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)
    assert res.returncode == 0, f"{args[:4]} exited {res.returncode}:\n{res.stderr[-4000:]}"
    return res


def _build_isolation() -> list[str]:
    """Build with this environment's setuptools when it is new enough (no download)."""
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return []
    return ["--no-build-isolation"] if major >= 77 else []


def _wheel(src: Path, dist: Path) -> Path:
    before = set(dist.glob("*.whl")) if dist.is_dir() else set()
    _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", *_build_isolation(), "-q", "-w", dist])
    (new,) = set(dist.glob("*.whl")) - before
    return new


@dataclass
class Venv:
    root: Path
    python: Path
    bin: Path
    site: Path
    deps: Path  # the .pth giving it this environment's packages
    home: Path

    def env(self) -> dict:
        """A clean environment: no IMR_CONFIGS, no PYTHONPATH, no VIRTUAL_ENV of the checkout."""
        return {"PATH": f"{self.bin}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(self.home),
                "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

    def run(self, args: list, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
        return _run(args, timeout=timeout, cwd=cwd, env=self.env())

    @contextlib.contextmanager
    def without_deps(self):
        off = self.deps.with_suffix(".off")
        self.deps.rename(off)
        try:
            yield
        finally:
            off.rename(self.deps)

    def install(self, wheel: Path) -> None:
        with self.without_deps():  # pip sees the new environment alone
            _run([sys.executable, "-m", "pip", "--python", self.python, "install", "--no-deps", "--no-index", "-q",
                  wheel])


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Venv:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_ignore, symlinks=True)
    wheel = _wheel(src, tmp / "dist")
    assert wheel.name.startswith("imr_nlp-")
    root = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", root])
    python = root / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    deps = site / "_imr_test_deps.pth"
    deps.write_text("", encoding="utf-8")
    env = Venv(root, python, root / "bin", site, deps, tmp / "home")
    env.home.mkdir()
    env.install(wheel)
    paths = sysconfig.get_paths()
    deps.write_text("\n".join(dict.fromkeys([paths["purelib"], paths["platlib"]])) + "\n", encoding="utf-8")
    return env


@pytest.fixture()
def empty(tmp_path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_the_new_environment_runs_the_wheel_not_the_checkout(venv, empty):
    probe = ("import json, importlib.metadata as md, configs, imr, models, nlp, nlp.config as c\n"
             "print(json.dumps({'files': [nlp.__file__, configs.__file__, models.__file__, imr.__file__],\n"
             "                  'configs': str(c.configs_dir()), 'models': str(c.default_model_dir()),\n"
             "                  'dist': str(md.distribution('imr-nlp').locate_file(''))}))")
    got = json.loads(venv.run([venv.python, "-c", probe], cwd=empty).stdout)
    for path in got["files"] + [got["configs"], got["models"], got["dist"]]:
        assert Path(path).resolve().is_relative_to(venv.site.resolve()), path
    assert (Path(got["configs"]) / "layouts.yaml").is_file() and (Path(got["configs"]) / "ner" / "tokenizer.yaml").is_file()
    assert (Path(got["models"]) / "ner" / "config.cfg").is_file()
    assert (Path(got["models"]) / "classifier" / "model_card.json").is_file()


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_imr_parse_and_score_from_an_empty_folder(venv, empty, tmp_path):
    letter = sorted(LETTERS.glob("*.txt"))[0]
    shutil.copyfile(letter, empty / "letter.txt")
    shutil.copyfile(sorted(REAL.glob("*.pdf"))[0], empty / "some.pdf")

    venv.run(["imr", "parse", "letter.txt", "--out", "parsed.jsonl"], cwd=empty)
    (rec,) = _records(empty / "parsed.jsonl")
    assert rec["error"] is None and rec["items"]
    assert rec["entities"] and {e["label"] for e in rec["entities"]} <= LABELS
    # the same record as the checkout makes of the letter
    _run([sys.executable, "-m", "imr", "parse", empty / "letter.txt", "--out", tmp_path / "ref.jsonl"], cwd=ROOT)
    (ref,) = _records(tmp_path / "ref.jsonl")
    assert (rec["entities"], rec["items"]) == (ref["entities"], ref["items"])
    # cat letter.txt | imr parse - --out -: records on stdout, nothing else
    piped = subprocess.run(["imr", "parse", "-", "--out", "-"], input=(empty / "letter.txt").read_bytes(),
                           capture_output=True, cwd=empty, env=venv.env(), timeout=600)
    assert piped.returncode == 0, piped.stderr.decode(errors="replace")[-2000:]
    (streamed,) = [json.loads(line) for line in piped.stdout.decode().splitlines() if line.strip()]
    assert (streamed["entities"], streamed["items"]) == (ref["entities"], ref["items"])

    venv.run(["imr", "score", "some.pdf", "--out", "scored.jsonl"], cwd=empty)
    (rec,) = _records(empty / "scored.jsonl")
    assert rec["error"] is None and rec["entities"] and rec["items"]
    for item in rec["items"]:
        assert item["prediction"]["decision"] in {"upheld", "overturned"}
        assert 0.0 <= item["prediction"]["p_overturned"] <= 1.0


_LOAD_BY_NAME = """
import json, sys
import spacy
from nlp.config import default_model_dir
from nlp.ner.runtime import entity_dicts
from nlp.textnorm import normalize_text

text = normalize_text(open(sys.argv[1], encoding="utf-8").read())
packaged = spacy.load("en_imr_ner")
bundled = spacy.load(default_model_dir() / "ner")
print(json.dumps({"packaged": entity_dicts(packaged(text)), "bundled": entity_dicts(bundled(text)),
                  "meta": {k: packaged.meta.get(k) for k in ("name", "version", "license")}}))
"""


def test_spacy_package_of_the_installed_ner_loads_by_name(venv, empty, tmp_path):
    ner = venv.site / "models" / "default" / "ner"
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    venv.run([venv.python, "-m", "spacy", "package", ner, pkg, "--build", "none"], cwd=empty)
    (src,) = pkg.glob("en_imr_ner-*")
    wheel = _wheel(src, tmp_path / "dist")
    assert wheel.name.startswith("en_imr_ner-")
    venv.install(wheel)
    shutil.copyfile(sorted(LETTERS.glob("*.txt"))[0], empty / "letter.txt")
    got = json.loads(venv.run([venv.python, "-c", _LOAD_BY_NAME, "letter.txt"], cwd=empty).stdout.strip().splitlines()[-1])
    assert got["packaged"] and got["packaged"] == got["bundled"]
    assert {e["label"] for e in got["packaged"]} <= LABELS
    assert got["meta"]["name"] == "imr_ner" and got["meta"]["license"] == "MIT"
    assert got["meta"]["version"] == importlib.metadata.version("imr-nlp")
