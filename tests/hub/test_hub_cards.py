"""Model cards: what save_model writes, what each family template renders, and the offline validator."""

import json

import jinja2
import pytest
import torch
import yaml
from huggingface_hub import ModelCard
from safetensors.torch import save_file
from transformers import BertConfig, BertModel

from compactbert.hub import CardFields, render_card, validate_card
from compactbert.hub.card import FAMILIES, TEMPLATES, bert_layer_parameters, card_context, render, template_for
from compactbert.hub.validate import allowed_values, card_metadata, folder_problems

from support.zoo import tiny_shrunk_folder

METRICS = {
    "test": {"accuracy": 0.8125, "macro_f1": 0.8},
    "task": "bbc-news",
    "seed": 3,
    "split_seed": 42,
    "label_names": ["negative", "positive"],
    "train": {"epoch": 1.0},
}


def table_rows(text: str, first_cell: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith(f"| {first_cell}")
    ]


def test_save_model_writes_a_valid_card_with_the_provenance(tmp_path):
    folder = tiny_shrunk_folder(tmp_path / "m")
    text = (folder / "README.md").read_text()
    assert validate_card(text) == []
    meta = card_metadata(text)
    assert meta["library_name"] == "transformers"
    assert meta["pipeline_tag"] == "text-classification"
    assert meta["license"] == "apache-2.0"
    assert "shrunk-bert" in meta["tags"]
    assert "model-index" not in meta  # nothing was evaluated: no eval results are claimed
    assert "base_model" not in meta  # the source is a model object, not a Hub id
    config = json.loads((folder / "config.json").read_text())
    layer_rows = [row for row in table_rows(text, "") if row[0].isdigit()]
    assert [int(r[0]) for r in layer_rows] == list(range(4))
    assert [r[0] for r in layer_rows if r[1] == "kept"] == [str(i) for i in config["kept_layers"]] == ["0", "1"]
    assert "has not been fine-tuned or evaluated" in text
    assert "trust_remote_code=True" in text  # auto_map is set, so the card shows loading without compactbert


def test_card_lists_contribution_scores_when_computed(tmp_path):
    folder = tiny_shrunk_folder(tmp_path / "m", scored=True)
    config = json.loads((folder / "config.json").read_text())
    text = (folder / "README.md").read_text()
    rows = [row for row in table_rows(text, "") if row[0].isdigit()]
    assert [float(r[2]) for r in rows] == pytest.approx(config["layer_contributions"], abs=1e-4)
    assert {r[1] for r in rows if int(r[0]) in config["kept_layers"]} == {"kept"}


def test_card_with_metrics_has_complete_eval_results(tmp_path):
    folder = tiny_shrunk_folder(tmp_path / "m", metrics=METRICS)
    card = ModelCard.load(folder / "README.md")
    results = card.data.eval_results
    assert {(r.metric_type, r.metric_value) for r in results} == {("accuracy", 0.8125), ("f1", 0.8)}
    assert {(r.task_type, r.dataset_type, r.dataset_split) for r in results} == {
        ("text-classification", "bbc-news", "test")
    }
    assert "0.8125" in card.text and "training seed 3" in card.text


