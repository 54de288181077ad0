"""The family builders of `compactbert build`: family -> (recipe, run folder) -> the fine-tuned model folder and its
metrics (`Built`), kept in `BUILDERS` by `register_builder`. Each builder runs the training commands' own functions
(`compactbert.finetune.finetune`, `compactbert.distillation.recipe.distill`, `compactbert.pretraining.pretrain`) and
records under `method` in the metrics how the model was made, for its card."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fields import typed_numbers
from .card import LOSS_NAMES, task_stage_name
from .public import local_name

if TYPE_CHECKING:
    from .recipe import ZooRecipe


@dataclass
class Built:
    """What a builder made: the fine-tuned model folder and its metrics (with `method`: how it was made, for the
    card), and the baseline when the builder trained it anyway (the tiny_bert teacher is the fine-tuned source)."""

    model_dir: Path
    metrics: dict
    baseline: tuple[Path, dict] | None = None


def finetune_run(recipe: ZooRecipe, run_dir: Path, model_fields: dict[str, Any]) -> tuple[Path, dict]:
    from ..finetune import MODEL_SUBDIR, finetune, parse_recipe

    values = recipe.training | model_fields | {"task": recipe.task, "output_dir": str(run_dir), "overwrite": True}
    model_args, data_args, training_args = parse_recipe(None, values)
    metrics = finetune(model_args, data_args, training_args)
    return run_dir / MODEL_SUBDIR, metrics


def _method(recipe: ZooRecipe, known: set[str], expected: str, types: tuple[type, ...]) -> dict[str, Any]:
    """The recipe's `method`, refused with the list of known keys if it has others, its numbers checked and read
    against the dataclasses `types` (`typed_numbers`) here, where the recipe file can be named."""
    unknown = sorted(set(recipe.method) - known)
    if unknown:
        raise ValueError(
            f"{recipe.where('method')}: unknown {recipe.family} method keys {unknown}; expected {expected}: "
            f"{', '.join(sorted(known))}"
        )
    return typed_numbers(recipe.method, types, recipe.where("method"))


def _trainer_field_names() -> set[str]:
    from ..finetune import FinetuneArguments

    return {f.name for f in fields(FinetuneArguments)}


def _trainer_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The `TrainingArguments` fields (seed, precision, logging, ...) of a recipe's `training`: they apply to every
    run of a build, while its model and data fields (max_length, max_train_samples, ...) belong to the task."""
    names = _trainer_field_names()
    return {k: v for k, v in values.items() if k in names}


def _run_training(method: dict[str, Any], recipe: ZooRecipe) -> dict[str, Any]:
    """`method.training`: `TrainingArguments` fields that differ for the family's own run (distillation or
    pretraining: learning rate, epochs, ...); the recipe's `training` gives the rest."""
    from ..finetune import FinetuneArguments

    family, where = recipe.family, recipe.where("method: training")
    values = method.pop("training", None) or {}
    if not isinstance(values, dict):
        raise ValueError(
            f"{where}: {family} method.training must be a mapping of TrainingArguments fields, got {values!r}"
        )
    outside = sorted(set(values) - _trainer_field_names())
    if outside:
        raise ValueError(
            f"{where}: {family} method.training takes TrainingArguments fields only (learning_rate, "
            f"num_train_epochs, ...), got {outside}"
        )
    return typed_numbers(values, (FinetuneArguments,), where)


def source_name(recipe: ZooRecipe) -> str:
    from ..assets import BUILTIN_MODELS

    return BUILTIN_MODELS[recipe.source].hub_id if recipe.source in BUILTIN_MODELS else recipe.source


def _task_name(recipe: ZooRecipe) -> str:
    """The task as a card names it: a local file by its name, not this machine's path."""
    return Path(recipe.task).stem if os.path.exists(recipe.task) else recipe.task


