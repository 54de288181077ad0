"""`DistillationTrainer`: a `transformers.Trainer` that trains a student against a frozen teacher.

It overrides `__init__` (to take the teacher and set up layer mapping, projection and the teacher-output cache),
`compute_loss`, and `train` (whose metrics record the teacher layers it matched); devices, precision, gradient
accumulation, checkpoints, resuming and multi-process training are the Trainer's. The loss components are logged by
the `LossComponentsLogging` mixin it shares with the pre-training trainer. The teacher is never handed to the
Trainer as its model: it is frozen, put in eval mode, and set up by the Trainer's accelerator in evaluation mode
(`prepare_model(teacher, evaluation_mode=True)`: placed on the device, never wrapped for gradient synchronisation),
so it runs under DDP, FSDP (a whole teacher per process) and DeepSpeed ZeRO 1/2 alike, and is never saved in
checkpoints.

Width projection: a TinyBert student projects its own states (its base model's `project_to_teacher`, a learned
`fit_dense` saved with it). Any other student whose width differs from the teacher's gets a `HiddenProjection`
added as the submodule `distillation_projection` of its base model: so the optimizer trains it, DDP synchronises it
and checkpoints hold it (a resumed run continues it). Remove it before saving the final model with
`strip_projection(student)` (the distill command does).
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import replace

import torch
from torch import nn
from transformers import PreTrainedConfig, PreTrainedModel, Trainer
from transformers.trainer_utils import TrainOutput

from ..loss_logging import LossComponentsLogging
from .arguments import DistillationTrainingArguments, check_checkpointing
from .attention import capture_attention_scores
from .cache import TeacherOutputCache
from .layer_map import kept_teacher_layers, map_layers
from .losses import (
    HiddenProjection,
    attention_score_mse,
    cosine_embedding_loss,
    hidden_mse,
    soft_cross_entropy,
    span_soft_cross_entropy,
)

PROJECTION_NAME = "distillation_projection"
_HIDDEN_COMPONENTS = ("cos", "embed", "hidden")
_LAYERED_COMPONENTS = ("hidden", "attn")  # the components that match student layers to teacher layers


class DistillationTrainer(LossComponentsLogging, Trainer):
    """Train `model` (the student) on `sum(alpha_k * L_k)` against `teacher`.

    Args:
        model: the student (any transformers model; a PEFT model works too).
        args: a [`DistillationTrainingArguments`].
        teacher: the teacher model; it must share the student's vocabulary.
        teacher_tokenizer: optional; when given with `processing_class`, the two vocabularies are compared entry by
            entry (otherwise only the models' vocabulary sizes and pad ids are).
        **kwargs: everything else `Trainer` takes (datasets, collator, processing_class, callbacks, ...).

    Each component's loss is logged (unweighted) next to `loss` as `loss_<component>` (`eval_loss_<component>` in
    evaluation logs). `teacher_layers` tells which teacher layer each student layer learns from (None when no
    hidden-state or attention loss is active); `teacher_forwards` counts the batches the teacher ran on.
    """

    def __init__(self, model=None, args=None, *, teacher: PreTrainedModel, teacher_tokenizer=None, **kwargs):
        if not isinstance(args, DistillationTrainingArguments):
            raise TypeError(
                f"args must be DistillationTrainingArguments, got {type(args).__name__}; from TrainingArguments of "
                "your own: DistillationTrainingArguments(**args.to_dict(), alpha_ce=1.0, alpha_label=1.0, ...) (to_dict "
                "masks hub_token: give it again if you push)"
            )
        if model is None or teacher is None:
            raise ValueError("DistillationTrainer needs both model= (the student) and teacher=")
        if not isinstance(getattr(teacher, "config", None), PreTrainedConfig):
            raise TypeError(
                f"teacher= takes a loaded model (e.g. AutoModelForSequenceClassification.from_pretrained(folder)), "
                f"got {type(teacher).__name__}"
            )
        student_base = _base_model(model)
        if teacher is model or teacher is student_base:
            raise ValueError("the teacher is the student itself; give the fine-tuned teacher as teacher=")
        _check_vocabularies(student_base, teacher, kwargs.get("processing_class"), teacher_tokenizer)
        _check_labels(student_base, teacher, args.active_components)
        s_config, t_config = student_base.config, teacher.config
        kept = kept_teacher_layers(s_config, t_config)  # the teacher's own layers, for a shrunk teacher too
        layer_map = "uniform" if args.layer_map is None else args.layer_map
        self.layer_mapping = map_layers(s_config.num_hidden_layers, t_config.num_hidden_layers, layer_map, kept)
        active = args.active_components
        layered = any(c in active for c in _LAYERED_COMPONENTS)
        source = getattr(s_config, "source_num_hidden_layers", None)  # cut from it (or from its own source)
        same_depth = source is not None and source in (
            t_config.num_hidden_layers,
            getattr(t_config, "source_num_hidden_layers", None),
        )
        # only the default is second-guessed: a layer_map given, `uniform` included, is the user's choice
        if layered and args.layer_map is None and same_depth and kept and list(kept) != list(self.layer_mapping):
            warnings.warn(
                f"the student was cut from teacher layers {list(kept)}, but the default layer_map 'uniform' has its "
                f"layers learn from teacher layers {list(self.layer_mapping)}: layer_map='kept' pairs each student "
                "layer with the layer it started as (when it was cut from this teacher); layer_map='uniform' keeps "
                "this without the warning",
                stacklevel=2,
            )
        checkpointing = any(getattr(m, "gradient_checkpointing", False) is True for m in student_base.modules())
        check_checkpointing(active, checkpointing, "the student has gradient checkpointing enabled")
        if "attn" in active and s_config.num_attention_heads != t_config.num_attention_heads:
            raise ValueError(
                f"alpha_attn compares attention heads one to one, but the student has {s_config.num_attention_heads} "
                f"heads and the teacher {t_config.num_attention_heads}; set alpha_attn: 0 or match the heads"
            )
        self.projection = None
        uses_projection = any(c in active for c in _HIDDEN_COMPONENTS) and s_config.hidden_size != t_config.hidden_size
        backbone = getattr(student_base, "base_model", student_base)
        if hasattr(backbone, "set_projection_trainable"):  # TinyBert: its projection trains only when a loss uses it
            backbone.set_projection_trainable(uses_projection)
        if uses_projection:
            if hasattr(backbone, "project_to_teacher"):
                self.projection = backbone.project_to_teacher
            else:
                if not hasattr(backbone, PROJECTION_NAME):
                    projection = HiddenProjection(
                        s_config.hidden_size,
                        t_config.hidden_size,
                        num_states=s_config.num_hidden_layers + 1,
                        shared=args.projection_shared,
                    )
                    backbone.add_module(PROJECTION_NAME, projection.to(next(backbone.parameters()).device))
                self.projection = getattr(backbone, PROJECTION_NAME)
        _check_not_partitioned(teacher)
        if args.ddp_static_graph is None:
            # under DDP the width projection runs after the student's forward (in compute_loss), and a stage may give
            # a head no gradient (intermediate): DDP's default search for unused parameters at the end of the forward
            # would call the projection unused, then fail when its gradient comes; a static graph learns in the first
            # step which parameters get gradients, and they are the same every step
            args = replace(args, ddp_static_graph=True)
        super().__init__(model=model, args=args, **kwargs)
        self.teacher = teacher.eval().requires_grad_(False)
        self._teacher_prepared = False  # by the accelerator, at its first forward (after the student's preparation)
        # our loss is a mean over each micro-batch: let the Trainer divide it by the accumulation steps
        self.model_accepts_loss_kwargs = False
        self.loss_is_scaled_for_ga = False
        self._student_keys = _forward_keys(student_base)
        self._teacher_keys = _forward_keys(_base_model(teacher)) - {"labels"}  # a PEFT wrapper names fewer
        self._set_signature_columns_if_needed()
        # keep the teacher's inputs (e.g. token_type_ids) in the batches even when the student does not take them
        self._signature_columns = list(dict.fromkeys([*self._signature_columns, *sorted(self._teacher_keys)]))
        self._is_mlm = student_base.get_output_embeddings() is not None
        self._teacher_cache = TeacherOutputCache() if args.cache_teacher_outputs else None
        self.teacher_forwards = 0  # how many batches the teacher has run on (the cache saves these)

    @property
    def teacher_layers(self) -> list[int] | None:
        """The 0-based teacher layer each student layer learns from (`layer_map` resolved for these two models),
        or None when no active component (hidden states, attention scores) matches layers."""
        if not any(c in self.args.active_components for c in _LAYERED_COMPONENTS):
            return None
        return list(self.layer_mapping)

    def train(self, *args, **kwargs) -> TrainOutput:
        """`Trainer.train()`; the metrics it returns also record `teacher_layers`, the layers this run matched."""
        output = super().train(*args, **kwargs)
        output.metrics["teacher_layers"] = self.teacher_layers
        return output

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """The weighted sum of the active components; each is also recorded for logging."""
        args: DistillationTrainingArguments = self.args
        active = args.active_components
        need_hidden = any(c in active for c in _HIDDEN_COMPONENTS)
        need_attn = "attn" in active
        need_own_loss = any(c in active for c in ("label", "mlm"))
        student_inputs = {k: v for k, v in inputs.items() if k in self._student_keys}
        if not need_own_loss and "labels" in student_inputs and not return_outputs:
            student_inputs.pop("labels")  # the student's own loss is not used: do not compute it
        if need_hidden:
            student_inputs["output_hidden_states"] = True
        if need_attn:
            with capture_attention_scores(model) as student_scores:
                outputs = model(**student_inputs)
        else:
            student_scores = []
            outputs = model(**student_inputs)
        teacher = self._teacher_outputs(
            inputs, need_logits="ce" in active, need_hidden=need_hidden, need_attn=need_attn
        )
        mask = inputs.get("attention_mask")
        if mask is None:
            mask = torch.ones(inputs["input_ids"].shape, device=inputs["input_ids"].device, dtype=torch.long)
        mask = mask.reshape(-1, mask.shape[-1])  # multiple choice: (batch, choices, seq), as the model flattens it

        losses: dict[str, torch.Tensor] = {}
        if "ce" in active and outputs.get("start_logits") is not None:  # question answering: the span's two ends
            losses["ce"] = span_soft_cross_entropy(
                _logits(outputs, "student"), teacher["logits"], args.temperature, args.soft_loss_form, mask
            )
        elif "ce" in active:
            s_logits = _logits(outputs, "student")
            positions = None
            if s_logits.ndim == 3:  # token-level logits: masked-LM positions when labelled, else real tokens
                labels = inputs.get("labels")
                positions = (labels != -100) if labels is not None and labels.shape == mask.shape else mask.bool()
            losses["ce"] = soft_cross_entropy(
                s_logits, teacher["logits"], args.temperature, args.soft_loss_form, positions
            )
        if need_own_loss:
            if outputs.get("loss") is None:
                raise ValueError("alpha_label / alpha_mlm need labels in the batch: the student returned no loss")
            losses["mlm" if self._is_mlm else "label"] = outputs["loss"]
        if need_hidden:
            states = tuple(outputs.hidden_states)
            if self.projection is not None:
                states = tuple(self.projection(states))
            t_states = teacher["hidden_states"]  # embeddings, then the mapped teacher layers
            if "embed" in active:
                losses["embed"] = hidden_mse(states[0], t_states[0], mask)
            if "hidden" in active:
                losses["hidden"] = sum(hidden_mse(s, t, mask) for s, t in zip(states[1:], t_states[1:], strict=True))
            if "cos" in active:
                losses["cos"] = cosine_embedding_loss(states[-1], t_states[-1], mask)
        if need_attn:
            losses["attn"] = sum(
                attention_score_mse(s, t, mask) for s, t in zip(student_scores, teacher["scores"], strict=True)
            )
        loss = sum(getattr(args, f"alpha_{name}") * value for name, value in losses.items())
        self.record_loss_components({f"loss_{name}": value for name, value in losses.items()}, model, inputs)
        if return_outputs:
            # what evaluation gathers: the student's predictions, not its hidden states
            return loss, {k: v for k, v in outputs.items() if k not in ("hidden_states", "attentions", "loss")}
        return loss

    @property
    def teacher_cache_bytes(self) -> int:
        """Bytes of tensor memory the teacher-output cache holds (0 when `cache_teacher_outputs` is off)."""
        return 0 if self._teacher_cache is None else self._teacher_cache.nbytes

    # --- the teacher ---------------------------------------------------------------------------------------------

    def _teacher_outputs(self, inputs, need_logits: bool, need_hidden: bool, need_attn: bool) -> dict:
        """The teacher's logits, its embeddings + mapped hidden states, and its mapped scores (from the cache when on)."""
        if not (need_logits or need_hidden or need_attn):
            return {}  # a labels-only stage (e.g. a pruned student trained on the task): the teacher is not needed
        t_inputs = {k: v for k, v in inputs.items() if k in self._teacher_keys}

        def run() -> dict:
            return self._run_teacher(t_inputs, need_logits, need_hidden, need_attn)

        return run() if self._teacher_cache is None else self._teacher_cache.fetch(t_inputs, run)

    def _prepared_teacher(self) -> nn.Module:
        """The teacher, set up by the Trainer's accelerator the first time it runs: after the student, so an
        `evaluate()` before training still prepares the student first (the Trainer prepares its model for evaluation
        only while the accelerator holds none)."""
        if not self._teacher_prepared:
            # FSDP leaves placement to its own wrapping, which evaluation mode skips: place the teacher here
            own_forward = self.teacher.__dict__.get("forward")  # an instance-level forward, if it had one
            teacher = self.accelerator.prepare_model(self.teacher.to(self.args.device), evaluation_mode=True)
            # under mixed precision, accelerate wraps the forward in autocast and upcasts every output to fp32;
            # `_run_teacher` applies the autocast itself, so the teacher's outputs (and the cache) keep the precision
            # they were computed in
            teacher = self.accelerator.unwrap_model(teacher, keep_fp32_wrapper=False)
            # with torch_compile the teacher comes back compiled: it runs as it is (its attention implementation
            # switched for the scores, its outputs collected), and a compiled wrapper would lose its forward below
            teacher = getattr(teacher, "_orig_mod", teacher)
            # that unwrapping follows `__wrapped__` past transformers' own forward decorators too, and a bare encoder
            # (BertModel) collects `hidden_states` in one of them: give the teacher back the forward it had
            if own_forward is None:
                teacher.__dict__.pop("forward", None)
            else:
                teacher.forward = own_forward
            self.teacher = teacher
            self._teacher_prepared = True
        return self.teacher

    def _run_teacher(self, t_inputs, need_logits: bool, need_hidden: bool, need_attn: bool) -> dict:
        teacher = self._prepared_teacher()
        self.teacher_forwards += 1
        # the teacher runs under the student's autocast, or a bf16 run pays for an fp32 teacher forward every step
        with torch.no_grad(), self.accelerator.autocast():
            if need_attn:
                with capture_attention_scores(teacher) as scores:
                    out = teacher(**t_inputs, output_hidden_states=need_hidden)
            else:
                scores = []
                out = teacher(**t_inputs, output_hidden_states=need_hidden)
        result: dict = {}
        if need_logits:
            result["logits"] = _logits(out, "teacher")
        if need_hidden:
            result["hidden_states"] = [out.hidden_states[0]] + [out.hidden_states[j + 1] for j in self.layer_mapping]
        if need_attn:
            result["scores"] = [scores[j] for j in self.layer_mapping]
        return result