def test_base_model_and_card_fields(tmp_path):
    folder = tiny_shrunk_folder(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["source_model"] = "google-bert/bert-base-uncased"
    (folder / "config.json").write_text(json.dumps(config))
    fields = CardFields(repo_id="org/tiny", license="mit", tags=["extra"], datasets=["nyu-mll/glue"], language="fr")
    card = render_card(folder, fields)
    assert card.data.base_model == "google-bert/bert-base-uncased"
    assert card.data.license == "mit" and card.data.language == ["fr"] and card.data.datasets == ["nyu-mll/glue"]
    assert card.data.tags[:2] == ["compactbert", "shrunk-bert"] and "extra" in card.data.tags
    assert 'from_pretrained("org/tiny")' in card.text


def test_source_parameters_from_the_config_match_a_real_bert():
    for hidden, intermediate in ((32, 37), (48, 96)):
        config = BertConfig(hidden_size=hidden, intermediate_size=intermediate, num_attention_heads=2, vocab_size=50)
        layer = BertModel(config).encoder.layer[0]
        assert bert_layer_parameters(hidden, intermediate) == sum(p.numel() for p in layer.parameters())


def test_card_parameter_counts(tmp_path):
    folder = tiny_shrunk_folder(tmp_path / "m")
    _, context = card_context(folder)
    from compactbert import ShrunkBertForSequenceClassification

    model = ShrunkBertForSequenceClassification.from_pretrained(folder)
    assert context["num_parameters"] == model.num_parameters()
    per_layer = bert_layer_parameters(32, 37)
    assert context["source"]["num_parameters"] == model.num_parameters() + 2 * per_layer


def fake_family_folder(tmp_path, config: dict, method: dict | None = None):
    """A folder as another family's trainer would write it: config.json, weights, metrics with `method`."""
    folder = tmp_path / config["model_type"]
    folder.mkdir()
    base = {"architectures": [f"{config['model_type']}ForSequenceClassification"], "num_hidden_layers": 4}
    (folder / "config.json").write_text(json.dumps(base | config))
    save_file({"w": torch.zeros(3, 5)}, folder / "model.safetensors")
    if method is not None:
        (folder / "metrics.json").write_text(json.dumps(METRICS | {"method": method}))
    return folder


def test_tiny_bert_template_renders_teacher_losses_stages(tmp_path):
    folder = fake_family_folder(
        tmp_path,
        {"model_type": "tiny_bert", "hidden_size": 312, "fit_size": 768, "auto_map": {"AutoModel": "m.M"}},
        method={
            "teacher": "google-bert/bert-base-uncased",
            "losses": {"embedding": 1.0, "attention": 1.0, "hidden": 1.0, "logits": 0.5},
            "stages": [
                {"name": "general distillation", "data": "BBC News"},
                {"name": "task distillation", "augmented": True},
            ],
        },
    )
    card = render_card(folder)
    assert card.data.base_model == "google-bert/bert-base-uncased"
    assert "transformer distillation" in card.text and "projected to the teacher's hidden size 768" in card.text
    assert [r[:2] for r in table_rows(card.text, "") if r[0] in ("embedding", "logits")] == [
        ["embedding", "1.0"],
        ["logits", "0.5"],
    ]
    assert "1. **general distillation** on BBC News" in card.text
    assert "2. **task distillation**, with augmented data" in card.text
    assert "jiao2020tinybert" in card.text


def test_albert_sop_template_renders_embedding_sharing_objective(tmp_path):
    config = {"model_type": "albert_sop", "hidden_size": 256, "embedding_size": 64, "vocab_size": 30000}
    folder = fake_family_folder(tmp_path, config | {"sharing": "attention"}, method={"pretraining_steps": 500})
    card = render_card(folder)
    rows = {r[0]: r[1] for r in table_rows(card.text, "") if len(r) == 2}
    assert rows["embedding size E"] == "64" and rows["parameter sharing"] == "`attention`"
    assert rows["sentence objective"] == "sentence-order prediction (SOP)" and rows["pre-training steps"] == "500"
    assert "30000 × 64 + 64 × 256" in card.text
    (tmp_path / "nsp").mkdir()
    nsp = fake_family_folder(tmp_path / "nsp", config | {"sentence_objective": "nsp"})
    assert "next-sentence prediction (NSP)" in render_card(nsp).text


@pytest.mark.parametrize("family", [*FAMILIES, "bert"])
def test_every_template_renders_a_valid_card(tmp_path, family):
    folder = fake_family_folder(
        tmp_path, {"model_type": family, "hidden_size": 32, "intermediate_size": 37, "embedding_size": 16}, method={}
    )
    assert template_for(family) == (f"{family}.md" if family in FAMILIES else "default.md")
    assert validate_card(str(render_card(folder))) == []


def test_templates_refuse_undefined_values(tmp_path):
    folder = tiny_shrunk_folder(tmp_path / "m")
    card_data, context = card_context(folder)
    del context["title"]
    with pytest.raises(jinja2.UndefinedError, match="title"):
        render(card_data, context)
    assert (TEMPLATES / "_base.md").is_file()


# -- the validator ------------------------------------------------------------------------------------------------

GOOD = {
    "license": "apache-2.0",
    "library_name": "transformers",
    "pipeline_tag": "text-classification",
    "model-index": [
        {
            "name": "m",
            "results": [
                {
                    "task": {"type": "text-classification"},
                    "dataset": {"type": "bbc-news", "name": "BBC News", "split": "test"},
                    "metrics": [{"type": "accuracy", "value": 0.9}],
                }
            ],
        }
    ],
}


def card_text(meta) -> str:
    return f"---\n{yaml.safe_dump(meta)}---\n\n# m\n"


def test_validator_accepts_a_complete_card():
    assert validate_card(card_text(GOOD)) == []


def set_metric(value):
    meta = json.loads(json.dumps(GOOD))
    meta["model-index"][0]["results"][0]["metrics"][0]["value"] = value
    return meta


def drop_split():
    meta = json.loads(json.dumps(GOOD))
    del meta["model-index"][0]["results"][0]["dataset"]["split"]
    return meta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# no metadata\n", "no YAML metadata"),
        ("---\nlicense: [unclosed\n---\n", "does not parse"),
        ("---\n- a\n- b\n---\n", "must be a mapping"),
        (card_text(GOOD | {"license": "not-a-license"}), "not a known license"),
        (card_text(GOOD | {"license": "other"}), "license_name"),
        (card_text({k: v for k, v in GOOD.items() if k != "license"}), "'license' is missing"),
        (card_text(GOOD | {"pipeline_tag": "text-classifier"}), "'pipeline_tag'"),
        (card_text({k: v for k, v in GOOD.items() if k != "library_name"}), "library_name"),
        (card_text(GOOD | {"tags": [1, 2]}), "'tags' must be"),
        (card_text(set_metric(None)), "finite number"),
        (card_text(set_metric("0.9")), "finite number"),
        (card_text(set_metric(float("nan"))), "finite number"),
        (card_text(drop_split()), "'split'"),
        (card_text(GOOD | {"model-index": []}), "non-empty list"),
    ],
)
def test_validator_names_each_problem(text, expected):
    errors = validate_card(text)
    assert any(expected in e for e in errors), errors


