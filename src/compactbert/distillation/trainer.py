"""`DistillationTrainer`: a `transformers.Trainer` that trains a student against a frozen teacher.

It overrides `__init__` (to take the teacher and set up layer mapping, projection and logging) and `compute_loss`
only; devices, precision, gradient accumulation, checkpoints, resuming and multi-process training are the Trainer's.
The teacher is never handed to the Trainer: it is moved to the device, frozen and put in eval mode here, so it is
neither wrapped in DDP nor saved in checkpoints.

Width projection: a TinyBert student projects its own states (its base model's `project_to_teacher`, a learned
`fit_dense` saved with it). Any other student whose width differs from the teacher's gets a `HiddenProjection`
added as the submodule `distillation_projection` of its base model: so the optimizer trains it, DDP synchronises it
and checkpoints hold it (a resumed run continues it). Remove it before saving the final model with
`strip_projection(student)` (the distill command does).
"""

from __future__ import annotations

import hashlib
import inspect
from collections import defaultdict

import torch
from torch import nn
from transformers import PreTrainedModel, Trainer, TrainerCallback

from .arguments import DistillationTrainingArguments
from .attention import capture_attention_scores
from .layer_map import map_layers
from .losses import (
    HiddenProjection,
    attention_score_mse,
    cosine_embedding_loss,
    hidden_mse,
    soft_cross_entropy,
)

PROJECTION_NAME = "distillation_projection"
_HIDDEN_COMPONENTS = ("cos", "embed", "hidden")


