"""The direction of imports inside compactbert (docs/ARCHITECTURE.md): a module imports only from its own layer or
the layers below it, and nothing outside `cli/` imports `cli/`.

Read from the source with `ast`, so an import inside a function counts too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "compactbert"

# module or package -> layer; the longest matching prefix wins. The table in docs/ARCHITECTURE.md says the same.
LAYERS: dict[str, int] = {
    "compactbert.models": 0,
    "compactbert.registries": 0,  # the registry shape: standard library only
    "compactbert": 1,  # the package root: lazy names and __version__
    "compactbert.assets": 1,
    "compactbert.hardware": 1,
    "compactbert.lazy": 1,  # PEP 562 lazy names for packages that keep torch out of their import
    "compactbert.fields": 1,
    "compactbert.io": 1,
    "compactbert.timing": 1,  # ratios of timings paired per round (no torch: bench reports re-score anywhere)
    "compactbert.data_files": 1,  # which file names are data files (standard library only)
    "compactbert.checkpoints": 1,
    "compactbert.sentence_embeddings": 1,  # a sentence-transformers pipeline carried to the model made from it
    "compactbert.records": 1,  # metrics.json, the record beside each trained model: reading, writing, its task's place
    "compactbert.loss_logging": 1,
    "compactbert.hub": 1,  # the package root, card rendering and validation: what every saved folder gets
    "compactbert.hub.card": 1,
    "compactbert.hub.validate": 1,
    "compactbert.hub.gate": 1,  # the quality gate: pure functions over metrics
    "compactbert.hub.public": 1,  # how uploaded files name this machine's paths (by their run)
    "compactbert.export.formats": 1,  # the export formats and runtimes as plain records (cards name runtimes)
    "compactbert.data": 2,
    "compactbert.inference": 2,
    "compactbert.export": 2,  # ONNX / OpenVINO export and the runtime backends of compactbert.inference
    "compactbert.shrinking": 2,
    "compactbert.pruning": 2,
    "compactbert.conversion": 2,
    "compactbert.finetune": 3,
    "compactbert.evaluation": 3,  # a classifier scored on a task split, against the majority, its teacher, the gate
    "compactbert.distillation": 4,
    "compactbert.pretraining": 4,
    "compactbert.hub.build": 5,
    "compactbert.hub.builders": 5,
    "compactbert.hub.recipe": 5,
    "compactbert.hub.push": 5,
    "compactbert.hub.remote": 5,  # what a Hub repository already holds of a folder (publish skips the rest)
    "compactbert.hub.compare": 5,
    "compactbert.bench": 5,
    "compactbert.demo": 6,
    "compactbert.cli": 7,
}


def layer_of(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise KeyError(f"{module} is in no layer: add it to LAYERS here and to the table in docs/ARCHITECTURE.md")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def compactbert_imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every compactbert import in the file, relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                target = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # each imported name, resolved by `owner` to the deepest module that exists (a submodule or its package)
            targets = [f"{target}.{alias.name}" for alias in node.names]
            found += [(node.lineno, t) for t in targets if t.split(".")[0] == "compactbert"]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "compactbert"]
    return found


def owner(target: str) -> str:
    """The module an imported name lives in (`compactbert.hub.card.write_card` -> `compactbert.hub.card`)."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = SRC.parent.joinpath(*parts[:end])
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts[:end])
    return target


SOURCES = sorted(SRC.rglob("*.py"))


def upward_imports(path: Path) -> list[str]:
    here = module_name(path)
    problems = []
    for line, target in compactbert_imports(path):
        there = owner(target)
        if layer_of(there) > layer_of(here):
            problems.append(
                f"{path.relative_to(SRC.parent)}:{line} {here} (layer {layer_of(here)}) imports "
                f"{there} (layer {layer_of(there)})"
            )
    return problems


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(SRC).as_posix())
def test_imports_run_down_the_layers(path):
    assert upward_imports(path) == []


@pytest.mark.parametrize("path", sorted(SRC.glob("models/*/*_*.py")), ids=lambda p: p.name)
def test_model_files_import_only_their_own_folder(path):
    """What `register_for_auto_class` uploads must work as remote code: torch, transformers and its own folder only."""
    family = module_name(path).rpartition(".")[0]
    outside = [t for _, t in compactbert_imports(path) if not owner(t).startswith(family)]
    assert outside == []


def test_the_check_sees_an_upward_import(tmp_path):
    """The rule can fail: a models/ file importing hub/, and a module importing cli/, are both reported."""
    fake_src = tmp_path / "compactbert"
    (fake_src / "models").mkdir(parents=True)
    (fake_src / "hub").mkdir()
    (fake_src / "cli").mkdir()
    for package in (fake_src, fake_src / "models", fake_src / "hub", fake_src / "cli"):
        (package / "__init__.py").write_text("")
    (fake_src / "hub" / "build.py").write_text("")
    (fake_src / "models" / "bad.py").write_text("def f():\n    from ..hub import build\n")
    (fake_src / "finetune.py").write_text("from compactbert.cli import main\n")
    saved = SRC
    globals()["SRC"] = fake_src  # the helpers read the module-level SRC
    try:
        assert "imports compactbert.hub.build (layer 5)" in upward_imports(fake_src / "models" / "bad.py")[0]
        assert "imports compactbert.cli (layer 7)" in upward_imports(fake_src / "finetune.py")[0]
    finally:
        globals()["SRC"] = saved


def test_every_module_has_a_layer():
    for path in SOURCES:
        layer_of(module_name(path))
