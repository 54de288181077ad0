"""`compactbert albert` (an Albert-SOP from a BERT folder) and what `compactbert info` says about the result."""

import json
import re

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForSequenceClassification

from compactbert.cli import main
from compactbert.cli.albert import SHARING_CHOICES
from compactbert.models.albert_sop import SHARING_MODES

from support.helpers import TEXTS, make_bert


@pytest.fixture
def source(tmp_path, tokenizer):
    folder = tmp_path / "src"
    make_bert(BertForSequenceClassification, num_layers=4, num_labels=3).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_albert_saves_a_ready_model_and_tokenizer_and_info_shows_the_conversion(source, tmp_path, capsys):
    out = tmp_path / "albert"
    args = ["albert", str(source), "--embedding-size", "8", "--sharing", "all", "-o", str(out)]  # --init: middle
    assert main(args) == 0
    printed = capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert (config["model_type"], config["embedding_size"], config["sharing"], config["shared_init"]) == (
        "albert_sop",
        8,
        "all",
        "middle",
    )
    assert f"reconstruction error of the word embeddings: {config['embedding_reconstruction_error']:.4f}" in printed
    assert "sharing:    all (shared weights start from: middle)" in printed and "parameters:" in printed
    assert f"source:     {source} (4 layers)\nmodel:      AlbertSopForSequenceClassification\n" in printed
    model = AutoModelForSequenceClassification.from_pretrained(out)
    assert type(model).__name__ == "AlbertSopForSequenceClassification" and model.config.num_labels == 3
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer(TEXTS[0])["input_ids"] == AutoTokenizer.from_pretrained(source)(TEXTS[0])["input_ids"]

    assert main(["info", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^embedding_size +8$", printed, re.M) and re.search(r"^sharing +all$", printed, re.M)
    assert re.search(rf"^source_model +{re.escape(str(source))}$", printed, re.M)
    assert re.search(r"^shared_init +middle$", printed, re.M)
    error = config["embedding_reconstruction_error"]
    assert re.search(rf"^embedding error +{error:.4f} \(svd: ", printed, re.M)
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["albert"]["embedding_reconstruction_error"] == error


def test_no_sharing_at_full_width_keeps_the_logits(source, tmp_path, tokenizer):
    out = tmp_path / "albert"
    assert main(["albert", str(source), "--embedding-size", "32", "--sharing", "none", "-o", str(out)]) == 0
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = AutoModelForSequenceClassification.from_pretrained(source)(**batch).logits
        got = AutoModelForSequenceClassification.from_pretrained(out)(**batch).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_frequency_weighting_from_a_file(source, tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(TEXTS) + "\n")
    out = tmp_path / "albert"
    assert main(["albert", str(source), "--embedding-size", "8", "--frequency-file", str(texts), "-o", str(out)]) == 0
    assert "(frequency_weighted_svd)" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["embedding_factorization"] == "frequency_weighted_svd"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--embedding-size", "33"], r"embedding_size must be between 2 and the source's hidden size 32, got 33"),
        (["--embedding-size", "8", "--init", "9"], r"init layer index 9 is out of range: the source has layers 0..3"),
        (["--embedding-size", "8", "--frequency-file", "/nonexistent.txt"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_writes_nothing(source, tmp_path, capsys, extra, message):
    assert main(["albert", str(source), "-o", str(tmp_path / "out"), *extra]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["--sharing", "layers"], r"invalid choice: 'layers' \(choose from 'all', 'attention', 'ffn', 'none'\)"),
    (["--init", "median"], r"invalid init 'median'; choose one of: mean, first, middle, last, or a 0-based"),
])  # fmt: skip
def test_unknown_sharing_or_init_is_refused_by_the_parser(source, tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["albert", str(source), "-o", str(tmp_path / "out"), *extra])
    assert exit_info.value.code == 2 and re.search(message, capsys.readouterr().err)


def test_the_sharing_choices_are_the_models():
    assert SHARING_CHOICES == SHARING_MODES