@dataclass
class ShrinkMethod:
    """A shrunk_bert recipe's `method`: which layers are kept (the finetune recipe's shrink_* fields). The types are
    what a recipe may write; the defaults are never used (the builder needs strategy + drop, or keep)."""

    strategy: str = ""
    drop: int = 0
    keep: list[int] = field(default_factory=list)


def build_shrunk_bert(recipe: ZooRecipe, run_dir: Path) -> Built:
    """Drop layers of the source (`method`: `strategy` + `drop`, or `keep`), then fine-tune: one finetune run."""
    method = _method(recipe, {"strategy", "drop", "keep"}, "strategy + drop, or keep; keys", (ShrinkMethod,))
    given = {key for key, value in method.items() if value is not None}
    if "keep" in given and given & {"strategy", "drop"}:
        raise ValueError(f"{recipe.where('method')}: give keep, or strategy and drop, not both; got {method}")
    if "keep" not in given and given != {"strategy", "drop"}:
        raise ValueError(
            f"{recipe.where('method')}: a shrunk_bert recipe needs strategy and drop (e.g. method: {{strategy: top, "
            f"drop: 3}}) or keep (method: {{keep: [0, 2, 4]}}), got {method}"
        )
    shrink = (
        {"shrink_keep": method["keep"]}
        if "keep" in method
        else {"shrink_strategy": method["strategy"], "shrink_drop": method["drop"]}
    )
    return Built(*finetune_run(recipe, run_dir, {"model": recipe.source, **shrink}))


# how a tiny_bert recipe's student starts (`method.student_init`): a fresh TinyBert (random init, optionally general
# distillation first), or one cut out of the fine-tuned teacher (`compactbert.prune`; no general distillation)
TINY_BERT_INITS = ("tiny-bert", "pruned")


def _tiny_bert_keys() -> set[str]:
    """`method` keys of a tiny_bert recipe: the distill recipe's teacher/student and distillation fields."""
    from ..distillation.recipe import DistillRecipeArguments, TeacherArguments

    teacher = {f.name for f in fields(TeacherArguments)} - {"student_init_layers"}
    distillation = {f.name for f in fields(DistillRecipeArguments)} - _trainer_field_names()
    return teacher | distillation | {"training"}


def _distill_types() -> tuple[type, ...]:
    """The dataclasses of a distill recipe's `method` keys (teacher, student and distillation fields)."""
    from ..distillation.recipe import DistillRecipeArguments, TeacherArguments

    return (TeacherArguments, DistillRecipeArguments)


def tiny_bert_arguments(recipe: ZooRecipe, run_dir: Path) -> tuple[str | None, tuple]:
    """The teacher folder `method` names (None: the build fine-tunes one) and the distill run's parsed arguments
    `(ModelArguments, TeacherArguments, DataArguments, DistillRecipeArguments)`: checked before anything trains."""
    method = _method(
        recipe, _tiny_bert_keys(), "keys of a distill recipe's teacher, student and distillation", _distill_types()
    )
    student_init = method.pop("student_init", "tiny-bert")
    if student_init not in TINY_BERT_INITS:
        raise ValueError(
            f"tiny_bert method.student_init must be tiny-bert (a fresh student, random init) or pruned (cut out of "
            f"the fine-tuned teacher), got {student_init!r}; a student made of the teacher's own layers is a "
            "shrunk_bert (`compactbert distill` with student_init: every-other)"
        )
    return _distill_arguments(recipe, run_dir, method, student_init, {"general_teacher": recipe.source})


def _distill_arguments(
    recipe: ZooRecipe, run_dir: Path, method: dict[str, Any], student_init: str, defaults: dict[str, Any]
) -> tuple[str | None, tuple]:
    """The teacher folder `method` names (None: the build fine-tunes one) and the parsed distill run: the recipe's
    `training`, then `method.training`, `defaults`, the rest of `method`, the student init and the task."""
    from ..distillation.recipe import parse_distill_recipe

    distill_training = _run_training(method, recipe)
    teacher = method.pop("teacher", None)
    values = (
        recipe.training
        | distill_training
        | defaults
        | method
        | {"teacher": str(teacher or "fine-tuned by this build"), "student_init": student_init, "task": recipe.task}
        | {"output_dir": str(run_dir), "overwrite": True}
    )
    return (None if teacher is None else str(teacher)), parse_distill_recipe(None, values)


