"""`albert_from_bert()`: an Albert-SOP that starts where a trained BERT is (ALBERT's two ideas as compression).

- **Factorised embedding.** BERT sums its word, position and token-type embeddings in H-space and applies a
  LayerNorm; ALBERT sums them in E-space, applies the LayerNorm there, then maps E -> H with a linear layer. A
  LayerNorm first removes each vector's mean, so BERT's output depends only on the centred table `W` (each row less
  its mean), and ALBERT's E-space LayerNorm keeps E - 1 directions (its centred output has one dimension less). The
  conversion takes the top E - 1 right singular vectors of `W` (restricted to the directions orthogonal to the
  all-ones vector, where `W` lives), adds the all-ones direction (which the E-space LayerNorm removes), and rotates
  this E-dimensional basis `M` (H x E, orthonormal columns) so that its all-ones direction is E-space's:

      word / position / token-type tables (E-space) = centred source tables @ M
      E-space LayerNorm = identity scale, zero shift
      mapping E -> H: weight = sqrt(H / E) * diag(gamma) @ M, bias = beta (gamma, beta: the source's LayerNorm)

  The student's embedding output is then the source's LayerNorm applied to the source's embedding sum projected on
  the kept directions (with eps scaled by E / H), so with E = H (all H - 1 directions kept) it is exactly the
  source's. The word embeddings' relative reconstruction error is `||W - W M M^T||_F / ||W||_F`, the truncated SVD's
  tail energy for plain SVD.
- **Shared layers.** BERT and ALBERT layers hold the same blocks (attention with its LayerNorm; feed-forward with
  its LayerNorm), so a student layer takes a source layer's tensors; a shared block starts from a named rule over
  the source's layers (`mean`, `first`, `middle`, `last` or an index) and is applied as many times as the source has
  layers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ..assets import BUILTIN_MODELS
from ..checkpoints import check_tokenizer_fits, load_tokenizer, read_config, read_tensors, resolve_model_folder
from ..fields import as_texts
from ..models.albert_sop import (
    SHARING_MODES,
    AlbertSopConfig,
    AlbertSopForMultipleChoice,
    AlbertSopForQuestionAnswering,
    AlbertSopForSequenceClassification,
    AlbertSopForTokenClassification,
    AlbertSopModel,
    AlbertSopPreTrainedModel,
)
from . import DEFAULT_INIT, FACTORIZATIONS, INIT_RULES

SUPPORTED_MODEL_TYPES = ("bert", "shrunk_bert", "tiny_bert")
_FAMILY_PREFIXES = ("ShrunkBert", "TinyBert", "Bert")  # longest first
# the source's head (its class name less the family prefix) -> the Albert-SOP class and the head's own modules
HEADS: dict[str, tuple[type[AlbertSopPreTrainedModel], tuple[str, ...]]] = {
    "Model": (AlbertSopModel, ()),
    "ForSequenceClassification": (AlbertSopForSequenceClassification, ("classifier",)),
    "ForTokenClassification": (AlbertSopForTokenClassification, ("classifier",)),
    "ForQuestionAnswering": (AlbertSopForQuestionAnswering, ("qa_outputs",)),
    "ForMultipleChoice": (AlbertSopForMultipleChoice, ("classifier",)),
}
# a BERT layer's modules -> the ALBERT layer's, split into the attention block and the feed-forward block
ATTENTION_PARTS = {
    "attention.self.query": "attention.query",
    "attention.self.key": "attention.key",
    "attention.self.value": "attention.value",
    "attention.output.dense": "attention.dense",
    "attention.output.LayerNorm": "attention.LayerNorm",
}
FFN_PARTS = {
    "intermediate.dense": "ffn",
    "output.dense": "ffn_output",
    "output.LayerNorm": "full_layer_layer_norm",
}
SHARED_PARTS = {
    "all": (*ATTENTION_PARTS.values(), *FFN_PARTS.values()),
    "attention": tuple(ATTENTION_PARTS.values()),
    "ffn": tuple(FFN_PARTS.values()),
    "none": (),
}


@dataclass
class EmbeddingFactorization:
    r"""
    The source's embeddings in an E-dimensional space that ALBERT's embedding LayerNorm and E -> H mapping turn back
    into what the source's LayerNorm gives (see the module docstring).

    Args:
        word (`torch.Tensor` of shape `(vocab, E)`), position (`(max_positions, E)`), token_type (`(type_vocab, E)`):
            The E-space tables: each source table, centred row by row, times `basis`.
        basis (`torch.Tensor` of shape `(H, E)`):
            Orthonormal columns: the E - 1 kept directions of the centred word embeddings and the all-ones direction,
            rotated so that E-space's all-ones vector maps to H-space's.
        directions (`torch.Tensor` of shape `(H, E - 1)`):
            The kept directions (orthonormal, orthogonal to the all-ones vector), most important first.
        reconstruction_error (`float`):
            `||W - W D D^T||_F / ||W||_F` for the centred word embeddings `W` and the directions `D`.
    """

    word: torch.Tensor
    position: torch.Tensor
    token_type: torch.Tensor
    basis: torch.Tensor
    directions: torch.Tensor
    reconstruction_error: float


def _reflection(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The Householder reflection (symmetric, orthogonal) that swaps the unit vectors `a` and `b`."""
    u = a - b
    norm = u.dot(u)
    eye = torch.eye(len(a), dtype=a.dtype)
    return eye if norm < 1e-24 else eye - 2 * torch.outer(u, u) / norm


