"""albert_sop_study's description of the start both objectives continue from, on hand-written folders."""

import json

from support.scripts import load_script

CONFIG = {"embedding_size": 128, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
          "intermediate_size": 1536, "source_model": "sentence-transformers/all-MiniLM-L6-v2"}  # fmt: skip


def describe(tmp_path, config: dict, metrics: dict | None = None) -> tuple[str, str]:
    (tmp_path / "config.json").write_text(json.dumps(config))
    if metrics is not None:
        (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    return load_script("albert_sop_study").model_description({"start": str(tmp_path)})


def test_a_random_start_is_described_as_such():
    model, start = load_script("albert_sop_study").model_description({})
    assert start == "random init" and model.startswith("E=128, H=256, 4 layers all shared")


def test_a_converted_start_names_its_source_and_the_shared_layers_init(tmp_path):
    model, start = describe(tmp_path, CONFIG | {"sharing": "all", "shared_init": "middle"})
    assert model == "E=128, H=384, 6 layer applications, sharing all, 12 heads, FFN 1536"
    assert start == (
        "converted from sentence-transformers/all-MiniLM-L6-v2 by `albert_from_bert` (shared layers from its middle), "
        "MLM and sentence heads fresh"
    )


def test_an_unshared_start_has_no_shared_layers_clause(tmp_path):
    _, start = describe(tmp_path, CONFIG | {"sharing": "none", "shared_init": None})
    assert start == (
        "converted from sentence-transformers/all-MiniLM-L6-v2 by `albert_from_bert`, MLM and sentence heads fresh"
    )


def test_a_distilled_start_says_it_was_distilled_and_from_which_teacher(tmp_path):
    config = CONFIG | {"sharing": "all", "shared_init": "middle", "source_model": "/runs/bbc-news/teacher/model"}
    _, start = describe(tmp_path, config, {"teacher": "/runs/bbc-news/teacher/model", "task": "bbc-news"})
    assert start == (
        "converted from bbc-news/teacher by `albert_from_bert` (shared layers from its middle), then distilled from "
        "bbc-news/teacher on `bbc-news`, MLM and sentence heads fresh"
    )


def test_a_general_distilled_start_says_how_many_steps_and_from_which_teacher(tmp_path):
    config = CONFIG | {"sharing": "all", "shared_init": "middle"}
    _, start = describe(tmp_path, config, {"stage": "general", "teacher": "minilm", "steps": 200})
    assert start == (
        "converted from sentence-transformers/all-MiniLM-L6-v2 by `albert_from_bert` (shared layers from its middle), "
        "then 200 steps of general distillation from minilm, MLM and sentence heads fresh"
    )
