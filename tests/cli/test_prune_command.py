"""`compactbert prune` and what `compactbert info` shows of a pruned model."""

import json

import pytest
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForSequenceClassification

from compactbert.cli import main

from support.helpers import TEXTS, make_bert


@pytest.fixture
def source(tmp_path, tokenizer):
    folder = tmp_path / "src"
    make_bert(BertForSequenceClassification, num_layers=6, num_attention_heads=4).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


SHAPE = ["--layers", "4", "--hidden", "24", "--ffn", "20", "--heads", "4"]


def test_prune_saves_a_ready_tiny_bert_and_prints_what_it_kept(source, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["prune", str(source), *SHAPE, "--calibration-size", "16", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "layers:     [0, 1, 2, 4] of 6 kept (even-alternate, 0-based)" in printed
    assert "heads:      4 of 4, each 6 of 8 dimensions" in printed
    assert "hidden:     24 of 32 channels" in printed and "ffn:        20 of 37 neurons" in printed
    assert "importance: activation, 16 calibration texts" in printed and "parameters:" in printed
    model = AutoModelForSequenceClassification.from_pretrained(out)
    assert type(model).__name__ == "TinyBertForSequenceClassification" and model.config.hidden_size == 24
    assert model.config.pruned_from == str(source)
    assert AutoTokenizer.from_pretrained(out)(TEXTS[0])["input_ids"] == AutoTokenizer.from_pretrained(source)(TEXTS[0])["input_ids"]  # fmt: skip

    assert main(["info", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "pruned layers      [0, 1, 2, 4] of 6 kept (even-alternate, 0-based)" in shown
    assert f"pruned source      {source}" in shown
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pruning"]["pruned_from"] == str(source) and info["pruning"]["head_dim"] == 6


@pytest.mark.parametrize(
    ("choice", "kept", "strategy"),
    [
        (["--keep-layers", "0", "1", "3", "5"], [0, 1, 3, 5], "explicit"),
        (["--keep-layers", "0,2,4,5"], [0, 2, 4, 5], "explicit"),
        (["--keep-layers", "0,2", "4", "5"], [0, 2, 4, 5], "explicit"),
        (["--layer-strategy", "top"], [0, 1, 2, 3], "top"),
    ],
)
def test_prune_layer_choices(source, tmp_path, choice, kept, strategy):
    out = tmp_path / "out"
    assert main(["prune", str(source), *SHAPE, *choice, "--calibration-size", "8", "-o", str(out)]) == 0
    pruning = AutoModelForSequenceClassification.from_pretrained(out).config.pruning
    assert (pruning["kept_layers"], pruning["layer_strategy"]) == (kept, strategy)


def test_prune_calibration_texts_and_importance(source, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(TEXTS) + "\n\n")
    out = tmp_path / "a"
    assert main(["prune", str(source), *SHAPE, "--calibration-file", str(texts), "-o", str(out)]) == 0
    assert AutoModelForSequenceClassification.from_pretrained(out).config.pruning["calibration_size"] == 4
    out = tmp_path / "b"
    assert main(["prune", str(source), *SHAPE, "--calibration-task", "bbc-news", "--calibration-size", "12", "-o", str(out)]) == 0  # fmt: skip
    assert AutoModelForSequenceClassification.from_pretrained(out).config.pruning["calibration_size"] == 12
    out = tmp_path / "c"
    assert main(["prune", str(source), *SHAPE, "--importance", "magnitude", "-o", str(out)]) == 0
    pruning = AutoModelForSequenceClassification.from_pretrained(out).config.pruning
    assert (pruning["importance"], pruning["calibration_size"]) == ("magnitude", 0)


def test_prune_refuses_bad_input_with_the_reason(source, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["prune", str(source), "--hidden", "64", "-o", str(out)]) == 2
    assert "hidden_size=64 but the source has only 32 hidden channels" in capsys.readouterr().err
    assert not out.exists()
    assert main(["prune", str(source), "--layers", "4", "--keep-layers", "0", "1", "-o", str(out)]) == 2
    assert "layers lists 2 source layers but the target has num_hidden_layers=4" in capsys.readouterr().err
    assert main(["prune", str(source), "--keep-layers", "0,1", "1", "2", "-o", str(out)]) == 2
    assert "layers must be unique, got [0, 1, 1, 2]" in capsys.readouterr().err
    odd = tmp_path / "odd.csv"  # no column found by its name: the way round is a file of texts, which prune takes
    odd.write_text("body,verdict\n" + "".join(f"text number {i},{i % 2}\n" for i in range(20)))
    assert main(["prune", str(source), "--layers", "2", "--calibration-task", str(odd), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "has no text column" in err and "give other texts one per line with --calibration-file FILE" in err
    assert "--text_column" not in err  # an option prune does not have
    assert (
        main(["prune", str(source), "--importance", "magnitude", "--calibration-task", "bbc-news", "-o", str(out)])
        == 2
    )
    assert "--importance magnitude scores the weights, not texts" in capsys.readouterr().err
    for flag in ("--layers", "--hidden", "--ffn", "--heads"):  # said in the command's flags, not the config's fields
        with pytest.raises(SystemExit) as exit_info:
            main(["prune", str(source), flag, "0", "-o", str(out)])
        assert exit_info.value.code == 2 and f"argument {flag}: must be >= 1, got 0" in capsys.readouterr().err
    # no size given: nothing would be cut (the model would come out a little larger, with its projections)
    assert main(["prune", str(source), "--layer-strategy", "top", "-o", str(out)]) == 2
    assert "nothing to prune: give the sizes to cut to (--layers" in capsys.readouterr().err and not out.exists()
    out.mkdir()
    assert main(["prune", str(source), "--layers", "4", "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