def test_validator_space_cards():
    assert validate_card(card_text({"sdk": "gradio", "app_file": "app.py"}), "space") == []
    assert any("'sdk'" in e for e in validate_card(card_text({"sdk": "flask"}), "space"))
    assert any("license" in e for e in validate_card(card_text({"sdk": "gradio", "license": "nope"}), "space"))


def test_allowed_values_are_data():
    assert {"text-classification", "fill-mask", "feature-extraction"} <= allowed_values("pipeline_tags")
    assert {"apache-2.0", "mit", "other"} <= allowed_values("licenses")
    assert not any(v.startswith("#") for v in allowed_values("licenses"))
    with pytest.raises(ValueError, match="pipeline_tags, licenses, space_sdks"):
        allowed_values("colours")


def test_a_saved_tiny_bert_gets_its_card(tmp_path):
    from compactbert import TinyBertConfig, TinyBertForSequenceClassification, save_model

    from support.helpers import VOCAB, make_tokenizer

    config = TinyBertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        fit_size=48,
        teacher_model="google-bert/bert-base-uncased",
        num_labels=3,
    )
    torch.manual_seed(0)
    folder = save_model(TinyBertForSequenceClassification(config), tmp_path / "tiny", tokenizer=make_tokenizer())
    card = ModelCard.load(folder / "README.md")
    assert validate_card(str(card)) == []
    assert card.data.base_model == "google-bert/bert-base-uncased" and "tiny-bert" in card.data.tags
    assert "Teacher: `google-bert/bert-base-uncased`" in card.text
    # no metrics.json: which losses trained it is not known, so the card says what the config holds, no more
    assert (
        "its config holds a projection to the teacher's hidden size 48 (`shared` projection) for hidden-state and "
        "embedding losses, and no record says which losses were used" in card.text
    )
    assert "AutoModelForSequenceClassification" in card.text and "trust_remote_code=True" in card.text
    assert folder_problems(folder) == []  # weights, auto_map and its code, tokenizer, card: ready to push