def build_tiny_bert(recipe: ZooRecipe, run_dir: Path) -> Built:
    """Train a TinyBert student from a teacher fine-tuned on the task, with `compactbert distill`.

    `method` takes the distill recipe's keys: `teacher` (a fine-tuned folder; without it the build fine-tunes
    `source` on the task with the recipe's `training` into `teacher/`, and that run is also the baseline),
    `student_init` (`tiny-bert`, the default: a fresh student from random init; `pruned`: cut out of the fine-tuned
    teacher by `compactbert.prune`, with `prune_layers`, `prune_importance`, `prune_calibration_size`, and no general
    distillation), the student's sizes (`tiny_bert_layers`, `tiny_bert_hidden_size`, ...), general distillation
    (`general_epochs`, `general_max_texts`; its teacher is the pre-trained `source` unless `general_teacher` says
    otherwise), the stages and loss weights (`stages`, `alpha_*`, `temperature`, `layer_map`, ...), and `training`:
    `TrainingArguments` fields for the distillation runs that differ from the recipe's `training`.
    """
    teacher, arguments = tiny_bert_arguments(recipe, run_dir)
    _, teacher_args, _, training_args = arguments
    # the student's config records the teacher it was distilled from (and a pruned one, the model it was cut from)
    model_dir, metrics, baseline, teacher_name, config = _distil(
        recipe, run_dir, teacher, arguments, {"teacher_model": True, "pruned_from": False}
    )
    general_teacher = teacher_args.general_teacher
    general_teacher = local_name(source_name(recipe) if general_teacher == recipe.source else general_teacher)
    record = tiny_bert_record(
        teacher_args, training_args, metrics, general_teacher, _task_name(recipe), pruning=config.get("pruning")
    )
    metrics["method"] = {"teacher": teacher_name, "fit_size": config.get("fit_size")} | record
    return Built(model_dir, metrics, baseline)


def _distil(
    recipe: ZooRecipe, run_dir: Path, teacher: str | None, arguments: tuple, names_teacher: dict[str, bool]
) -> tuple[Path, dict, tuple[Path, dict] | None, str, dict]:
    """Fine-tune `source` on the task as the teacher when `teacher` is None (that run is also the baseline), then run
    `distill` with the parsed `arguments` into `run_dir/model`.

    The build's teacher is a folder on this machine, so the student's config and metrics name it as the card does:
    each config key of `names_teacher` is set to that name (`True`), or replaced only where it is set (`False`).
    Returns the model folder, the metrics, the baseline (or None), the teacher's name and the student's config.
    """
    from ..distillation.recipe import distill

    model_args, teacher_args, data_args, training_args = arguments
    baseline = None
    if teacher is None:
        teacher_dir, teacher_metrics = finetune_run(recipe, run_dir / "teacher", {"model": recipe.source})
        baseline = (teacher_dir, teacher_metrics)
        teacher_args.teacher = str(teacher_dir)
        teacher_name = f"{local_name(source_name(recipe))} fine-tuned on {_task_name(recipe)} by this build"
    else:
        teacher_name = local_name(str(teacher))
    metrics = distill(model_args, teacher_args, data_args, training_args)

    model_dir = run_dir / "model"
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text())
    for key, always in names_teacher.items():
        if always or config.get(key):
            config[key] = teacher_name
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    metrics["teacher"] = metrics["recipe"]["teacher"]["teacher"] = teacher_name
    return model_dir, metrics, baseline, teacher_name, config


