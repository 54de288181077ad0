"""Registration of compactbert's model families with transformers' Auto classes.

Adding a family is: write its folder, then call `register_family` once (from `compactbert.models`).
"""

from __future__ import annotations

import transformers
from transformers import AutoConfig, AutoTokenizer, PreTrainedConfig, PreTrainedModel
from transformers.models.auto.configuration_auto import CONFIG_MAPPING

# model_type -> {"config": config class, "models": {auto class name: model class}}
FAMILIES: dict[str, dict] = {}


def register_family(
    config_class: type[PreTrainedConfig],
    auto_classes: dict[str, type[PreTrainedModel]],
    tokenizer_class: type | None = None,
) -> None:
    """Register a family's config with `AutoConfig` and each model class with its `AutoModel*` class.

    Registering the very same classes again is a no-op (e.g. a module imported twice); anything else that claims
    an existing `model_type` or an already-registered config is refused with a `ValueError`.

    Args:
        config_class: the family's config; its `model_type` must be new to transformers.
        auto_classes: auto class name (`"AutoModel"`, `"AutoModelForMaskedLM"`, ...) -> model class.
        tokenizer_class: the tokenizer `AutoTokenizer` uses for this family when a folder does not name one.
    """
    model_type = config_class.model_type
    if not model_type:
        raise ValueError(f"{config_class.__name__} has no model_type; set a unique class attribute `model_type`.")
    known = FAMILIES.get(model_type)
    if known is not None:
        if known["config"] is config_class and known["models"] == auto_classes:
            return
        raise ValueError(
            f"model_type '{model_type}' is already registered by compactbert with {known['config'].__name__}; "
            "pick another model_type."
        )
    if model_type in CONFIG_MAPPING:
        raise ValueError(
            f"model_type '{model_type}' is already used by {CONFIG_MAPPING[model_type].__name__}; "
            "compactbert families need their own model_type."
        )
    for auto_name, model_class in auto_classes.items():
        if not hasattr(transformers, auto_name):
            raise ValueError(f"unknown auto class '{auto_name}' for {model_class.__name__}.")
        if model_class.config_class is not config_class:
            raise ValueError(
                f"{model_class.__name__}.config_class is {model_class.config_class.__name__}, "
                f"expected {config_class.__name__}."
            )

    AutoConfig.register(model_type, config_class)
    for auto_name, model_class in auto_classes.items():
        getattr(transformers, auto_name).register(config_class, model_class)
    if tokenizer_class is not None:
        AutoTokenizer.register(config_class, tokenizer_class=tokenizer_class)
    FAMILIES[model_type] = {"config": config_class, "models": dict(auto_classes)}


def list_families() -> list[str]:
    """The `model_type`s compactbert has registered."""
    return sorted(FAMILIES)
