"""ALBERT-style pretraining: SOP / NSP pairs from documents, MLM masking, and recipes on `transformers.Trainer`."""

from .epochs import EpochPairs, RedrawEachEpoch
from .masking import MASKING_MODES, MaskingCollator, epoch_seed
from .pairs import OBJECTIVES, SEGMENT_UNITS, bbc_bodies, build_pairs, split_segments, trim_pair
from .pretrain import (
    PretrainArguments,
    PretrainDataArguments,
    PretrainingSplit,
    PretrainingTrainer,
    PretrainModelArguments,
    evaluate_pretraining,
    parse_pretrain_recipe,
    pretrain,
    pretraining_split,
    read_documents,
    split_documents,
)

__all__ = [
    "MASKING_MODES",
    "OBJECTIVES",
    "SEGMENT_UNITS",
    "EpochPairs",
    "MaskingCollator",
    "PretrainArguments",
    "PretrainDataArguments",
    "PretrainModelArguments",
    "PretrainingSplit",
    "PretrainingTrainer",
    "RedrawEachEpoch",
    "bbc_bodies",
    "build_pairs",
    "epoch_seed",
    "evaluate_pretraining",
    "parse_pretrain_recipe",
    "pretrain",
    "pretraining_split",
    "read_documents",
    "split_documents",
    "split_segments",
    "trim_pair",
]
