"""Model cards: card data from what a model folder knows, rendered from the family's Jinja template.

Every folder compactbert writes through `save_model` gets a card, rendered from what is known at that point:

* always the provenance, read from `config.json` (for a ShrunkBert: source, strategy, kept/dropped layers and
  their contribution scores) and the parameter count, read from the safetensors headers;
* the evaluation, when `metrics.json` is there (written by `finetune`);
* the comparison with the source (its accuracy, the latency of both measured side by side, a plot), when
  `compactbert build` passes it in;
* a note under the title when `compactbert build --force` wrote a model the quality gate refused
  (`metrics["quality_gate"]`, see `compactbert.hub.gate`).

Templates live in `model_cards/` (`<model_type>.md`, else `default.md`), extend `_base.md` and only render; the
values are computed here, and the YAML metadata is a `huggingface_hub.ModelCardData` (never joined strings).
A family's trainer can add what its config does not hold (a teacher, the losses, the stages) under the `method`
key of `metrics.json`; it is merged over what the config gives.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..export.formats import runtime_title
from ..models import FAMILIES
from ..models.shrunk_bert.card import bert_layer_parameters as bert_layer_parameters  # re-exported (card tests)
from .gate import override_note, recorded_accuracy
from .validate import check_card

TEMPLATES = Path(__file__).parent / "model_cards"
LIBRARY_NAME = "transformers"
# the head of an architecture name -> (Hub pipeline tag, Auto class that loads it)
HEADS = {
    "ForSequenceClassification": ("text-classification", "AutoModelForSequenceClassification"),
    "ForTokenClassification": ("token-classification", "AutoModelForTokenClassification"),
    "ForQuestionAnswering": ("question-answering", "AutoModelForQuestionAnswering"),
    "ForMultipleChoice": ("multiple-choice", "AutoModelForMultipleChoice"),
    "ForMaskedLM": ("fill-mask", "AutoModelForMaskedLM"),
    "ForPreTraining": ("fill-mask", "AutoModelForPreTraining"),
}
BASE_HEAD = ("feature-extraction", "AutoModel")


@dataclass
class CardFields:
    """What a card says that the model folder cannot know: from a zoo recipe's `card:` section."""

    repo_id: str | None = field(default=None, metadata={"help": "Where the model is published (org/name)."})
    model_name: str | None = field(default=None, metadata={"help": "Title of the card; default: the repo name."})
    license: str = field(default="apache-2.0", metadata={"help": "License id (the source's terms apply too)."})
    language: list[str] = field(default_factory=lambda: ["en"], metadata={"help": "Language codes."})
    tags: list[str] = field(
        default_factory=list, metadata={"help": "Extra tags (compactbert and the family are added)."}
    )
    datasets: list[str] = field(default_factory=list, metadata={"help": "Hub ids of the training/evaluation data."})
    dataset_name: str | None = field(default=None, metadata={"help": "Human name of the evaluation data."})
    base_model: str | None = field(default=None, metadata={"help": "Hub id of the source; default: from the config."})

    def __post_init__(self):
        for name in ("language", "tags", "datasets"):
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, [value])
            elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"card field '{name}' must be a string or a list of strings, got {value!r}")


def _is_hub_id(name: str | None) -> bool:
    """A Hub repo id (`org/name`), not a local path: only those belong in `base_model`."""
    if not name or os.path.isabs(name) or os.path.exists(name) or name.count("/") != 1:
        return False
    return re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None


# -- card data and rendering -------------------------------------------------------------------------------------


def _results(metrics: dict | None, fields: CardFields) -> dict | None:
    test = (metrics or {}).get("test")
    if recorded_accuracy(metrics) is None:
        return None  # nothing evaluated on a test split (or no accuracy recorded): the card claims no results
    data = (metrics.get("recipe") or {}).get("data") or {}
    task = metrics.get("task") or data.get("task") or "unknown"
    name = Path(task).stem if os.path.exists(task) else task  # a local file: its name, not this machine's path
    return {
        "task": task,
        "dataset_type": fields.datasets[0] if fields.datasets else name,
        "dataset_name": fields.dataset_name or name,
        "split": "test",
        "accuracy": recorded_accuracy(metrics),
        "macro_f1": float(test["macro_f1"]) if isinstance(test.get("macro_f1"), (int, float)) else None,
        "label_names": metrics.get("label_names") or [],
        "seed": metrics.get("seed"),
        "split_seed": metrics.get("split_seed"),
        "epochs": (metrics.get("train") or {}).get("epoch"),
        "train_samples": data.get("max_train_samples"),
        "eval_samples": data.get("max_eval_samples"),
    }