def test_metrics_without_macro_f1_or_test_split(tmp_path):
    folder = tiny_shrunk_folder(tmp_path / "acc", metrics={"test": {"accuracy": 0.75}, "task": "bbc-news"})
    card = ModelCard.load(folder / "README.md")
    assert [(r.metric_type, r.metric_value) for r in card.data.eval_results] == [("accuracy", 0.75)]
    assert card.data.metrics == ["accuracy"] and "macro-F1" not in card.text
    folder = tiny_shrunk_folder(tmp_path / "val", metrics={"validation": {"accuracy": 0.9}, "task": "bbc-news"})
    card = ModelCard.load(folder / "README.md")
    assert card.data.eval_results is None and "0.9" not in card.text  # no test figures: nothing claimed


def test_a_source_known_only_by_name(tmp_path):
    folder = fake_family_folder(tmp_path, {"model_type": "tiny_bert", "hidden_size": 32}, method={})
    latency = {"median_ms": 1.0, "min_ms": 1.0, "max_ms": 1.0}
    timing = {"warmup": 1, "repeats": 1, "batch_size": 1, "max_length": 8, "dtype": "float32", "threads": 1}
    comparison = {
        "source": {"name": "teacher"},
        "latency": timing | {"model": latency, "source": latency, "device": "cpu"},
    }
    card = render_card(folder, comparison=comparison)
    rows = {r[0]: r[1:] for r in table_rows(card.text, "")}
    assert rows["parameters"][1] == "not recorded" and rows["transformer layers"] == ["4", "not recorded"]
    assert "float32, run by PyTorch (both models)" in card.text  # timed before runtimes were recorded
    comparison["latency"]["runtime"] = "openvino"
    assert "float32, run by OpenVINO (both models)" in render_card(folder, comparison=comparison).text
    assert rows["test accuracy (bbc-news)"][1] == "not measured"


def test_a_labels_only_stage_is_named_fine_tuning_by_its_own_losses():
    """A distillation whose prediction stage trained on the labels alone: the card names that stage by the losses it
    ran (recorded per stage), not by the union of every stage's; a record without them keeps the older naming."""
    from compactbert.hub.card import distill_record

    intermediate = {"stage": "intermediate", "losses": {"embed": 1.0, "hidden": 1.0}, "epoch": 2.0}
    prediction = {"stage": "prediction", "losses": {"label": 1.0}, "epoch": 3.0}
    metrics = {
        "teacher": "runs/teacher/model",
        "task": "bbc-news",
        "stages": ["intermediate", "prediction"],
        "losses": {"embed": 1.0, "hidden": 1.0, "label": 1.0},
        "train_stages": [intermediate, prediction],
    }
    assert [(s["name"], s["epochs"]) for s in distill_record(metrics)["stages"]] == [
        ("task distillation: intermediate", 2.0),
        ("fine-tuning on the task labels (prediction stage)", 3.0),
    ]
    older = metrics | {"train_stages": [{"stage": s["stage"], "epoch": s["epoch"]} for s in metrics["train_stages"]]}
    assert [s["name"] for s in distill_record(older)["stages"]] == [
        "task distillation: intermediate",
        "task distillation: prediction",
    ]
