"""The default zoo's students of other families (`BuildSettings.families` in zoo.py): how each is made from the zoo's
fine-tuned teacher with `distill` (a TinyBert-4 pruned from it, a 3-layer student distilled from it, an Albert-SOP
converted from it), what its entry is called and how it is described."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .manifest import CONVERTED, DISTILLED, PRUNED, ZooEntry

if TYPE_CHECKING:
    from .zoo import BuildSettings


@dataclass(frozen=True)
class StudentFamily:
    """A student of another family that the default zoo makes from its fine-tuned teacher, with `distill`.

    Args:
        title: what the build's log calls it.
        family, kind: its zoo entry's (`ZooEntry.family`, `ZooEntry.kind`).
        method: distill recipe fields over the zoo's recipe (`_recipe`: task, length, learning rate, batch, epochs,
            seed, sample limits).
        about: its entry's description, formatted with `source`, `task`, `epochs`, `kept` (the teacher layers),
            `layers` (the teacher's) and the keys of `method`.
    """

    title: str
    family: str
    kind: str
    method: dict[str, Any]
    about: str

    def entry_name(self, teacher_layers: int) -> str:
        if self.method["student_init"] == "pruned":
            return f"tinybert-{self.method['tiny_bert_layers']}-pruned"
        if self.method["student_init"] == "albert":
            return f"albert-sop-e{self.method['albert_embedding_size']}-share-{self.method['albert_sharing']}"
        return f"distilled-{len(range(0, teacher_layers, 2))}"  # every other layer: 0, 2, 4, ...

    def method_for(self, settings: BuildSettings) -> dict[str, Any]:
        """`method` as a build with `settings` runs it: a quick build never uses more texts than it trains on."""
        method = dict(self.method)
        for name in ("prune_calibration_size", "max_train_samples"):
            if name in method and settings.max_train_samples:
                method[name] = min(method[name], settings.max_train_samples)
        return method

    def entry(self, name: str, settings: BuildSettings, metrics: dict[str, Any], test_accuracy: float) -> ZooEntry:
        kept = metrics["kept_layers"]
        about = self.about.format(
            **self.method_for(settings),
            source=settings.source,
            task=settings.task,
            epochs=settings.num_train_epochs,
            kept=kept,
            layers=int(metrics["num_hidden_layers"]),
        )
        return ZooEntry(
            name=name,
            source=name,
            family=self.family,
            kind=self.kind,
            description=about,
            kept_layers=kept,
            num_parameters=int(metrics["num_parameters"]),
            num_layers=int(metrics["num_hidden_layers"]),
            metrics={"test_accuracy": test_accuracy},
        )


# The training texts of each student of another family: the first 1,024 (of bbc-news' 1,784), for the first build's
# 10-minute budget (docs/results/demo_build; with all of them the build took over 10 minutes). They start from the
# fine-tuned teacher, so they need fewer texts than the shrunk students, which start from the pre-trained MiniLM.
FAMILY_TEXTS = 1024

# `BuildSettings.families`: the default zoo's students of other families, made after (and from) its teacher
STUDENT_FAMILIES = {
    # TinyBERT-4's shape cut out of the teacher (compactbert.prune), then trained on the task labels alone: the
    # cheapest training after pruning, for the first-build budget (the zoo recipe configs/minilm-tinybert4-bbc-news.yaml
    # uses TinyBERT's two stages, which won docs/results/pruning by about a point at twice the training); calibrated
    # on 512 training texts, not the default 1,024 (half the calibration time, the size the probe used)
    "tiny_bert": StudentFamily(
        title="a TinyBert-4 pruned from the teacher",
        family="tiny_bert",
        kind=PRUNED,
        method={
            "student_init": "pruned",
            "tiny_bert_layers": 4,
            "tiny_bert_hidden_size": 312,
            "tiny_bert_intermediate_size": 1200,
            "tiny_bert_heads": 12,
            "prune_layers": "even-alternate",
            "prune_calibration_size": 512,
            "stage": "prediction",
            "alpha_ce": 0.0,
            "alpha_label": 1.0,
            "max_train_samples": FAMILY_TEXTS,
        },
        about="TinyBert-4 (4 layers x 312, FFN 1200) cut out of the fine-tuned teacher (its layers {kept}), then "
        "trained {epochs:g} epoch(s) on the {task} labels of the first {max_train_samples:,} training texts",
    ),
    # DistilBERT-style: the teacher's layers 0, 2, 4 on its soft targets and the labels (the distillation study's
    # bbc-news distil3-kd cell, configs/distill/bbc-news-minilm-3layer.yaml)
    "distilled": StudentFamily(
        title="a student distilled from the teacher's every other layer",
        family="shrunk_bert",
        kind=DISTILLED,
        method={
            "student_init": "every-other",
            "stage": "prediction",
            "alpha_ce": 1.0,
            "alpha_label": 1.0,
            "temperature": 2.0,
            "max_train_samples": FAMILY_TEXTS,
        },
        about="the fine-tuned teacher's layers {kept}, distilled from it {epochs:g} epoch(s) on the first "
        "{max_train_samples:,} {task} training texts (soft targets + labels)",
    ),
    # an all-shared Albert-SOP converted from the teacher (compactbert.albert_from_bert: E = 128 by frequency-weighted
    # SVD, one layer started as the teacher's middle layer and applied as often as it has layers), then trained on the
    # task labels alone: the cheapest training after conversion, for the first-build budget (the zoo recipe
    # configs/albert-sop-small-bbc-news.yaml distils with TinyBERT's two stages instead). At batch 16, twice the
    # optimizer steps of the zoo's 32 in the same time: at 32 two seeds of three kept less than publish's floor of 95%
    # of the teacher; at 16 every seed kept at least 96.8%, and neither every text nor soft targets did better
    # (docs/results/demo_albert). Sharing saves parameters, not time: it runs as many layers as the teacher, so it is
    # the slowest student to train
    "albert_sop": StudentFamily(
        title="an Albert-SOP converted from the teacher",
        family="albert_sop",
        kind=CONVERTED,
        method={
            "student_init": "albert",
            "albert_embedding_size": 128,
            "albert_sharing": "all",
            "albert_init": "middle",
            "albert_frequency_weighting": True,
            "stage": "prediction",
            "alpha_ce": 0.0,
            "alpha_label": 1.0,
            "per_device_train_batch_size": 16,
            "max_train_samples": FAMILY_TEXTS,
        },
        about="Albert-SOP converted from the fine-tuned teacher: word embeddings factorised to E = "
        "{albert_embedding_size} by frequency-weighted SVD, layers sharing `{albert_sharing}` (shared weights started "
        "as the {albert_init} of the teacher's {layers} layers), then trained {epochs:g} epoch(s) on the {task} labels of "
        "the first {max_train_samples:,} training texts at batch {per_device_train_batch_size}",
    ),
}
