"""The rows `compactbert bench` times: a registry of model specs, each built at BERT-base sizes or tiny ones.

`BENCH_MODELS` maps a row's name to a `BenchModel`: how to build it (fp32, random weights: weights do not change the
time) from a `BuildContext`, whether it is a compactbert family or transformers' own model, and for our rows the
transformers row of the same shape it is compared with. `register_bench_model` adds a row (a plugin's family, say);
`list_bench_models()` names them. The sizes come from `Shapes`: `BASE` (BERT-base and the papers' students) or
`QUICK` (hidden 32, for tests).

Registering and listing rows imports neither torch nor transformers (`compactbert bench --help` lists them): the
builders import what they need when a row is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..registries import Registry

TEACHER = "teacher"

# ----------------------------------------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Shapes:
    """Architecture sizes the rows are built from: BERT-base and the papers' students, or tiny ones (`--quick`)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    # TinyBERT-4 (Jiao et al. 2020)
    tiny_hidden_size: int = 312
    tiny_layers: int = 4
    tiny_heads: int = 12
    tiny_intermediate_size: int = 1200
    # ALBERT base (Lan et al. 2020): factorized embedding E, vocabulary 30000
    albert_embedding_size: int = 128
    albert_vocab_size: int = 30000
    matmul_size: int = 2048  # square matmul that measures the machine's matmul rate

    def bert_config(self, num_layers: int | None = None, **overrides):
        from transformers import BertConfig

        fields = dict(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_layers if num_layers is None else num_layers,
            num_attention_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            max_position_embeddings=self.max_position_embeddings,
        )
        return BertConfig(**(fields | overrides))

    def tiny_fields(self) -> dict[str, int]:
        return dict(
            vocab_size=self.vocab_size,
            hidden_size=self.tiny_hidden_size,
            num_hidden_layers=self.tiny_layers,
            num_attention_heads=self.tiny_heads,
            intermediate_size=self.tiny_intermediate_size,
            max_position_embeddings=self.max_position_embeddings,
        )

    def albert_fields(self) -> dict[str, int]:
        return dict(
            vocab_size=self.albert_vocab_size,
            embedding_size=self.albert_embedding_size,
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            max_position_embeddings=self.max_position_embeddings,
        )


BASE = Shapes()
QUICK = Shapes(
    vocab_size=128,
    hidden_size=32,
    num_heads=2,
    intermediate_size=64,
    tiny_hidden_size=24,
    tiny_heads=2,
    tiny_intermediate_size=48,
    albert_embedding_size=16,
    albert_vocab_size=120,
    matmul_size=128,
)


# --------------------------------------------------------------------------------------------------------- registry


@dataclass
class BuildContext:
    """What builders share: the shapes, and the teacher the ShrunkBert rows are cut from (built once)."""

    shapes: Shapes
    seed: int = 0
    _teacher: Any = None

    def teacher(self):
        import torch
        from transformers import BertModel

        if self._teacher is None:
            torch.manual_seed(self.seed)
            self._teacher = BertModel(self.shapes.bert_config())
        return self._teacher


@dataclass(frozen=True)
class BenchModel:
    """One row of the benchmark.

    Args:
        name: the row's name (`--models` takes these).
        description: what the row is, in the table.
        build: makes the model (fp32, random weights) from a `BuildContext`.
        ours: a compactbert family (True) or transformers' own model (False).
        baseline: for our rows, the transformers row of the same shape it is compared with.
        family: the compactbert `model_type` the row needs; while it is not registered the row is left out.
    """

    name: str
    description: str
    build: Callable[[BuildContext], Any]
    ours: bool
    baseline: str | None = None
    family: str | None = None

    def missing_reason(self) -> str | None:
        """Why the row cannot be built here, or None when it can."""
        from ..models import FAMILIES

        if self.family is not None and self.family not in FAMILIES:
            return f"the compactbert family '{self.family}' is not installed in this version"
        return None


BENCH_MODELS: Registry[BenchModel] = Registry("bench model")


def register_bench_model(spec: BenchModel) -> BenchModel:
    """Add a row to the benchmark; a name can be registered once."""
    return BENCH_MODELS.add(spec.name, spec)


def list_bench_models() -> list[str]:
    """The names of the registered rows, in the order they are timed (the teacher first)."""
    return list(BENCH_MODELS)