class DistillationTrainer(Trainer):
    """Train `model` (the student) on `sum(alpha_k * L_k)` against `teacher`.

    Args:
        model: the student (any transformers model; a PEFT model works too).
        args: a [`DistillationTrainingArguments`].
        teacher: the teacher model; it must share the student's vocabulary.
        teacher_tokenizer: optional; when given with `processing_class`, the two vocabularies are compared entry by
            entry (otherwise only the models' vocabulary sizes and pad ids are).
        **kwargs: everything else `Trainer` takes (datasets, collator, processing_class, callbacks, ...).

    Each component's loss is logged (unweighted) next to `loss` as `loss_<component>`.
    """

    def __init__(self, model=None, args=None, *, teacher: PreTrainedModel, teacher_tokenizer=None, **kwargs):
        if not isinstance(args, DistillationTrainingArguments):
            raise TypeError(f"args must be DistillationTrainingArguments, got {type(args).__name__}")
        if model is None or teacher is None:
            raise ValueError("DistillationTrainer needs both model= (the student) and teacher=")
        student_base = _base_model(model)
        _check_vocabularies(student_base, teacher, kwargs.get("processing_class"), teacher_tokenizer)
        s_config, t_config = student_base.config, teacher.config
        self.layer_mapping = map_layers(s_config.num_hidden_layers, t_config.num_hidden_layers, args.layer_map)
        active = args.active_components
        if "attn" in active and s_config.num_attention_heads != t_config.num_attention_heads:
            raise ValueError(
                f"alpha_attn compares attention heads one to one, but the student has {s_config.num_attention_heads} "
                f"heads and the teacher {t_config.num_attention_heads}; set alpha_attn: 0 or match the heads"
            )
        self.projection = None
        if any(c in active for c in _HIDDEN_COMPONENTS) and s_config.hidden_size != t_config.hidden_size:
            backbone = getattr(student_base, "base_model", student_base)
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
        super().__init__(model=model, args=args, **kwargs)
        self.teacher = teacher.to(self.args.device).eval().requires_grad_(False)
        # our loss is a mean over each micro-batch: let the Trainer divide it by the accumulation steps
        self.model_accepts_loss_kwargs = False
        self.loss_is_scaled_for_ga = False
        self._student_keys = _forward_keys(student_base)
        self._teacher_keys = _forward_keys(teacher) - {"labels"}
        self._set_signature_columns_if_needed()
        # keep the teacher's inputs (e.g. token_type_ids) in the batches even when the student does not take them
        self._signature_columns = list(dict.fromkeys([*self._signature_columns, *sorted(self._teacher_keys)]))
        self._is_mlm = student_base.get_output_embeddings() is not None
        self._teacher_cache: dict[bytes, dict] | None = {} if args.cache_teacher_outputs else None
        self.teacher_forwards = 0  # how many batches the teacher has run on (the cache saves these)
        self._component_log = _ComponentLog()
        self.callback_handler.callbacks.insert(0, self._component_log)

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

        losses: dict[str, torch.Tensor] = {}
        if "ce" in active:
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
        if model.training:
            self._component_log.add({name: value.detach() for name, value in losses.items()})
        if return_outputs:
            # what evaluation gathers: the student's predictions, not its hidden states
            return loss, {k: v for k, v in outputs.items() if k not in ("hidden_states", "attentions", "loss")}
        return loss

    @property
    def teacher_cache_bytes(self) -> int:
        """Bytes of tensor memory the teacher-output cache holds (0 when `cache_teacher_outputs` is off)."""
        if not self._teacher_cache:
            return 0
        storages: dict[int, int] = {}  # a cached slice may share its storage with others: count each once
        for example in self._teacher_cache.values():
            for value in example.values():
                for tensor in value if isinstance(value, list) else [value]:
                    storage = tensor.untyped_storage()
                    storages[storage.data_ptr()] = storage.nbytes()
        return sum(storages.values())

    # --- the teacher ---------------------------------------------------------------------------------------------

    def _teacher_outputs(self, inputs, need_logits: bool, need_hidden: bool, need_attn: bool) -> dict:
        """The teacher's logits, its embeddings + mapped hidden states, and its mapped scores (from the cache when on)."""
        t_inputs = {k: v for k, v in inputs.items() if k in self._teacher_keys}
        if self._teacher_cache is None:
            return self._run_teacher(t_inputs, need_logits, need_hidden, need_attn)
        mask = t_inputs.get("attention_mask", torch.ones_like(t_inputs["input_ids"])).bool()
        keys = [_example_key(t_inputs, mask, i) for i in range(mask.shape[0])]
        if not all(key in self._teacher_cache for key in keys):
            fresh = self._run_teacher(t_inputs, need_logits, need_hidden, need_attn)
            for i, key in enumerate(keys):
                self._teacher_cache[key] = _slice_example(fresh, mask[i], i)
            return fresh
        return _stack_examples([self._teacher_cache[key] for key in keys], mask)

    def _run_teacher(self, t_inputs, need_logits: bool, need_hidden: bool, need_attn: bool) -> dict:
        self.teacher_forwards += 1
        # the Trainer autocasts only the student (accelerate wraps the prepared model's forward): the teacher needs
        # the same autocast here, or a bf16 run pays for an fp32 teacher forward every step
        with torch.no_grad(), self.accelerator.autocast():
            if need_attn:
                with capture_attention_scores(self.teacher) as scores:
                    out = self.teacher(**t_inputs, output_hidden_states=need_hidden)
            else:
                scores = []
                out = self.teacher(**t_inputs, output_hidden_states=need_hidden)
        result: dict = {}
        if need_logits:
            result["logits"] = _logits(out, "teacher")
        if need_hidden:
            result["hidden_states"] = [out.hidden_states[0]] + [out.hidden_states[j + 1] for j in self.layer_mapping]
        if need_attn:
            result["scores"] = [scores[j] for j in self.layer_mapping]
        return result


