"""The layers import downwards only: nlp < models < training < imr.

nlp/ (letters → records) imports nothing of models/, training/ or imr/; models/ (the
scikit-learn side) nothing of training/ or imr/; training/ nothing of imr/ (the application:
CLI, batch engine, web serve, reports, commands). Every import counts: module-level and inside
functions, `import x` and `from x import y`, relative imports resolved against their package.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("nlp", "models", "training", "imr")  # lowest first
RANK = {name: i for i, name in enumerate(LAYERS)}


def _imported_modules(node: ast.AST, package: list[str]) -> list[str]:
    """The absolute module names an import node reaches (`package`: the dotted package of the file)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:  # relative: `from . import x` / `from ..a import b`
            base = package[: len(package) - (node.level - 1)] if node.level <= len(package) else []
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        return [module]
    return []


def layer_violations(root: Path = ROOT) -> list[str]:
    found = []
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            rel = path.relative_to(root)
            package = list(rel.parent.parts)  # a module's (and an __init__'s) package
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
            for node in sorted((n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))),
                               key=lambda n: n.lineno):
                for module in _imported_modules(node, package):
                    top = module.split(".")[0]
                    if top in RANK and RANK[top] > RANK[layer]:
                        found.append(f"{rel}:{node.lineno}: {layer}/ imports {module} "
                                     f"(layer {top}/ is above {layer}/; order {' < '.join(LAYERS)})")
    return found


def test_every_layer_exists():
    for layer in LAYERS:
        assert (ROOT / layer / "__init__.py").is_file(), f"{layer}/ is not a package"


def test_imports_point_down_only():
    found = layer_violations()
    assert not found, "imports that point up a layer:\n" + "\n".join(found)


def test_the_check_sees_function_level_and_relative_imports(tmp_path):
    (tmp_path / "nlp" / "sub").mkdir(parents=True)
    for layer in LAYERS[1:]:
        (tmp_path / layer).mkdir()
    (tmp_path / "nlp" / "sub" / "mod.py").write_text(
        "import os\n"
        "def f():\n"
        "    from training.x import y\n"
        "    import imr.cli\n")
    (tmp_path / "nlp" / "sub" / "rel.py").write_text("from . import mod\nfrom ..reading import x\n")
    (tmp_path / "training" / "ok.py").write_text("from nlp import reading\nimport models.persistence\n")
    found = layer_violations(tmp_path)
    assert [f.split(":")[:2] for f in found] == [["nlp/sub/mod.py", "3"], ["nlp/sub/mod.py", "4"]], found