def card_context(
    folder: Path, fields: CardFields | None = None, comparison: dict | None = None, model_id: str | None = None
) -> tuple[ModelCardData, dict]:
    """The card data (YAML) and template values for a saved model folder.

    `comparison` (from `compactbert build`): `{"source": {...name, num_parameters, num_hidden_layers,
    hidden_size, accuracy, macro_f1}, "latency": {...}, "plot": "file.png"}`; its entries override what the
    folder alone gives.
    """
    from .. import __version__
    from ..checkpoints import parameter_count

    fields = fields or CardFields()
    comparison = comparison or {}
    config = json.loads((folder / "config.json").read_text())
    metrics_file = folder / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else None
    family = config.get("model_type", "unknown")
    architecture = (config.get("architectures") or ["UnknownModel"])[0]
    head = next((h for h in HEADS if architecture.endswith(h)), None)
    pipeline_tag, auto_class = HEADS[head] if head else BASE_HEAD
    num_parameters = parameter_count(folder)

    record = FAMILIES.get(family)  # None: not a compactbert family (a plain BERT folder, say)
    recorded = (metrics or {}).get("method") or {}
    method = record.describe_method(config, recorded) if record else dict(recorded)
    source = record.describe_source(config, method, num_parameters) if record and record.describe_source else None
    if comparison.get("source"):
        source = (source or {}) | comparison["source"]
        source.setdefault("parameters_estimated", False)
    if source is not None:
        unknown = ("architecture", "num_hidden_layers", "hidden_size", "num_parameters", "accuracy", "macro_f1")
        source = dict.fromkeys(unknown) | {"parameters_estimated": False} | source
    results = _results(metrics, fields)
    gate = (metrics or {}).get("quality_gate")  # written by `compactbert build`: the note when --force overrode it
    gate_note = override_note(gate) if isinstance(gate, dict) and gate.get("overridden") else None

    base_model = fields.base_model or method.get("source_model") or method.get("teacher")
    base_model = base_model if _is_hub_id(base_model) else None
    model_id = fields.repo_id or model_id or folder.name
    model_name = fields.model_name or model_id.rsplit("/", 1)[-1]
    eval_results = None
    if results is not None:
        eval_results = [
            EvalResult(
                task_type=pipeline_tag,
                dataset_type=results["dataset_type"],
                dataset_name=results["dataset_name"],
                dataset_split=results["split"],
                metric_type=metric,
                metric_name=name,
                metric_value=results[key],
            )
            for metric, name, key in (("accuracy", "Accuracy", "accuracy"), ("f1", "Macro F1", "macro_f1"))
            if results[key] is not None
        ]
    card_data = ModelCardData(
        license=fields.license,
        language=fields.language or None,
        library_name=LIBRARY_NAME,
        pipeline_tag=pipeline_tag,
        base_model=base_model,
        datasets=fields.datasets or None,
        metrics=[r.metric_type for r in eval_results] if eval_results else None,
        tags=list(dict.fromkeys(["compactbert", *(record.card_tags if record else [family]), *fields.tags])),
        model_name=model_name if eval_results else None,
        eval_results=eval_results,
    )
    context = {
        "model_name": model_name,
        "model_id": model_id,
        "family": family,
        "architecture": architecture,
        "auto_class": auto_class,
        "num_parameters": num_parameters,
        "num_hidden_layers": config.get("num_hidden_layers"),
        "hidden_size": config.get("hidden_size"),
        "base_model": base_model,
        "method": method,
        "source": source,
        "results": results,
        "latency": comparison.get("latency"),
        "plot": comparison.get("plot"),
        "exports": comparison.get("exports") or [],
        "remote_code": bool(config.get("auto_map")),
        "pipeline_tag": pipeline_tag,
        "tokenizer_class": _tokenizer_class(folder),
        "compactbert_version": __version__,
        "gate_note": gate_note,
    }
    return card_data, context


def _tokenizer_class(folder: Path) -> str | None:
    """The tokenizer class a folder's `tokenizer_config.json` names (e.g. `BertTokenizer`), if any."""
    path = folder / "tokenizer_config.json"
    try:
        name = json.loads(path.read_text()).get("tokenizer_class") if path.is_file() else None
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and name.isidentifier() else None


def template_for(family: str) -> str:
    """The template file name for a family: its record's `card_template` (`<model_type>.md`), else `default.md`."""
    template = FAMILIES[family].card_template if family in FAMILIES else None
    return template if template and (TEMPLATES / template).is_file() else "default.md"


def render(card_data: ModelCardData, context: dict, template: str | None = None) -> ModelCard:
    """Render a template of `model_cards/` (with `_base.md` for the shared sections) into a `ModelCard`.

    Undefined template variables are errors (a typo in a template must not produce a quietly incomplete card).
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    env.globals["runtime_title"] = runtime_title  # "onnxruntime" -> "ONNX Runtime", as everything else shows it
    name = template or template_for(context["family"])
    text = env.get_template(name).render(card_data=card_data.to_yaml(), **context)
    return ModelCard(re.sub(r"\n{3,}", "\n\n", text))


def render_card(
    folder: str | os.PathLike,
    fields: CardFields | None = None,
    comparison: dict | None = None,
    model_id: str | None = None,
) -> ModelCard:
    """The card of a saved model folder (validated: raises `ValueError` if our own output breaks the rules)."""
    card_data, context = card_context(Path(folder), fields, comparison, model_id)
    card = render(card_data, context)
    check_card(str(card), where=f"the card rendered for {folder}")
    return card


def write_card(
    folder: str | os.PathLike,
    fields: CardFields | None = None,
    comparison: dict | None = None,
    model_id: str | None = None,
) -> Path:
    """Render the folder's card and write it as `README.md`; returns its path."""
    card = render_card(folder, fields, comparison, model_id)
    path = Path(folder) / "README.md"
    path.write_text(str(card), encoding="utf-8")
    return path