def tiny_bert_record(
    teacher_args, training_args, metrics: dict, general_teacher: str, task: str, pruning: dict | None = None
) -> dict:
    """How a distilled student was made, as its card shows it (a TinyBert; a converted Albert-SOP, whose builder adds
    the conversion as the first stage): each stage (data, epochs), the weighted losses of each,
    and the teacher layer each student layer learned from in the task stages, as their trainers recorded it
    (`teacher_layers` of each stage in the distill run's `metrics["train_stages"]`; None when no task stage matched
    hidden states or attention). A student cut out of the teacher (`pruning`: its config's record) starts with the
    pruning step; a task stage that trains on labels alone is named as the fine-tuning it is."""
    from ..distillation.arguments import STAGES

    stages, components = [], []
    if pruning:
        stages.append({"name": "pruned from the teacher", "data": _pruning_data(pruning, task), "epochs": None})
    if teacher_args.general_epochs:
        texts = metrics["train_stages"][0]["texts"]
        data = f"{texts} unlabeled BBC News training paragraphs (teacher: the pre-trained {general_teacher})"
        stages.append({"name": "general distillation", "data": data, "epochs": teacher_args.general_epochs})
        components.append(("general", [c for c in STAGES["general"] if c not in ("ce", "mlm")]))  # as distill runs it
    for stage in training_args.stages or [training_args.stage]:
        data = f"the {task} training split"
        active = [c for c in STAGES[stage] if getattr(training_args, f"alpha_{c}") > 0]
        name = task_stage_name(stage, active)
        stages.append({"name": name, "data": data, "epochs": training_args.num_train_epochs})
        components.append((stage, STAGES[stage]))
    losses = [
        {"name": f"{LOSS_NAMES[c]} ({stage})", "weight": getattr(training_args, f"alpha_{c}")}
        for stage, names in components
        for c in names
        if getattr(training_args, f"alpha_{c}") > 0
    ]
    # every task stage distils the same teacher with the same layer_map: the first that matched layers says it
    matched = [s.get("teacher_layers") for s in metrics["train_stages"] if s["stage"] != "general"]
    layer_map = next((layers for layers in matched if layers), None)
    return {"losses": losses, "stages": stages, "layer_map": layer_map}


def _pruning_data(pruning: dict, task: str) -> str:
    """What the pruning step scored importance on, from the config's `pruning` record."""
    texts = pruning.get("calibration_size") or 0
    if pruning.get("importance") == "activation":
        return f"{texts} texts of the {task} training split (activation importance)"
    scored = f"; layer contributions on {texts} texts of the {task} training split" if texts else ""
    return f"its weights ({pruning.get('importance')} importance{scored})"


# how an albert_sop recipe's model starts (`method.student_init`): converted from the fine-tuned teacher
# (`compactbert.albert_from_bert`), then distilled from it; or from random init, pretrained by the build (MLM + SOP),
# then fine-tuned (the default, as before the conversion existed)
ALBERT_SOP_INITS = ("albert", "random")


def _albert_sop_init(recipe: ZooRecipe) -> str:
    student_init = recipe.method.get("student_init", "random")
    if student_init not in ALBERT_SOP_INITS:
        raise ValueError(
            "albert_sop method.student_init must be albert (converted from the fine-tuned teacher by "
            "albert_from_bert, then distilled) or random (pretrained from random init by the build, then fine-tuned; "
            f"the default), got {student_init!r}"
        )
    return student_init


def _albert_sop_keys() -> set[str]:
    from ..pretraining.pretrain import PretrainDataArguments, PretrainModelArguments

    names = {f.name for cls in (PretrainModelArguments, PretrainDataArguments) for f in fields(cls)}
    return names | {"training", "student_init"}


