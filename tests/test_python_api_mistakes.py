"""Ordinary mistakes in the Python API are refused before any work, saying what was wrong and what is expected.

Each case here once gave a wrong result without an error (one string scored character by character, a random
classifier head predicting noise, a misspelt override ignored) or a message from deep inside torch or transformers.
"""

import pytest
from transformers import BertConfig, BertForSequenceClassification

import compactbert
from compactbert.evaluation import evaluate_model
from compactbert.export import export_model
from compactbert.inference import load_for_inference
from compactbert.io import save_model

from support.helpers import make_bert, make_tokenizer

TEXT = "the movie was very good"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A tiny encoder (no head) and a tiny classifier, each saved with its tokenizer."""
    root = tmp_path_factory.mktemp("api")
    save_model(make_bert(num_layers=2), root / "encoder", tokenizer=make_tokenizer())
    save_model(make_bert(BertForSequenceClassification, num_layers=2), root / "classifier", tokenizer=make_tokenizer())
    return root


@pytest.mark.parametrize(
    "call",
    [
        lambda f: compactbert.shrink(f / "encoder", "contribution", num_drop=1, calibration_texts=TEXT),
        lambda f: compactbert.prune(f / "encoder", {"hidden_size": 16}, calibration_texts=TEXT, progress=False),
        lambda f: compactbert.albert_from_bert(f / "encoder", 16, frequency_texts=TEXT),
        lambda f: compactbert.layer_contributions(make_bert(num_layers=2), make_tokenizer(), TEXT),
        lambda f: load_for_inference(f / "classifier").predict(TEXT),
    ],
    ids=["shrink", "prune", "albert_from_bert", "layer_contributions", "predict"],
)
def test_one_string_where_texts_are_expected_is_refused_not_read_letter_by_letter(folders, call):
    with pytest.raises(TypeError, match=r"takes a list of texts, not one string: pass \['the movie was very good'\]"):
        call(folders)


def test_texts_must_be_strings(folders):
    with pytest.raises(TypeError, match=r"^texts must hold strings; item 1 is NoneType: None$"):
        load_for_inference(folders / "classifier").predict([TEXT, None])
    with pytest.raises(TypeError, match=r"^text_pairs must hold strings; item 0 is int: 3$"):
        load_for_inference(folders / "classifier").predict_proba([TEXT], text_pairs=[3])


def test_an_encoder_is_not_loaded_as_a_classifier_with_a_random_head(folders):
    with pytest.raises(ValueError, match=r"encoder holds no trained classification head \(its config names BertModel"):
        load_for_inference(folders / "encoder")
    assert load_for_inference(folders / "encoder", task="base").model.config.architectures == ["BertModel"]


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("gpu", r"device 'gpu': torch does not take it \(.*\); expected 'cpu', 'cuda'"),
        ("cuda", "device 'cuda': this machine's torch has no cuda device; use 'cpu'"),
        ("mps", "device 'mps': this machine's torch has no mps device; use 'cpu'"),
    ],
)
def test_a_device_that_cannot_be_used_is_refused_before_loading(folders, device, message, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr("torch.backends.mps.is_available", lambda: False)
    with pytest.raises(ValueError, match=message):
        load_for_inference(folders / "classifier", device=device)
    with pytest.raises(ValueError, match=message):  # before the model is looked for
        load_for_inference(folders / "no-such-model", device=device)


def test_a_max_length_below_one_token_is_refused(folders):
    with pytest.raises(ValueError, match="max_length .* must be >= 1, got 0"):
        load_for_inference(folders / "classifier").predict([TEXT], max_length=0)
    with pytest.raises(ValueError, match="^max_length must be >= 1, got 0"):
        compactbert.prune(folders / "encoder", {"hidden_size": 16}, max_length=0, progress=False)


def test_a_loaded_model_where_a_folder_is_expected_says_to_save_it_first(folders):
    model = make_bert(BertForSequenceClassification, num_layers=2)
    for call in (lambda: evaluate_model(model, "bbc-news"), lambda: export_model(model)):
        with pytest.raises(TypeError, match=r"got BertForSequenceClassification: save a loaded model first \(compact"):
            call()


def test_save_model_refuses_what_is_not_a_model_tokenizer_or_record_and_writes_nothing(tmp_path):
    model = make_bert(num_layers=1)
    for kwargs, message in [
        ({"model": "runs/model"}, r"^save_model takes a loaded model .*got str"),
        ({"tokenizer": "runs/model"}, r"^tokenizer= takes a loaded tokenizer .*got str"),
        ({"metrics": "accuracy 0.9"}, r"^metrics= takes a dict .*got str"),
    ]:
        with pytest.raises(TypeError, match=message):
            save_model(**({"model": model, "output": tmp_path / "out"} | kwargs))
    assert not (tmp_path / "out").exists()


def test_an_output_that_is_empty_or_a_file_is_said_as_such(tmp_path, folders):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"^the output folder is empty \(''\)"):
        save_model(make_bert(num_layers=1), "")  # it said the current folder "already exists"
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match=r"notes.txt is a file; give a folder to write"):
            save_model(make_bert(num_layers=1), tmp_path / "notes.txt", overwrite=overwrite)
        with pytest.raises(FileExistsError, match=r"notes.txt is a file; give a folder to write"):
            export_model(folders / "classifier", tmp_path / "notes.txt", format="onnx", overwrite=overwrite)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_wrong_argument_kinds_in_the_model_helpers():
    with pytest.raises(TypeError, match=r"^layer_contributions takes a loaded model, got str \(a folder: AutoModel"):
        compactbert.layer_contributions("runs/model", make_tokenizer(), [TEXT])
    with pytest.raises(TypeError, match=r"^layer_contributions takes the model's tokenizer, got NoneType"):
        compactbert.layer_contributions(make_bert(num_layers=2), None, [TEXT])
    with pytest.raises(TypeError, match=r"^tiny_bert_config_for takes the teacher's config \(AutoConfig"):
        compactbert.tiny_bert_config_for("minilm")
    with pytest.raises(ValueError, match=r"^num_lables is not a TinyBertConfig field \(did you mean: num_lables ->"):
        compactbert.tiny_bert_config_for(BertConfig(), num_lables=5)  # it was kept as an attribute, 2 labels used
    assert compactbert.tiny_bert_config_for(BertConfig(), num_labels=5).num_labels == 5
    for key, value in [("sep_token_id", 3), ("pruned_heads", {}), ("position_embedding_type", "absolute")]:
        assert getattr(compactbert.tiny_bert_config_for(BertConfig(), **{key: value}), key) == value  # config keywords