def strip_projection(student: nn.Module) -> HiddenProjection | None:
    """Remove (and return) the trainer-added width projection, so the saved student is a plain model."""
    backbone = getattr(_base_model(student), "base_model", student)
    projection = getattr(backbone, PROJECTION_NAME, None)
    if projection is not None:
        delattr(backbone, PROJECTION_NAME)
    return projection


def _base_model(model: nn.Module) -> nn.Module:
    """The transformers model inside a PEFT wrapper (or the model itself)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def _forward_keys(model: nn.Module) -> set[str]:
    params = inspect.signature(model.forward).parameters.values()
    return {p.name for p in params if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)}


def _check_not_partitioned(teacher: nn.Module) -> None:
    """Refuse a teacher whose parameters DeepSpeed ZeRO-3 partitioned at load time: it runs outside DeepSpeed's
    engine here, where each process needs the whole teacher."""
    if any(hasattr(p, "ds_id") for p in teacher.parameters()):
        raise ValueError(
            "the teacher's parameters are partitioned by DeepSpeed ZeRO-3 (it was loaded while a ZeRO-3 config was "
            "active), but the DistillationTrainer runs the whole teacher on every process; load the teacher before "
            "creating the ZeRO-3 TrainingArguments, or use ZeRO stage 1 or 2, or FSDP"
        )


def _logits(outputs, who: str) -> torch.Tensor:
    """The head's logits; a question-answering head's start and end logits as one (batch, seq, 2) tensor, which
    the teacher-output cache keeps per token like any token-level logits."""
    get = outputs.get if hasattr(outputs, "get") else lambda name: None
    for name in ("logits", "prediction_logits"):
        if get(name) is not None:
            return get(name)
    if get("start_logits") is not None and get("end_logits") is not None:
        return torch.stack([get("start_logits"), get("end_logits")], dim=-1)
    raise ValueError(
        f"alpha_ce needs logits from the {who}, but it returned none (a model without a head?); set alpha_ce: 0 "
        "for this stage or give both models the same head"
    )


def _check_labels(student, teacher, active) -> None:
    """Refuse classifiers of different label counts when a loss compares their logits (`ce`), at construction
    rather than as a shape mismatch at the first step."""
    classifiers = all(type(m).__name__.endswith("ForSequenceClassification") for m in (student, teacher))
    if "ce" in active and classifiers and student.config.num_labels != teacher.config.num_labels:
        raise ValueError(
            f"the teacher predicts {teacher.config.num_labels} labels and the student {student.config.num_labels}: "
            "alpha_ce matches their logits label by label; give a teacher fine-tuned on the student's task"
        )


def _check_vocabularies(student, teacher, student_tokenizer, teacher_tokenizer) -> None:
    s, t = student.config, teacher.config
    if s.vocab_size != t.vocab_size or getattr(s, "pad_token_id", None) != getattr(t, "pad_token_id", None):
        raise ValueError(
            f"teacher and student must share a tokenizer, but their vocabularies differ: vocab_size "
            f"{t.vocab_size} (teacher) vs {s.vocab_size} (student), pad_token_id {getattr(t, 'pad_token_id', None)} "
            f"vs {getattr(s, 'pad_token_id', None)}; build the student from the teacher's tokenizer"
        )
    if student_tokenizer is not None and teacher_tokenizer is not None:
        s_vocab, t_vocab = student_tokenizer.get_vocab(), teacher_tokenizer.get_vocab()
        if s_vocab != t_vocab:
            differing = sorted(set(s_vocab.items()) ^ set(t_vocab.items()))[:5]
            raise ValueError(
                f"teacher and student tokenizers differ ({len(t_vocab)} vs {len(s_vocab)} entries; e.g. {differing}); "
                "they must be the same tokenizer"
            )
