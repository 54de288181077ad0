"""Offline checks of what we publish: a card's YAML metadata, and whether a folder is ready to push.

The allowed `pipeline_tag`, `license` and Space `sdk` values are data (`hub/data/*.txt`), not code, so updating
them when the Hub adds a value is a one-line change. These checks run in `compactbert build` (the card it renders
must pass) and in `compactbert push` (before anything is sent), and the tests wire the local Hub stand-in's
`validate-yaml` endpoint to `validate_card`, so the client's own pre-commit check sees the same rules.

They do not replace the Hub's checks (which may be stricter or change): they catch our own mistakes before a
network round trip, and keep them from reaching a public repository.
"""

from __future__ import annotations

import ast
import json
import math
import re
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"
# Same pattern as huggingface_hub.repocard.REGEX_YAML_BLOCK: the front matter between the first two `---` lines.
_YAML_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model", "vocab.json")
# files and folders never uploaded: VCS and cache folders, Python bytecode, our own partial writes
SKIPPED_PARTS = (".git", ".cache", "__pycache__", ".ipynb_checkpoints")


@cache
def allowed_values(name: str) -> frozenset[str]:
    """The values listed in `hub/data/<name>.txt` (`pipeline_tags`, `licenses`, `space_sdks`)."""
    path = DATA / f"{name}.txt"
    if not path.is_file():
        raise ValueError(
            f"no list of allowed values named '{name}'; expected one of: pipeline_tags, licenses, space_sdks"
        )
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line)


def card_metadata(text: str) -> dict | None:
    """The YAML front matter of a card as a dict (`None` when there is none). Raises `yaml.YAMLError` if invalid."""
    match = _YAML_BLOCK.search(text)
    if match is None:
        return None
    return yaml.safe_load(match.group(2))


def validate_card(text: str, repo_type: str = "model") -> list[str]:
    """Problems with a card's metadata (empty list: it passes).

    A model card needs: YAML that parses into a mapping; `license` from `licenses.txt` (`other` with
    `license_name` + `license_link`); `library_name`; `pipeline_tag` from `pipeline_tags.txt`; list-of-strings
    `tags` / `datasets` / `metrics` / `base_model` / `language`; and `model-index` results that are complete
    (task type, dataset type + name + split, and metrics with a type and a finite number as value). A Space card
    needs `sdk` from `space_sdks.txt` and a known `license` when it names one.
    """
    try:
        data = card_metadata(text)
    except yaml.YAMLError as err:
        return [f"the YAML metadata does not parse: {' '.join(str(err).split())}"]
    if data is None:
        return ["no YAML metadata block: a card starts with '---', the metadata, and '---'"]
    if not isinstance(data, dict):
        return [f"the YAML metadata must be a mapping of key: value, got {type(data).__name__}"]
    errors: list[str] = []
    for key in ("tags", "datasets", "metrics", "language", "base_model"):
        value = data.get(key)
        if value is not None and not (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            errors.append(f"'{key}' must be a string or a list of strings, got {value!r}")
    errors += _check_license(data, required=repo_type == "model")
    if repo_type == "space":
        sdks = allowed_values("space_sdks")
        if data.get("sdk") not in sdks:
            errors.append(f"'sdk' is {data.get('sdk')!r}; a Space needs one of: {', '.join(sorted(sdks))}")
        return errors
    if not isinstance(data.get("library_name"), str):
        errors.append("'library_name' is missing; expected e.g. 'transformers'")
    tags = allowed_values("pipeline_tags")
    if data.get("pipeline_tag") not in tags:
        errors.append(
            f"'pipeline_tag' is {data.get('pipeline_tag')!r}; expected a Hub task such as text-classification"
        )
    if "model-index" in data:
        errors += _check_model_index(data["model-index"], tags)
    return errors


def _check_license(data: dict, required: bool) -> list[str]:
    license_ = data.get("license")
    if license_ is None:
        return ["'license' is missing; expected an id such as apache-2.0"] if required else []
    if license_ not in allowed_values("licenses"):
        return [f"'license' {license_!r} is not a known license id (see compactbert/hub/data/licenses.txt)"]
    if license_ == "other" and not (data.get("license_name") and data.get("license_link")):
        return ["'license: other' needs 'license_name' and 'license_link'"]
    return []


def _check_model_index(model_index, tags: frozenset[str]) -> list[str]:
    if not isinstance(model_index, list) or not model_index:
        return ["'model-index' must be a non-empty list"]
    errors = []
    for i, entry in enumerate(model_index):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            errors.append(f"model-index[{i}] needs a 'name'")
            continue
        results = entry.get("results")
        if not isinstance(results, list) or not results:
            errors.append(f"model-index[{i}].results must be a non-empty list")
            continue
        for j, result in enumerate(results):
            where = f"model-index[{i}].results[{j}]"
            task, dataset, metrics = (
                result.get(k) if isinstance(result, dict) else None for k in ("task", "dataset", "metrics")
            )
            if not isinstance(task, dict) or task.get("type") not in tags:
                errors.append(f"{where}.task.type must be a Hub task such as text-classification")
            if not isinstance(dataset, dict) or not all(
                isinstance(dataset.get(k), str) for k in ("type", "name", "split")
            ):
                errors.append(f"{where}.dataset needs 'type', 'name' and 'split'")
            if not isinstance(metrics, list) or not metrics:
                errors.append(f"{where}.metrics must be a non-empty list")
                continue
            for k, metric in enumerate(metrics):
                value = metric.get("value") if isinstance(metric, dict) else None
                if not isinstance(metric, dict) or not isinstance(metric.get("type"), str):
                    errors.append(f"{where}.metrics[{k}] needs a 'type'")
                elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    errors.append(
                        f"{where}.metrics[{k}] ({metric['type']}) needs a finite number as 'value', got {value!r}"
                    )
    return errors


def check_card(text: str, repo_type: str = "model", where: str = "the card") -> None:
    """Raise `ValueError` listing every problem `validate_card` finds."""
    errors = validate_card(text, repo_type)
    if errors:
        raise ValueError(f"{where} does not pass the card validator:\n" + "\n".join(f"  - {e}" for e in errors))


def upload_files(folder: Path) -> list[Path]:
    """The files of `folder` that a push uploads (relative paths, sorted): everything but VCS/cache folders,
    bytecode, and hidden entries."""
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part in SKIPPED_PARTS or part.startswith(".") for part in rel.parts):
            continue
        if path.suffix == ".pyc":
            continue
        files.append(rel)
    return files


