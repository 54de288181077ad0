"""README front matter: the checks the Hub's ``/api/validate-yaml`` makes, and ``cardData``."""

from __future__ import annotations

import json
from typing import Any

from .common import _YAML_BLOCK, SPACE_SDKS


def _front_matter(content: str) -> str | None:
    match = _YAML_BLOCK.search(content)
    return match.group(2) if match else None


def _check_model_index(model_index: Any) -> list[str]:
    errors = []
    if not isinstance(model_index, list):
        return ['"model-index" must be a list']
    for i, entry in enumerate(model_index):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            errors.append(f'"model-index[{i}].name" is required and must be a string')
            continue
        results = entry.get("results")
        if not isinstance(results, list):
            errors.append(f'"model-index[{i}].results" must be a list')
            continue
        for j, result in enumerate(results):
            where = f"model-index[{i}].results[{j}]"
            if not isinstance(result, dict):
                errors.append(f'"{where}" must be an object')
                continue
            task, dataset, metrics = result.get("task"), result.get("dataset"), result.get("metrics")
            if not isinstance(task, dict) or not isinstance(task.get("type"), str):
                errors.append(f'"{where}.task.type" is required')
            if not isinstance(dataset, dict) or not all(isinstance(dataset.get(k), str) for k in ("type", "name")):
                errors.append(f'"{where}.dataset.type" and "{where}.dataset.name" are required')
            if not isinstance(metrics, list) or not metrics:
                errors.append(f'"{where}.metrics" must be a non-empty list')
            else:
                for k, metric in enumerate(metrics):
                    if (
                        not isinstance(metric, dict)
                        or not isinstance(metric.get("type"), str)
                        or "value" not in metric
                    ):
                        errors.append(f'"{where}.metrics[{k}]" needs "type" and "value"')
    return errors


def validate_card_metadata(content: str, repo_type: str = "model") -> tuple[list[str], list[str], dict | None]:
    """Validate a README's YAML front matter like the Hub does: returns (errors, warnings, metadata)."""
    block = _front_matter(content)
    if block is None or not block.strip():
        return [], ["Empty or missing yaml metadata in repo card"], None
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency of huggingface_hub
        return [], ["YAML metadata not validated (PyYAML is not installed)"], None
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        return [f"Invalid YAML in the metadata block: {' '.join(str(exc).split())}"], [], None
    if data is None:
        return [], ["Empty or missing yaml metadata in repo card"], None
    if not isinstance(data, dict):
        return [f"Metadata must be a YAML mapping (dictionary), got {type(data).__name__}"], [], None
    errors = []
    for key in ("license", "library_name", "pipeline_tag", "license_name", "license_link"):
        if key in data and not isinstance(data[key], str):
            errors.append(f'"{key}" must be a string')
    for key in ("tags", "datasets", "metrics", "language", "base_model"):
        value = data.get(key)
        if value is not None and not (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            errors.append(f'"{key}" must be a string or a list of strings')
    if "model-index" in data:
        errors.extend(_check_model_index(data["model-index"]))
    if repo_type == "space" and "sdk" in data and data["sdk"] not in SPACE_SDKS:
        errors.append(f'"sdk" must be one of {", ".join(SPACE_SDKS)}')
    return errors, [], data


def _card_data(content: bytes) -> dict | None:
    try:
        _, _, data = validate_card_metadata(content.decode("utf-8", errors="replace"))
    except Exception:
        return None
    return _jsonable(data) if isinstance(data, dict) else None


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))