def albert_sop_arguments(recipe: ZooRecipe, output_dir: Path) -> tuple:
    """The pretrain run's parsed arguments `(PretrainModelArguments, PretrainDataArguments, PretrainArguments)` of a
    recipe that pretrains from random init: `method` over the recipe's `TrainingArguments` fields, the source's
    tokenizer by default."""
    from ..pretraining.pretrain import parse_pretrain_recipe

    if _albert_sop_init(recipe) != "random":
        raise ValueError("albert_sop_arguments() reads a pretraining recipe; this one converts (student_init: albert)")
    from ..pretraining.pretrain import PretrainDataArguments, PretrainModelArguments

    expected = "(student_init: random) keys of a pretrain recipe's model and data"
    method = _method(recipe, _albert_sop_keys(), expected, (PretrainModelArguments, PretrainDataArguments))
    method.pop("student_init", None)
    pretrain_training = _run_training(method, recipe)
    values = (
        _trainer_fields(recipe.training)
        | pretrain_training
        | {"tokenizer": recipe.source}
        | method
        | {"output_dir": str(output_dir), "overwrite": True}
    )
    return parse_pretrain_recipe(None, values)


def _albert_conversion_keys() -> set[str]:
    """`method` keys of an albert_sop recipe that converts: the distill recipe's teacher, albert_* and distillation."""
    from ..distillation.recipe import DistillRecipeArguments, TeacherArguments

    conversion = {f.name for f in fields(TeacherArguments) if f.name.startswith("albert_")}
    distillation = {f.name for f in fields(DistillRecipeArguments)} - _trainer_field_names()
    return conversion | distillation | {"teacher", "student_init", "training"}


def albert_conversion_arguments(recipe: ZooRecipe, run_dir: Path) -> tuple[str | None, tuple]:
    """The teacher folder `method` names (None: the build fine-tunes one) and the distill run's parsed arguments
    `(ModelArguments, TeacherArguments, DataArguments, DistillRecipeArguments)` of a recipe that converts
    (`student_init: albert`): checked before anything trains."""
    if _albert_sop_init(recipe) != "albert":
        raise ValueError("albert_conversion_arguments() reads a recipe with method.student_init: albert")
    expected = "(student_init: albert) keys of a distill recipe's teacher, albert_* and distillation fields"
    method = _method(recipe, _albert_conversion_keys(), expected, _distill_types())
    method.pop("student_init")
    return _distill_arguments(recipe, run_dir, method, "albert", {})


def build_albert_sop(recipe: ZooRecipe, run_dir: Path) -> Built:
    """Make an Albert-SOP for the task: converted from a fine-tuned BERT and distilled from it
    (`method.student_init: albert`, see `build_converted_albert_sop`), or pretrained from random init with
    `compactbert pretrain`, then fine-tuned on the task (`student_init: random`, the default).

    Pretraining from random init: `method` takes the pretrain recipe's model and data keys (`sharing`,
    `embedding_size`, `hidden_size`, `num_hidden_layers`, `sentence_objective`, `corpus`, `max_length`,
    `max_documents`, ...) and `training`: `TrainingArguments` fields for the pretraining run that differ from the
    recipe's `training` (learning rate, epochs, ...). The tokenizer is the source's (so the baseline reads the same
    tokens) unless `tokenizer` is given. With the default corpus `bbc-news` and the task `bbc-news`, only the task's
    training articles are pretrained on, so the test articles stay unseen, even unlabeled.
    """
    if _albert_sop_init(recipe) == "albert":
        return build_converted_albert_sop(recipe, run_dir)
    from ..pretraining.pretrain import pretrain

    model_args, data_args, training_args = albert_sop_arguments(recipe, run_dir / "pretrain")
    corpus_name = Path(data_args.corpus).name
    if data_args.corpus == "bbc-news":
        if recipe.task == "bbc-news":  # the task's own split: its test articles stay unseen
            data_args.corpus_split_seed = recipe.training.get("split_seed", 42)
        corpus_name = f"BBC News article bodies of the training split (split seed {data_args.corpus_split_seed})"
    pretrained = pretrain(model_args, data_args, training_args)
    model_dir, metrics = finetune_run(recipe, run_dir, {"model": str(run_dir / "pretrain" / "model")})
    metrics["recipe"]["model"]["model"] = "the Albert-SOP pretrained by this build"  # not this machine's folder
    metrics["method"] = {
        "sharing": model_args.sharing,
        "sentence_objective": model_args.sentence_objective,
        "pretraining_steps": pretrained["train"]["global_step"],
        "pretraining_data": f"{corpus_name}: {pretrained['documents']['train']} documents, "
        f"{pretrained['pairs']['train']} {model_args.sentence_objective.upper()} pairs of up to "
        f"{data_args.max_length} tokens, {training_args.num_train_epochs:g} epoch(s), MLM + "
        f"{model_args.sentence_objective.upper()} from random init",
        "pretraining_eval": {
            "documents": pretrained["documents"]["eval"],
            "sop_accuracy": pretrained["sop_accuracy"],
            "nsp_accuracy": pretrained["nsp_accuracy"],
            "mlm_accuracy": pretrained["mlm_accuracy"],
        },
    }
    return Built(model_dir, metrics)