def folder_problems(folder: str | Path, repo_type: str = "model") -> list[str]:
    """What keeps `folder` from being pushed as a `repo_type` repository (empty list: ready)."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    if repo_type == "model" and (folder / "export.json").is_file():
        return [
            f"{folder} is an exported folder (export.json), not a model folder: push the PyTorch folder it was "
            "exported from; an export written inside that folder (`compactbert export MODEL --output MODEL/openvino`, "
            "or a build's exports) goes up with it"
        ]
    problems: list[str] = []
    readme = folder / "README.md"
    if not readme.is_file():
        problems.append("README.md (the card) is missing")
    else:
        problems += [f"README.md: {e}" for e in validate_card(readme.read_text(encoding="utf-8"), repo_type)]
    if repo_type == "space":
        return problems + _space_problems(folder, readme)
    if repo_type != "model":
        return problems + [f"repo type {repo_type!r} is not published by compactbert; expected model or space"]
    return problems + _model_problems(folder)


def _openvino_weights(folder: Path, path: Path) -> bool:
    """`openvino_model.bin` next to its `openvino_model.xml` in a folder `compactbert export` wrote: OpenVINO's raw
    weight blob, read by offset from the graph, not a pickle."""
    return (
        path.name == "openvino_model.bin"
        and (folder / path.parent / "openvino_model.xml").is_file()
        and (folder / path.parent / "export.json").is_file()
    )


def subfolder_exports(folder: Path) -> list[tuple[Path, dict | None]]:
    """The subfolders of a model folder that a push uploads and that hold an `export.json` (`compactbert export MODEL
    --output MODEL/openvino`, a build's exports), each with that record, or None when it is not a JSON object."""
    found = []
    for info_file in sorted(folder.glob("*/export.json")):
        sub = info_file.parent
        if sub.name.startswith(".") or sub.name in SKIPPED_PARTS:  # not uploaded (upload_files)
            continue
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
        except ValueError:
            info = None
        found.append((sub, info if isinstance(info, dict) else None))
    return found


def _export_problem(sub: Path, info: dict | None) -> str | None:
    """Why an export in a subfolder of a model folder must not go up with it: its verification failed or was skipped
    (`--no-verify`), so its predictions are not known to be the model's; None for a verified one."""
    if info is None:
        return f"{sub.name}/export.json is not a JSON object: export the model again into {sub.name}/ or remove it"
    passed = (info.get("verification") or {}).get("passed")
    if passed is True:
        return None
    what = "failed its verification (its predictions did not hold)" if passed is False else "was never verified"
    return (
        f"{sub.name}/ is an export that {what}: export it again with verification (another precision if "
        "it failed) or remove the folder; the card lists verified exports only"
    )


def _model_problems(folder: Path) -> list[str]:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    problems = [_export_problem(sub, info) for sub, info in subfolder_exports(folder)]
    problems = [problem for problem in problems if problem]
    pickles = [
        p.as_posix() for p in upload_files(folder) if p.suffix in PICKLE_SUFFIXES and not _openvino_weights(folder, p)
    ]
    if pickles:
        problems.append(f"pickle files would be uploaded ({', '.join(pickles)}); publish safetensors only")
    if (folder / "model.safetensors.index.json").is_file():
        index = json.loads((folder / "model.safetensors.index.json").read_text())
        missing = sorted({s for s in index.get("weight_map", {}).values() if not (folder / s).is_file()})
        if missing:
            problems.append(f"weight shards listed in model.safetensors.index.json are missing: {', '.join(missing)}")
    elif not (folder / "model.safetensors").is_file():
        problems.append("no safetensors weights (model.safetensors or model.safetensors.index.json)")
    if not (folder / "tokenizer_config.json").is_file() or not any((folder / f).is_file() for f in TOKENIZER_FILES):
        problems.append(f"no tokenizer: expected tokenizer_config.json and one of {', '.join(TOKENIZER_FILES)}")
    config_file = folder / "config.json"
    if not config_file.is_file():
        return problems + ["config.json is missing"]
    try:
        config = json.loads(config_file.read_text())
    except json.JSONDecodeError as err:
        return problems + [f"config.json is not valid JSON: {err}"]
    model_type = config.get("model_type")
    if model_type in CONFIG_MAPPING_NAMES:
        return problems  # a stock transformers architecture: loads without remote code
    auto_map = config.get("auto_map")
    if not isinstance(auto_map, dict) or not auto_map:
        return problems + [
            f"config.json has no auto_map, so model_type {model_type!r} (not a transformers architecture) cannot "
            "load with trust_remote_code=True; save it with compactbert's save_model / save_pretrained"
        ]
    modules = {ref.split("--")[-1].rsplit(".", 1)[0] for ref in auto_map.values() if isinstance(ref, str)}
    checked: set[str] = set()
    while modules:
        module = modules.pop()
        checked.add(module)
        source = folder / f"{module}.py"
        if not source.is_file():
            problems.append(f"{module}.py (named by config.json auto_map or imported by its code) is missing")
            continue
        modules |= _relative_imports(source) - checked
    return problems


def _relative_imports(source: Path) -> set[str]:
    """Modules a remote-code file imports from its own folder (`from .x import y`)."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
    }


def _space_problems(folder: Path, readme: Path) -> list[str]:
    metadata = card_metadata(readme.read_text(encoding="utf-8")) if readme.is_file() else None
    app_file = (metadata or {}).get("app_file") or "app.py"
    problems = [] if (folder / app_file).is_file() else [f"the Space's app file {app_file} is missing"]
    if (metadata or {}).get("sdk") in ("gradio", "streamlit") and not (folder / "requirements.txt").is_file():
        problems.append("requirements.txt is missing: the Space would not install compactbert's dependencies")
    return problems


def check_folder(folder: str | Path, repo_type: str = "model") -> None:
    """Raise `ValueError` listing every problem that keeps `folder` from being pushed."""
    problems = folder_problems(folder, repo_type)
    if problems:
        raise ValueError(
            f"{folder} is not ready to push as a {repo_type} repository:\n" + "\n".join(f"  - {p}" for p in problems)
        )