class _ComponentLog(TrainerCallback):
    """Averages each component over the micro-batches since the last log and adds it to that log entry."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, values: dict[str, torch.Tensor]) -> None:
        for name, value in values.items():
            self.sums[name] = self.sums[name] + value.float()
            self.counts[name] += 1

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is None or "loss" not in logs or not self.counts:
            return
        means = {f"loss_{name}": round(float(self.sums[name]) / self.counts[name], 6) for name in self.sums}
        logs.update(means)
        if state.log_history:
            state.log_history[-1].update(means)
        self.sums.clear()
        self.counts.clear()


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


def _logits(outputs, who: str) -> torch.Tensor:
    for name in ("logits", "prediction_logits"):
        value = outputs.get(name) if hasattr(outputs, "get") else None
        if value is not None:
            return value
    raise ValueError(
        f"alpha_ce needs logits from the {who}, but it returned none (a model without a head?); set alpha_ce: 0 "
        "for this stage or give both models the same head"
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


def _example_key(t_inputs: dict, mask: torch.Tensor, i: int) -> bytes:
    digest = hashlib.sha1()
    for name in sorted(t_inputs):
        value = t_inputs[name]
        if isinstance(value, torch.Tensor) and value.ndim >= 2 and value.shape[:2] == mask.shape:
            digest.update(name.encode())
            digest.update(value[i][mask[i]].cpu().numpy().tobytes())
    return digest.digest()


def _token_index(row_mask: torch.Tensor) -> slice | torch.Tensor:
    """An example's real-token positions: a slice when they are one run (right or left padding: plain copies),
    else their indices (advanced indexing, many times slower on attention scores)."""
    positions = row_mask.nonzero().squeeze(-1)
    if positions.numel() == 0:
        return positions
    first, last = int(positions[0]), int(positions[-1])
    return slice(first, last + 1) if last - first + 1 == positions.numel() else positions


def _take(values: torch.Tensor, index: slice | torch.Tensor) -> torch.Tensor:
    """`values[index]` as a tensor of its own (a slice is a view: it would keep the whole batch's storage alive)."""
    return values[index].clone() if isinstance(index, slice) else values[index]


def _pairs(index: slice | torch.Tensor) -> tuple:
    """The (query, key) index of `index` x `index` in a (heads, seq, seq) tensor."""
    return (index, index) if isinstance(index, slice) else (index[:, None], index[None, :])


def _slice_example(fresh: dict, row_mask: torch.Tensor, i: int) -> dict:
    """One example's teacher outputs, trimmed to its real tokens."""
    index = _token_index(row_mask)
    example: dict = {}
    if "logits" in fresh:
        logits = fresh["logits"][i]
        example["logits"] = _take(logits, index) if logits.ndim == 2 else logits.clone()
    if "hidden_states" in fresh:
        example["hidden_states"] = [_take(h[i], index) for h in fresh["hidden_states"]]
    if "scores" in fresh:
        example["scores"] = [s[i][(slice(None), *_pairs(index))].clone() for s in fresh["scores"]]
    return example


def _stack_examples(examples: list[dict], mask: torch.Tensor) -> dict:
    """Put cached per-example outputs back at their token positions in this batch (zeros at padding)."""
    batch, seq = mask.shape
    indices = [_token_index(mask[i]) for i in range(batch)]
    first = examples[0]
    result: dict = {}
    if "logits" in first:
        if first["logits"].ndim == 1:
            result["logits"] = torch.stack([e["logits"] for e in examples])
        else:
            out = first["logits"].new_zeros(batch, seq, first["logits"].shape[-1])
            for i, (e, index) in enumerate(zip(examples, indices, strict=True)):
                out[i, index] = e["logits"]
            result["logits"] = out
    if "hidden_states" in first:
        result["hidden_states"] = []
        for j, h0 in enumerate(first["hidden_states"]):
            out = h0.new_zeros(batch, seq, h0.shape[-1])
            for i, (e, index) in enumerate(zip(examples, indices, strict=True)):
                out[i, index] = e["hidden_states"][j]
            result["hidden_states"].append(out)
    if "scores" in first:
        result["scores"] = []
        for j, s0 in enumerate(first["scores"]):
            out = s0.new_zeros(batch, s0.shape[0], seq, seq)
            for i, (e, index) in enumerate(zip(examples, indices, strict=True)):
                out[i][(slice(None), *_pairs(index))] = e["scores"][j]
            result["scores"].append(out)
    return result
