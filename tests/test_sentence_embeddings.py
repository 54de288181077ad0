"""A sentence-transformers source's pipeline (pooling, normalisation, max_seq_length) reaches the model made from it:
without it `SentenceTransformer(folder)` pooled with its defaults, unnormalised, at the model's full length."""

from __future__ import annotations

import json
import re
import warnings

import pytest
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer

from compactbert.cli import main
from compactbert.sentence_embeddings import copy_sentence_transformers_setup

from support.helpers import make_bert
from support.zoo import tiny_source_folder

TEXTS = ["good movie", "a very bad film indeed"]
PIPELINE = [  # as sentence-transformers 2 saved all-MiniLM-L6-v2
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]
CARRIED = ["Transformer", "Pooling", "Normalize"]


def sentence_source(path, modules=PIPELINE):
    """A tiny BERT laid out as all-MiniLM-L6-v2 is: mean pooling, then normalisation, truncated at 16 tokens."""
    tiny_source_folder(path)
    (path / "modules.json").write_text(json.dumps(modules))
    (path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 16, "do_lower_case": False}))
    (path / "1_Pooling").mkdir()
    pooling = {"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}
    (path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return path


def mean_pooled_unit_vectors(folder):
    model, tokenizer = AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    batch = tokenizer(TEXTS, padding=True, truncation=True, max_length=16, return_tensors="pt")
    with torch.inference_mode():
        states = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1)


def test_shrink_carries_the_pipeline_so_sentence_transformers_embeds_as_the_source_does(tmp_path, capsys):
    source, out = sentence_source(tmp_path / "source"), tmp_path / "small"
    assert main(["shrink", str(source), "--strategy", "top", "--drop", "2", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pipeline:   the source's sentence-transformers modules (Transformer, Pooling, Normalize)" in printed
    assert f"SentenceTransformer('{out}')" in printed
    embedder = SentenceTransformer(str(out), device="cpu")
    assert embedder.max_seq_length == 16 and [type(m).__name__ for m in embedder] == [
        "Transformer",
        "Pooling",
        "Normalize",
    ]
    got = embedder.encode(TEXTS, convert_to_tensor=True)
    assert torch.allclose(got.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert torch.allclose(got, mean_pooled_unit_vectors(out), atol=1e-5)


def test_a_narrower_model_gets_its_width_in_the_pooling_settings(tmp_path):
    source = sentence_source(tmp_path / "source")
    narrow = tmp_path / "narrow"
    make_bert(num_layers=2, hidden_size=16, num_attention_heads=2).save_pretrained(narrow)  # as prune makes
    assert copy_sentence_transformers_setup(source, narrow) == CARRIED
    assert json.loads((narrow / "1_Pooling" / "config.json").read_text())["word_embedding_dimension"] == 16
    assert json.loads((narrow / "modules.json").read_text()) == PIPELINE
    assert json.loads((source / "1_Pooling" / "config.json").read_text())["word_embedding_dimension"] == 32


def test_a_pipeline_saved_by_the_installed_sentence_transformers_is_carried(tmp_path):
    """Its module types have other paths (sentence_transformers.base.modules...) and Pooling another width key."""
    source, small = sentence_source(tmp_path / "source"), tmp_path / "small"
    SentenceTransformer(str(source), device="cpu").save(str(tmp_path / "resaved"))
    make_bert(num_layers=2, hidden_size=16, num_attention_heads=2).save_pretrained(small)
    assert copy_sentence_transformers_setup(tmp_path / "resaved", small) == CARRIED
    embedder = SentenceTransformer(str(small), device="cpu")
    assert embedder.encode(TEXTS, convert_to_tensor=True).shape == (2, 16)
    assert [type(m).__name__ for m in embedder] == CARRIED


BROKEN = {
    "weights": (
        [*PIPELINE[:2], {"path": "2_Dense", "type": "sentence_transformers.models.Dense"}],
        "its modules Dense hold",
    ),
    "old layout": ([{**PIPELINE[0], "path": "0_Transformer"}, *PIPELINE[1:]], "its transformer is the one in 0_Tra"),
    "outside": (
        [PIPELINE[0], {**PIPELINE[1], "path": "../pool"}, PIPELINE[2]],
        "its Pooling module's path '../pool' is not a folder inside",
    ),
    "no pooling": ([PIPELINE[0], {**PIPELINE[1], "path": "9_Pooling"}], "its Pooling module has no 9_Pooling/config"),
    "not a list": ({"0": PIPELINE[0]}, "it is not a list of modules"),
    "not JSON": ("{'idx': 0", "it is not JSON"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_pipeline_that_cannot_be_carried_is_left_and_said_so(tmp_path, case):
    modules, message = BROKEN[case]
    source, small = sentence_source(tmp_path / "source"), tmp_path / "deep" / "small"
    (source / "modules.json").write_text(modules if isinstance(modules, str) else json.dumps(modules))
    make_bert(num_layers=2).save_pretrained(small)
    with pytest.warns(UserWarning, match=f"modules.json\\) was not copied: {re.escape(message)}"):
        assert copy_sentence_transformers_setup(source, small) == []
    assert sorted(p.name for p in small.iterdir()) == ["config.json", "model.safetensors"]
    assert sorted(p.name for p in small.parent.iterdir()) == ["small"]  # nothing beside it either


def test_the_command_says_why_a_pipeline_is_not_carried_and_saves_the_model(tmp_path, capsys):
    source, out = sentence_source(tmp_path / "source"), tmp_path / "small"
    (source / "modules.json").write_text(json.dumps(BROKEN["weights"][0]))
    assert main(["shrink", str(source), "--strategy", "top", "--drop", "2", "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert "warning: the sentence-transformers pipeline of" in captured.err and "pipeline:" not in captured.out
    assert (out / "model.safetensors").is_file() and not (out / "modules.json").exists()


def test_a_plain_source_has_nothing_to_carry_and_the_model_must_be_saved_first(tmp_path):
    plain, small = tiny_source_folder(tmp_path / "plain"), tmp_path / "small"
    make_bert(num_layers=2).save_pretrained(small)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert copy_sentence_transformers_setup(plain, small) == []
    assert sorted(p.name for p in small.iterdir()) == ["config.json", "model.safetensors"]
    with pytest.raises(FileNotFoundError, match="holds no config.json: save the model there before its pipeline"):
        copy_sentence_transformers_setup(sentence_source(tmp_path / "source"), tmp_path / "empty")