def resolve_models(names: Sequence[str] | None) -> list[BenchModel]:
    """The registered rows named (all when None), in registry order, the teacher always first."""
    if names is None:
        chosen = set(BENCH_MODELS)
    else:
        unknown = [n for n in names if n not in BENCH_MODELS]
        if unknown:
            raise ValueError(f"unknown bench model(s) {', '.join(unknown)}; choose from: {', '.join(BENCH_MODELS)}")
        chosen = {TEACHER, *names}
    return [spec for name, spec in BENCH_MODELS.items() if name in chosen]


def _seeded(ctx: BuildContext) -> None:
    import torch

    torch.manual_seed(ctx.seed)


def _bert(num_layers: int | None = None):
    def build(ctx: BuildContext):
        from transformers import BertModel

        if num_layers is None:
            return ctx.teacher()
        _seeded(ctx)
        return BertModel(ctx.shapes.bert_config(num_layers))

    return build


def _shrunk(**how):
    def build(ctx: BuildContext):
        from ..shrinking import shrink

        return shrink(ctx.teacher(), **how)

    return build


def _distil_student(ctx: BuildContext):
    from ..distillation.student import DISTILBERT_LAYERS
    from ..shrinking import shrink

    return shrink(ctx.teacher(), keep=list(DISTILBERT_LAYERS))


def _distilbert(ctx: BuildContext):
    from transformers import DistilBertConfig, DistilBertModel

    s = ctx.shapes
    _seeded(ctx)
    config = DistilBertConfig(
        vocab_size=s.vocab_size,
        dim=s.hidden_size,
        n_layers=s.num_layers // 2,
        n_heads=s.num_heads,
        hidden_dim=s.intermediate_size,
        max_position_embeddings=s.max_position_embeddings,
    )
    return DistilBertModel(config)


def _tiny_bert(ctx: BuildContext):
    from transformers import AutoConfig, AutoModel

    _seeded(ctx)
    return AutoModel.from_config(AutoConfig.for_model("tiny_bert", **ctx.shapes.tiny_fields()))


def _tiny_bert_baseline(ctx: BuildContext):
    from transformers import BertConfig, BertModel

    _seeded(ctx)
    return BertModel(BertConfig(**ctx.shapes.tiny_fields()))


def _albert_sop(ctx: BuildContext):
    from transformers import AutoConfig, AutoModel

    _seeded(ctx)
    return AutoModel.from_config(AutoConfig.for_model("albert_sop", sharing="all", **ctx.shapes.albert_fields()))


def _albert(ctx: BuildContext):
    from transformers import AlbertConfig, AlbertModel

    _seeded(ctx)
    # ALBERT's own activation (gelu_new, as in albert-base-v2 and AlbertSopConfig): the same model, not a faster one
    return AlbertModel(AlbertConfig(hidden_act="gelu_new", **ctx.shapes.albert_fields()))


for _spec in (
    BenchModel(TEACHER, "BERT-base-shaped teacher (transformers BertModel, 12 layers)", _bert(), ours=False),
    *(
        spec
        for k in (2, 4, 6)
        for spec in (
            BenchModel(
                f"shrunk-top{k}",
                f"ShrunkBert: the teacher with its top {k} layers dropped",
                _shrunk(strategy="top", num_drop=k),
                ours=True,
                baseline=f"bert-{12 - k}",
            ),
            BenchModel(f"bert-{12 - k}", f"transformers BertModel, {12 - k} layers", _bert(12 - k), ours=False),
        )
    ),
    BenchModel(
        "distil-6",
        "DistilBERT-style student: ShrunkBert of the teacher's layers 0,2,4,7,9,11",
        _distil_student,  # DistilBERT's own choice of teacher layers (compactbert.distillation.DISTILBERT_LAYERS)
        ours=True,
        baseline="distilbert-6",
    ),
    BenchModel("distilbert-6", "transformers DistilBertModel, 6 layers", _distilbert, ours=False),
    BenchModel(
        "tinybert-4",
        "TinyBert-4: 4 layers, hidden 312, FFN 1200, 12 heads",
        _tiny_bert,
        ours=True,
        baseline="bert-4-312",
        family="tiny_bert",
    ),
    BenchModel("bert-4-312", "transformers BertModel of TinyBERT-4's shape", _tiny_bert_baseline, ours=False),
    BenchModel(
        "albert-sop-base",
        "AlbertSop base: all layers shared, E=128",
        _albert_sop,
        ours=True,
        baseline="albert-base",
        family="albert_sop",
    ),
    BenchModel("albert-base", "transformers AlbertModel base (E=128, all shared)", _albert, ours=False),
):
    register_bench_model(_spec)