def _unit(n: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(the last basis vector, the normalised all-ones vector) of R^n."""
    last = torch.zeros(n, dtype=dtype)
    last[-1] = 1
    return last, torch.full((n,), 1 / math.sqrt(n), dtype=dtype)


def _centred(table: torch.Tensor) -> torch.Tensor:
    return table - table.mean(dim=-1, keepdim=True)


def factorize_embeddings(
    word: torch.Tensor,
    position: torch.Tensor,
    token_type: torch.Tensor,
    embedding_size: int,
    row_weights: torch.Tensor | None = None,
) -> EmbeddingFactorization:
    """Map a BERT's embedding tables into an `embedding_size`-dimensional space by truncated SVD.

    Args:
        word (`torch.Tensor` of shape `(vocab, H)`), position (`(max_positions, H)`), token_type (`(type_vocab, H)`):
            The source's embedding tables.
        embedding_size (`int`): E, from 2 to H.
        row_weights (`torch.Tensor` of shape `(vocab,)`, *optional*):
            Non-negative weights of the word rows in the SVD (frequency-weighted SVD: the kept directions minimise
            `sum_i weight_i * ||w_i - w_i D D^T||^2`). Every row is still projected on the kept directions, and the
            reported error stays the unweighted one. Default: plain SVD.

    Returns:
        [`EmbeddingFactorization`], in float64.
    """
    hidden = word.shape[1]
    if not 2 <= embedding_size <= hidden:
        raise ValueError(f"embedding_size must be between 2 and the hidden size {hidden}, got {embedding_size}")
    dtype = torch.float64
    last_h, ones_h = _unit(hidden, dtype)
    complement = _reflection(last_h, ones_h)[:, :-1]  # (H, H - 1): orthonormal, orthogonal to the all-ones vector
    centred = _centred(word.to(dtype))  # (vocab, H)
    coordinates = centred @ complement  # (vocab, H - 1)
    if row_weights is not None:
        if row_weights.shape != (word.shape[0],) or bool((row_weights < 0).any()):
            raise ValueError(f"row_weights must be {word.shape[0]} non-negative numbers, one per word row")
        coordinates = coordinates * row_weights.to(dtype).sqrt()[:, None]
    _, _, vh = torch.linalg.svd(coordinates, full_matrices=False)  # vh: (H - 1, H - 1)
    directions = complement @ vh[: embedding_size - 1].T  # (H, E - 1)
    last_e, ones_e = _unit(embedding_size, dtype)
    basis = torch.cat([directions, ones_h[:, None]], dim=1) @ _reflection(last_e, ones_e)  # (H, E)

    total = torch.linalg.matrix_norm(centred)
    residual = torch.linalg.matrix_norm(centred - centred @ directions @ directions.T)
    error = float(residual / total) if total > 0 else 0.0
    return EmbeddingFactorization(
        word=centred @ basis,
        position=_centred(position.to(dtype)) @ basis,
        token_type=_centred(token_type.to(dtype)) @ basis,
        basis=basis,
        directions=directions,
        reconstruction_error=error,
    )


def resolve_init(init: str | int, num_layers: int) -> tuple[str, list[int]]:
    """The rule's name as the config records it and the 0-based source layers whose mean starts a shared block.

    `"mean"`: every layer; `"first"`: 0; `"middle"`: `num_layers // 2` (the later of two middle layers);
    `"last"`: `num_layers - 1`; an `int` (or a string of digits): that layer.
    """
    if isinstance(init, str) and init.strip().isdigit():
        init = int(init)
    if isinstance(init, bool) or not isinstance(init, (str, int)):
        raise TypeError(f"init must be a rule name or a layer index, got {init!r}")
    if isinstance(init, int):
        if not 0 <= init < num_layers:
            raise ValueError(f"init layer index {init} is out of range: the source has layers 0..{num_layers - 1}")
        return str(init), [init]
    layers = {"mean": list(range(num_layers)), "first": [0], "middle": [num_layers // 2], "last": [num_layers - 1]}
    if init not in layers:
        raise ValueError(
            f"unknown init '{init}'; choose one of: {', '.join(INIT_RULES)}, or a 0-based source layer index "
            f"(0..{num_layers - 1})"
        )
    return init, layers[init]


def shared_weights(layers: Sequence[dict[str, torch.Tensor]], init: str | int = "mean") -> dict[str, torch.Tensor]:
    """The tensors a shared block starts from: the elementwise mean of the chosen source layers' tensors.

    Args:
        layers (`Sequence[dict[str, torch.Tensor]]`): per source layer, its tensors by name (the same names in each).
        init (`str` or `int`): a rule of `INIT_RULES` or a 0-based layer index (see `resolve_init`).

    >>> import torch
    >>> layers = [{"w": torch.tensor([1.0, 2.0])}, {"w": torch.tensor([3.0, 6.0])}]
    >>> shared_weights(layers, "mean")["w"].tolist(), shared_weights(layers, "last")["w"].tolist()
    ([2.0, 4.0], [3.0, 6.0])
    """
    _, chosen = resolve_init(init, len(layers))
    return {
        name: torch.stack([layers[i][name].double() for i in chosen]).mean(dim=0).to(tensor.dtype)
        for name, tensor in layers[0].items()
    }


def albert_from_bert(
    source: PreTrainedModel | str | os.PathLike,
    embedding_size: int = 128,
    sharing: str = "all",
    init: str | int = DEFAULT_INIT,
    *,
    frequency_texts: Sequence[str] | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
    allow_pickle: bool = False,
    revision: str | None = None,
) -> AlbertSopPreTrainedModel:
    """An Albert-SOP started from a trained BERT: factorised embeddings by truncated SVD, layers from its layers.

    Args:
        source: a loaded BERT, ShrunkBert or TinyBert (bare, or with a sequence classification, token
            classification, question answering or multiple-choice head: the head comes along), a local folder, a
            Hub id, or a built-in name (`"minilm"`).
        embedding_size: E, from 2 to the source's hidden size H. With E = H and `sharing="none"` the result computes
            what the source computes.
        sharing: what the layers share, one of `SHARING_MODES`: `"all"` (one layer applied as many times as the
            source has layers), `"attention"`, `"ffn"` (one shared block; the other block of layer i is source layer
            i's) or `"none"` (layer i is source layer i).
        init: how a shared block starts: `"middle"` (layer `num_layers // 2`; the default, the best start in the
            conversion study), `"mean"` (the elementwise mean of the source's layers), `"first"`, `"last"`, or a
            0-based source layer index.
        frequency_texts: texts whose token counts weight the word rows of the SVD (row i by 1 + its count), so that
            frequent tokens are reproduced better. Default: plain SVD.
        tokenizer: the source's tokenizer, for `frequency_texts` (default: the one saved with a folder source).
        allow_pickle: accept a folder whose weights are only `pytorch_model.bin` (pickle can execute code).
        revision: the Hub revision when `source` is a Hub id.

    Returns:
        The `AlbertSop*` model matching the source's head, in eval mode, in the source's dtype. Its config records
        `source_model`, `embedding_size`, `sharing`, `shared_init`, `embedding_factorization` and
        `embedding_reconstruction_error`.

    >>> import compactbert
    >>> albert = compactbert.albert_from_bert("minilm", embedding_size=128, sharing="all", init="mean")
    >>> type(albert).__name__, albert.config.num_hidden_layers, round(albert.config.embedding_reconstruction_error, 2)
    ('AlbertSopModel', 6, 0.58)
    """
    if sharing not in SHARING_MODES:
        raise ValueError(f"unknown sharing '{sharing}'; choose one of: {', '.join(SHARING_MODES)}")
    if frequency_texts is not None:
        frequency_texts = as_texts(frequency_texts, "frequency_texts")
    folder = None
    if isinstance(source, PreTrainedModel):
        config, head = source.config, type(source).__name__
        source_name = config._name_or_path or head
        tensors = {name: t.detach() for name, t in source.state_dict().items()}
    elif isinstance(source, (str, os.PathLike)):
        folder = resolve_model_folder(source, revision=revision, allow_pickle=allow_pickle)
        config = _read_config(folder)
        head = (config.architectures or ["BertModel"])[0]
        text = os.fspath(source)
        source_name = BUILTIN_MODELS[text].hub_id if text in BUILTIN_MODELS else text
        tensors = None
    else:
        raise TypeError(f"source must be a model, a folder or a Hub id, got {type(source).__name__}")
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        shown = source_name if folder is not None else f"the given {head}"  # a loaded model's config names its source
        raise ValueError(
            f"{shown} is a '{config.model_type}' model; albert_from_bert() takes BERT-architecture models "
            f"(model_type one of: {', '.join(SUPPORTED_MODEL_TYPES)})"
        )
    target_class, head_modules = _target_head(head)
    hidden, num_layers = config.hidden_size, config.num_hidden_layers
    if isinstance(embedding_size, bool) or not isinstance(embedding_size, int):
        raise TypeError(f"embedding_size must be an int, got {embedding_size!r}")
    if not 2 <= embedding_size <= hidden:
        raise ValueError(
            f"embedding_size must be between 2 and the source's hidden size {hidden}, got {embedding_size} (E > H "
            "would add parameters; E = 1 carries nothing, as the E-space LayerNorm centres its input)"
        )
    init_name, _ = resolve_init(init, num_layers)
    if tensors is None:
        tensors = read_tensors(folder, lambda name: name, allow_pickle=allow_pickle)
    tensors = {name.removeprefix("bert."): t for name, t in tensors.items()}

    row_weights = None
    if frequency_texts is not None:
        row_weights = _token_counts(frequency_texts, tokenizer, folder, config) + 1

    def tensor(name: str) -> torch.Tensor:
        if name not in tensors:
            raise ValueError(f"{source_name} has no tensor '{name}': it does not hold every weight of a {head}")
        return tensors[name]

    factorization = factorize_embeddings(
        tensor("embeddings.word_embeddings.weight"),
        tensor("embeddings.position_embeddings.weight"),
        tensor("embeddings.token_type_embeddings.weight"),
        embedding_size,
        row_weights=row_weights,
    )
    albert_config = _albert_config(
        config,
        embedding_size,
        sharing,
        init_name=None if sharing == "none" else init_name,
        source_name=source_name,
        factorization=FACTORIZATIONS[row_weights is not None],
        error=factorization.reconstruction_error,
    )
    state = _embedding_state(factorization, tensor, hidden, embedding_size)
    state |= _layer_state(tensor, num_layers, sharing, init)
    has_pooler = "pooler.dense.weight" in tensors
    if has_pooler:
        state |= {"pooler.weight": tensor("pooler.dense.weight"), "pooler.bias": tensor("pooler.dense.bias")}
    if folder is None:  # a loaded source: the student attends the same way (eager when attention maps are wanted)
        albert_config._attn_implementation = config._attn_implementation
    if target_class is AlbertSopModel:
        student = AlbertSopModel(albert_config, add_pooling_layer=has_pooler)
    else:
        state = {f"albert.{name}": t for name, t in state.items()}
        state |= {
            name: t for name, t in tensors.items() if name.split(".")[0] in head_modules
        }  # classifier.* / qa_outputs.*
        student = target_class(albert_config)
    dtype = tensor("embeddings.word_embeddings.weight").dtype
    missing, unexpected = student.load_state_dict({k: v.to(dtype) for k, v in state.items()}, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{source_name} does not map onto a {target_class.__name__}: missing {sorted(missing)}, "
            f"unexpected {sorted(unexpected)}"
        )
    student.to(dtype).eval()
    student.config._name_or_path = source_name
    return student


def _read_config(folder):
    try:
        return read_config(folder)
    except ValueError as err:  # an unknown model_type
        raise ValueError(f"{folder} is not a BERT-architecture model: {err}") from err


def _target_head(head: str) -> tuple[type[AlbertSopPreTrainedModel], tuple[str, ...]]:
    prefix = next((p for p in _FAMILY_PREFIXES if head.startswith(p)), None)
    target = HEADS.get(head.removeprefix(prefix)) if prefix else None
    if target is None:
        raise ValueError(
            f"cannot convert a {head}: Albert-SOP takes a BERT's head when it is one of "
            f"{', '.join('Bert' + suffix for suffix in HEADS)} (ALBERT's masked-LM and pretraining heads work in "
            "E-space: convert the bare encoder and train those heads)"
        )
    return target


def _token_counts(texts: Sequence[str], tokenizer, folder, config) -> torch.Tensor:
    """How often each vocabulary id occurs in `texts` tokenized as the model sees them (special tokens included)."""
    if tokenizer is None:
        if folder is None:
            raise ValueError("frequency_texts on a loaded model needs its tokenizer: pass tokenizer=...")
        tokenizer = load_tokenizer(folder)
    check_tokenizer_fits(tokenizer, config, folder or "the model")
    texts = list(texts)
    if not texts:
        raise ValueError("frequency_texts is empty; give some texts of the task's domain, or None for plain SVD")
    ids = tokenizer(texts, truncation=True, max_length=config.max_position_embeddings)["input_ids"]
    flat = torch.tensor([i for row in ids for i in row], dtype=torch.long)
    if flat.numel() and int(flat.max()) >= config.vocab_size:
        raise ValueError(
            f"the tokenizer gives ids up to {int(flat.max())}; the source's vocabulary has {config.vocab_size}"
        )
    return torch.bincount(flat, minlength=config.vocab_size).double()


def _albert_config(config, embedding_size, sharing, init_name, source_name, factorization, error) -> AlbertSopConfig:
    classifier_dropout = getattr(config, "classifier_dropout", None)
    return AlbertSopConfig(
        vocab_size=config.vocab_size,
        embedding_size=embedding_size,
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size,
        hidden_act=config.hidden_act,
        hidden_dropout_prob=config.hidden_dropout_prob,
        attention_probs_dropout_prob=config.attention_probs_dropout_prob,
        classifier_dropout_prob=config.hidden_dropout_prob if classifier_dropout is None else classifier_dropout,
        max_position_embeddings=config.max_position_embeddings,
        type_vocab_size=config.type_vocab_size,
        initializer_range=config.initializer_range,
        layer_norm_eps=config.layer_norm_eps,
        chunk_size_feed_forward=config.chunk_size_feed_forward,
        pad_token_id=config.pad_token_id,
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        id2label=dict(config.id2label),
        label2id=None if config.label2id is None else dict(config.label2id),
        problem_type=config.problem_type,
        sharing=sharing,
        source_model=source_name,
        shared_init=init_name,
        embedding_factorization=factorization,
        embedding_reconstruction_error=error,
    )


def _embedding_state(factorization: EmbeddingFactorization, tensor, hidden: int, embedding_size: int) -> dict:
    gamma = tensor("embeddings.LayerNorm.weight").double()
    scale = math.sqrt(hidden / embedding_size)  # the E-space LayerNorm divides by an RMS over E values, not H
    return {
        "embeddings.word_embeddings.weight": factorization.word,
        "embeddings.position_embeddings.weight": factorization.position,
        "embeddings.token_type_embeddings.weight": factorization.token_type,
        "embeddings.LayerNorm.weight": torch.ones(embedding_size, dtype=torch.float64),
        "embeddings.LayerNorm.bias": torch.zeros(embedding_size, dtype=torch.float64),
        "encoder.embedding_hidden_mapping_in.weight": scale * gamma[:, None] * factorization.basis,  # (H, E)
        "encoder.embedding_hidden_mapping_in.bias": tensor("embeddings.LayerNorm.bias"),
    }


def _layer_state(tensor, num_layers: int, sharing: str, init: str | int) -> dict:
    """The encoder's tensors: group g owns layer g's unshared blocks; group 0 also owns the shared block(s)."""
    parts = {**ATTENTION_PARTS, **FFN_PARTS}
    layers = [
        {
            f"{albert}.{kind}": tensor(f"encoder.layer.{i}.{bert}.{kind}")
            for bert, albert in parts.items()
            for kind in ("weight", "bias")
        }
        for i in range(num_layers)
    ]
    shared_modules = SHARED_PARTS[sharing]

    def is_shared(name: str) -> bool:
        return name.rsplit(".", 1)[0] in shared_modules

    shared = shared_weights([{k: v for k, v in layer.items() if is_shared(k)} for layer in layers], init)
    state = {}
    for g in range(1 if sharing == "all" else num_layers):
        own = {k: v for k, v in layers[g].items() if not is_shared(k)} | (shared if g == 0 else {})
        state |= {f"encoder.albert_layer_groups.{g}.albert_layers.0.{k}": v for k, v in own.items()}
    return state