def build_converted_albert_sop(recipe: ZooRecipe, run_dir: Path) -> Built:
    """Convert the teacher into an Albert-SOP with `compactbert.albert_from_bert`, then distil it with
    `compactbert distill` (`student_init: albert`).

    `method` takes the distill recipe's keys: `teacher` (a fine-tuned folder; without it the build fine-tunes `source`
    on the task with the recipe's `training` into `teacher/`, and that run is also the baseline), the conversion
    (`albert_embedding_size`, `albert_sharing`, `albert_init`, `albert_frequency_weighting`: weight the SVD's word rows
    by token counts in the task's training texts), the stages and loss weights (`stages`, `alpha_*`, `temperature`,
    ...; the student applies its layer(s) as many times as the teacher has layers, so hidden states and attention
    scores match one to one), and `training`: `TrainingArguments` fields for the distillation runs that differ from
    the recipe's `training`.
    """
    teacher, arguments = albert_conversion_arguments(recipe, run_dir)
    _, teacher_args, _, training_args = arguments
    # the converted student's config records its source (the teacher): named as the card names it
    model_dir, metrics, baseline, teacher_name, _ = _distil(
        recipe, run_dir, teacher, arguments, {"source_model": True}
    )
    record = tiny_bert_record(teacher_args, training_args, metrics, recipe.source, _task_name(recipe))
    conversion = {"name": "converted from the teacher by `albert_from_bert` (the settings above)", "data": None}
    record["stages"].insert(0, conversion | {"epochs": None})
    texts = metrics.get("albert_frequency_texts")
    metrics["method"] = {
        "student_init": "albert",
        "teacher": teacher_name,
        "frequency_texts": None if texts is None else f"{texts} texts of the {_task_name(recipe)} training split",
    } | record
    return Built(model_dir, metrics, baseline)


# family (a registered `model_type`) -> its builder; a family without training code has none
BUILDERS: dict[str, Callable[[ZooRecipe, Path], Built]] = {}


def register_builder(family: str, builder: Callable[[ZooRecipe, Path], Built]) -> None:
    """Let `compactbert build` build `family` with `builder(recipe, run_dir) -> Built`.

    Builders are registered here, by family name, rather than named in the `Family` records: the models layer never
    refers to the layers above it. The family must be registered (`compactbert.models`) and have one builder.
    """
    from ..models import FAMILIES

    if family not in FAMILIES:
        raise ValueError(
            f"cannot register a builder for '{family}': no such compactbert family; registered: "
            f"{', '.join(sorted(FAMILIES))}"
        )
    if BUILDERS.get(family, builder) is not builder:
        raise ValueError(f"family '{family}' already has a builder ({BUILDERS[family].__name__})")
    BUILDERS[family] = builder


register_builder("shrunk_bert", build_shrunk_bert)
register_builder("tiny_bert", build_tiny_bert)
register_builder("albert_sop", build_albert_sop)
