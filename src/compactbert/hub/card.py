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
key of `metrics.json`; it is merged over what the config gives. A folder written by `compactbert distill` has no
`method`: its teacher, loss weights and stages are read from the top-level keys that run records.

A card names a local folder by its folder (a run's `output_dir/model` by the run's folder) and a local file by its
name, never by this machine's path; it compares the model with its source or teacher when that folder is here and
its `metrics.json` holds a test accuracy on the same task and split. Rendered for a Hub repository (`model_id`, as
`compactbert push` and `publish` do), the title and the usage examples name that repository.
"""

from __future__ import annotations

import hashlib
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
from ..records import read_metrics
from .gate import override_note, recorded_accuracy
from .public import is_hub_id, is_local_path, local_name, public_record, recorded_model_folder
from .validate import check_card

TEMPLATES = Path(__file__).parent / "model_cards"
LIBRARY_NAME = "transformers"
BUILD_INFO = "build.json"  # what `compactbert build` writes beside the model: its recipe (card fields), comparison
# readable names of the distillation loss components (`DistillationTrainingArguments.alpha_<name>`), for the card
LOSS_NAMES = {
    "ce": "soft targets (teacher logits)",
    "label": "task labels",
    "mlm": "masked LM",
    "cos": "cosine of last hidden states",
    "embed": "embedding output MSE",
    "hidden": "hidden-state MSE",
    "attn": "attention-score MSE (pre-softmax)",
}
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


def task_stage_name(stage: str, components) -> str:
    """A task stage as the card names it: one that trained on the labels alone is the fine-tuning it is."""
    if list(components) == ["label"]:
        return f"fine-tuning on the task labels ({stage} stage)"
    return f"task distillation: {stage}"


def distill_record(metrics: dict | None) -> dict:
    """How `compactbert distill` made a folder, from what it records in `metrics.json` (`teacher`, the weights of
    the `losses` it used, its `stages`, the `train_stages` history, the recipe's general distillation): the
    `method` a card shows; `{}` for a folder no distillation wrote."""
    metrics = metrics or {}
    if not metrics.get("teacher"):
        return {}
    weights = metrics.get("losses") or {}
    weights = {c: w for c, w in weights.items() if isinstance(w, (int, float)) and w > 0}
    history = [s for s in metrics.get("train_stages") or [] if isinstance(s, dict)]
    recipe = metrics.get("recipe") or {}
    task = local_name(metrics.get("task") or (recipe.get("data") or {}).get("task") or "the task")
    teacher_args = recipe.get("teacher") or {}
    stages = []
    general = next((s for s in history if s.get("stage") == "general"), None)
    if general is not None:
        data = f"{general.get('texts')} unlabeled BBC News training paragraphs (teacher: the pre-trained "
        data += f"{local_name(teacher_args.get('general_teacher') or 'source')})"
        stages.append({"name": "general distillation", "data": data, "epochs": general.get("epoch")})
    task_history = [s for s in history if s.get("stage") != "general"]
    for i, stage in enumerate(metrics.get("stages") or []):
        ran = task_history[i] if i < len(task_history) else {}
        # the stage's own losses where the run recorded them (else those of every stage: older records)
        name = task_stage_name(stage, ran.get("losses") if isinstance(ran.get("losses"), dict) else weights)
        epochs = ran.get("epoch")
        stages.append({"name": name, "data": f"the {task} training split", "epochs": epochs})
    layer_map = next((s.get("teacher_layers") for s in task_history if s.get("teacher_layers")), None)
    return {
        "teacher": metrics["teacher"],
        "losses": [{"name": LOSS_NAMES.get(c, c), "weight": w} for c, w in weights.items()],
        "stages": stages,
        "layer_map": layer_map,
    }


def evaluated_on(metrics: dict | None) -> tuple | None:
    """The test split a `metrics.json` records an accuracy on: `(task, split seed, evaluated examples)`; None when it
    records no test accuracy. Two models' accuracies compare only where this is the same."""
    if recorded_accuracy(metrics) is None:
        return None
    data = (metrics.get("recipe") or {}).get("data") or {}
    task = metrics.get("task") or data.get("task")
    split_seed = metrics.get("split_seed", data.get("split_seed", 42))
    return (task, split_seed, data.get("max_eval_samples"))


def _with_local_folder(source: dict | None, source_path, teacher, folder: Path, metrics: dict | None) -> dict | None:
    """The source the card compares with, completed from the folder the model was made from (its source), or else
    the teacher it learned from, when that folder is on this machine (see `_compared_model`)."""
    if source is not None and recorded_model_folder(source_path, folder):
        role = "teacher" if source_path == teacher else "source"  # a student started from its teacher's layers
        return source | _compared_model(recorded_model_folder(source_path, folder), role, source_path, metrics)
    if source is None and recorded_model_folder(teacher, folder):
        return _compared_model(recorded_model_folder(teacher, folder), "teacher", teacher, metrics)
    scored = _teacher_scored(metrics)  # the teacher's folder is not here, but the run scored it on the same texts
    if scored and teacher and source is None:
        return {"name": local_name(teacher), "role": "teacher"} | scored
    if scored and teacher and source_path == teacher:  # a student started from its teacher's layers
        return source | {"role": "teacher"} | scored
    return source


def _teacher_scored(metrics: dict | None) -> dict | None:
    """The teacher's test accuracy and macro-F1 that `compactbert distill` measured on the student's own test texts
    (`teacher_scores` in its `metrics.json`), as the card shows a compared model's; None when not recorded."""
    test = ((metrics or {}).get("teacher_scores") or {}).get("test") or {}
    if not isinstance(test.get("accuracy"), (int, float)):
        return None
    f1 = test.get("macro_f1")
    return {
        "accuracy": float(test["accuracy"]),
        "macro_f1": float(f1) if isinstance(f1, (int, float)) else None,
        "accuracy_of": f"The teacher (`{local_name((metrics or {}).get('teacher'))}`), scored by the distillation run,",
    }


def _compared_model(folder: Path, role: str, name: str, metrics: dict | None) -> dict:
    """What a card shows of the local source or teacher folder: its shape and parameters, read from it, and its test
    accuracy where it was evaluated on the same test split as this model (`metrics`)."""
    from ..checkpoints import parameter_count

    found = {"name": local_name(name), "role": role}
    try:
        config = json.loads((folder / "config.json").read_text())
        found |= {
            "architecture": (config.get("architectures") or [None])[0],
            "num_hidden_layers": config.get("num_hidden_layers"),
            "hidden_size": config.get("hidden_size"),
            "num_parameters": parameter_count(folder),
            "parameters_estimated": False,
        }
    except (OSError, ValueError, KeyError):
        pass
    theirs = read_metrics(folder) or None
    here = evaluated_on(metrics)
    if role == "teacher" and here is not None and _teacher_scored(metrics):  # scored on this model's test texts
        found |= _teacher_scored(metrics)
    elif here is not None and evaluated_on(theirs) == here:
        test = theirs["test"]
        found |= {
            "accuracy": recorded_accuracy(theirs),
            "macro_f1": float(test["macro_f1"]) if isinstance(test.get("macro_f1"), (int, float)) else None,
            "accuracy_of": f"The {role} (`{found['name']}`)",
        }
    return found


# -- card data and rendering -------------------------------------------------------------------------------------


def _results(metrics: dict | None, fields: CardFields) -> dict | None:
    test = (metrics or {}).get("test")
    if recorded_accuracy(metrics) is None:
        return None  # nothing evaluated on a test split (or no accuracy recorded): the card claims no results
    data = (metrics.get("recipe") or {}).get("data") or {}
    task = metrics.get("task") or data.get("task") or "unknown"
    local = not is_hub_id(task) and is_local_path(task)  # a local file: its name, not this machine's path
    name = local_name(task)
    return {
        "task": Path(task).name if local else task,
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
    recorded = (metrics or {}).get("method") or distill_record(metrics)
    # the teacher and the source as recorded (paths on the machine that made the model), then as the card names them
    teacher = recorded.get("teacher")
    source_path = next((config.get(k) for k in ("source_model", "pruned_from") if config.get(k)), None)
    config = config | {
        k: local_name(config[k]) for k in ("source_model", "pruned_from", "teacher_model") if k in config
    }
    recorded = recorded | {k: local_name(recorded[k]) for k in ("teacher", "source_model") if k in recorded}
    method = record.describe_method(config, recorded) if record else dict(recorded)
    source = record.describe_source(config, method, num_parameters) if record and record.describe_source else None
    if comparison.get("source"):  # a build compares with the source it timed: its comparison says what that is
        source = (source or {}) | comparison["source"] | {"name": local_name(comparison["source"].get("name"))}
        source.setdefault("parameters_estimated", False)
    else:
        source = _with_local_folder(source, source_path, teacher, folder, metrics)
    if source is not None:
        unknown = ("architecture", "num_hidden_layers", "hidden_size", "num_parameters", "accuracy", "macro_f1")
        source = dict.fromkeys(unknown) | {"parameters_estimated": False, "role": "source"} | source
        # a source the build fine-tuned as its baseline (its comparison, also in an older build.json)
        source.setdefault("accuracy_of", "The source, fine-tuned with the same recipe,")
    results = _results(metrics, fields)
    gate = (metrics or {}).get("quality_gate")  # written by `compactbert build`: the note when --force overrode it
    gate_note = override_note(public_record(gate)) if isinstance(gate, dict) and gate.get("overridden") else None

    base_model = fields.base_model or method.get("source_model") or method.get("teacher")
    base_model = base_model if is_hub_id(base_model) else None
    where = fields.repo_id or model_id or os.fspath(folder)
    model_id = fields.repo_id or model_id or folder.name
    # the title: the repository the card is rendered for, else the run's name (not `model`, the folder runs save to)
    pushed = is_hub_id(where)
    title = fields.model_name or (where if pushed else local_name(os.path.abspath(where)))
    model_name = fields.model_name or (where.rsplit("/", 1)[-1] if pushed else title)
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
        "title": title,
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
        "exports": exports_in(folder, comparison.get("exports")),
        "remote_code": bool(config.get("auto_map")),
        "pipeline_tag": pipeline_tag,
        "tokenizer_class": _tokenizer_class(folder),
        "compactbert_version": __version__,
        "gate_note": gate_note,
    }
    return card_data, context


def exports_in(folder: Path, recorded: list[dict] | None = None) -> list[dict]:
    """The exports a card lists under "Running it without PyTorch": those a build recorded (`recorded`) whose folders
    are still there, then the verified ones found in the other uploaded subfolders (`compactbert export MODEL --format
    openvino --output MODEL/openvino`). An export that failed or skipped its verification is not listed (push refuses
    the folder: `hub.validate`)."""
    from .validate import subfolder_exports

    listed = [e for e in recorded or [] if (folder / e["folder"]).is_dir()]
    for sub, info in subfolder_exports(folder):
        if sub.name in {e["folder"] for e in listed} or not info or not info.get("format"):
            continue
        if (info.get("verification") or {}).get("passed") is True:
            listed.append(
                {
                    "format": info["format"],
                    "dtype": info.get("dtype", "fp32"),
                    "folder": sub.name,
                    "files": sorted(p.name for p in sub.iterdir() if p.is_file()),
                    "verification": info["verification"],
                }
            )
    return listed


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
    """Render the folder's card and write it as `README.md`, marked as compactbert's (`mark_written`); returns its
    path."""
    card = render_card(folder, fields, comparison, model_id)
    path = Path(folder) / "README.md"
    path.write_text(mark_written(str(card)), encoding="utf-8")
    return path


_WRITTEN = re.compile(r"\n<!-- written by compactbert; sha256 ([0-9a-f]{64}) -->\n\Z")


def mark_written(card: str) -> str:
    """`card` with a last line saying compactbert wrote it and the hash of what it wrote: an HTML comment, not shown
    on the Hub. `written_unedited` reads it back."""
    return f"{card}\n<!-- written by compactbert; sha256 {hashlib.sha256(card.encode('utf-8')).hexdigest()} -->\n"


def written_unedited(text: str) -> bool:
    """Whether a `README.md` is a card as compactbert wrote it (`mark_written`), not edited since: then `push` may
    render it again for the repository; a card edited by hand (or one without the mark) goes up as it is."""
    found = _WRITTEN.search(text)
    if found is None:
        return False
    return hashlib.sha256(text[: found.start()].encode("utf-8")).hexdigest() == found.group(1)


def render_card_for_repo(folder: str | os.PathLike, repo_id: str) -> str:
    """The folder's card rendered again for the Hub repository `repo_id` (its title and usage examples name it), with
    the recipe's card fields and the build's comparison when `compactbert build` made the folder (its `build.json`):
    what `compactbert push` and `publish` upload."""
    from dataclasses import fields as dataclass_fields

    folder = Path(folder)
    card_fields, comparison = CardFields(repo_id=repo_id), None
    info_file = folder / BUILD_INFO
    if info_file.is_file():
        info = json.loads(info_file.read_text())
        recorded = ((info.get("recipe") or {}).get("card")) or {}
        known = {f.name for f in dataclass_fields(CardFields)}
        card_fields = CardFields(**({k: v for k, v in recorded.items() if k in known} | {"repo_id": repo_id}))
        comparison = info.get("comparison")
    return mark_written(str(render_card(folder, card_fields, comparison, model_id=repo_id)))
