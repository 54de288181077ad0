"""compactbert.checkpoints: what a model source that is not there is called (a local folder with a typo, or a Hub id),
and the tokenizer read from a model folder (none there, or another model's)."""

import pytest

from compactbert.checkpoints import resolve_model_folder


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A working folder with `runs/teacher/` and `runs/distilled/`, as the user's current directory."""
    for name in ("teacher", "distilled"):
        (tmp_path / "runs" / name).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def test_a_typo_in_a_local_folder_names_the_folders_beside_it(runs, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline, a two-part path is also looked up as a Hub id, and not found
    with pytest.raises(FileNotFoundError) as err:
        resolve_model_folder("runs/teachr")
    message = str(err.value)
    assert message.startswith("model folder runs/teachr does not exist (did you mean runs/teacher?); runs holds: ")
    assert "teacher, distilled" in message and "As a Hub repo id it could not be fetched either" in message
    assert "HF_HUB_OFFLINE=0" not in message  # the network is not the problem
    with pytest.raises(FileNotFoundError, match=r"runs/teacher/modle does not exist; runs/teacher holds: no folders"):
        resolve_model_folder("runs/teacher/modle")  # three parts: not a Hub id at all


def test_a_hub_id_whose_namespace_is_no_local_folder_is_still_a_hub_question(runs, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        FileNotFoundError, match="'some-org/model' is not a local folder, and fetching it from the Hub"
    ):
        resolve_model_folder("some-org/model")


def test_online_a_typo_in_a_local_folder_is_named_as_such_not_as_a_missing_hub_repo(runs, hub):
    with pytest.raises(FileNotFoundError) as err:
        resolve_model_folder("runs/teachr")
    assert str(err.value).startswith("model folder runs/teachr does not exist (did you mean runs/teacher?)")
    assert str(err.value).endswith("(Nor is it a model repo on the Hub.)")
    assert hub.requests_matching(None, "runs/teachr")  # it was looked up on the (stand-in) Hub first


# -- the tokenizer of a model folder ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A tiny classifier saved without its tokenizer, the same with the stand-in transformers makes for it saved beside
    it (what `compactbert shrink` wrote from such a folder before), and the same with its tokenizer."""
    from transformers import AutoTokenizer, BertForSequenceClassification

    from support.helpers import make_bert, make_tokenizer

    root = tmp_path_factory.mktemp("tokenizers")
    model = make_bert(BertForSequenceClassification, num_layers=2)
    model.save_pretrained(root / "bare")  # what save_model(model, out) without tokenizer= writes
    model.save_pretrained(root / "stand-in")
    AutoTokenizer.from_pretrained(root / "bare").save_pretrained(root / "stand-in")  # 5 special tokens, no words
    model.save_pretrained(root / "whole")
    make_tokenizer().save_pretrained(root / "whole")
    return root


def _calls():
    import compactbert
    from compactbert.evaluation import evaluate_model
    from compactbert.export import export_model
    from compactbert.finetune import build_model, parse_recipe
    from compactbert.inference import load_for_inference

    texts = ["the movie was very good", "a boring film"]
    return {
        "load_for_inference": lambda f: load_for_inference(f),
        "evaluate_model": lambda f: evaluate_model(f, f / "task.csv"),
        "export_model": lambda f: export_model(f, f.parent / "exported", format="onnx"),
        "shrink (contribution)": lambda f: compactbert.shrink(f, "contribution", num_drop=1, calibration_texts=texts),
        "prune": lambda f: compactbert.prune(f, {"hidden_size": 16}, calibration_texts=texts, progress=False),
        "albert_from_bert (frequency)": lambda f: compactbert.albert_from_bert(f, 16, frequency_texts=texts),
        "finetune": lambda f: build_model(parse_recipe(None, {"model": str(f), "output_dir": "x"})[0], ["a", "b"]),
    }


@pytest.mark.parametrize("folder", ["bare", "stand-in"])
@pytest.mark.parametrize("call", list(_calls()))
def test_a_folder_without_a_tokenizer_of_its_own_is_refused_where_a_tokenizer_is_read(folders, call, folder):
    """transformers 5 makes a tokenizer of the special tokens only for such a folder: every word was `[UNK]`, and a
    model predicted the same for every text (an export verified it against itself and passed)."""
    from support.zoo import tiny_task_csv

    tiny_task_csv(folders / folder / "task.csv")
    message = rf"^{folders / folder}.* has no tokenizer of its own: what loads from it holds only the special tokens"
    with pytest.raises(FileNotFoundError, match=message):
        _calls()[call](folders / folder)
    assert not (folders / "exported").exists()


def test_a_tokenizer_saved_in_any_of_its_forms_loads(tmp_path):
    """A slow tokenizer's `vocab.txt` alone (no tokenizer.json) is a tokenizer of its own."""
    from compactbert.checkpoints import load_tokenizer

    from support.helpers import VOCAB, make_bert

    make_bert(num_layers=1).save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    assert load_tokenizer(tmp_path).vocab_size == len(VOCAB)


def test_another_models_tokenizer_is_refused_before_it_fails_in_the_embedding(folders, tmp_path):
    from transformers import BertTokenizer

    from compactbert.inference import load_for_inference
    from compactbert.io import save_model

    from support.helpers import make_bert, make_tokenizer

    bigger = BertTokenizer(vocab={f"w{i}": i for i in range(500)}, unk_token="w1", pad_token="w0")
    with pytest.raises(
        ValueError, match=r"has 503 tokens but the model's embedding has 41 \(vocab_size\): they do"
    ):  # 500 words and its own special tokens
        load_for_inference(folders / "whole", tokenizer=bigger)
    with pytest.raises(ValueError, match="another model's tokenizer, or tokens added without"):
        save_model(make_bert(num_layers=1), tmp_path / "out", tokenizer=bigger)
    added = make_tokenizer()
    added.add_tokens(["zebra"])  # and the embedding not resized: "zebra" would fail in the first forward pass
    with pytest.raises(ValueError, match="has 42 tokens but the model's embedding has 41"):
        load_for_inference(folders / "whole", tokenizer=added)
    assert not (tmp_path / "out").exists()
    assert load_for_inference(folders / "whole").predict(["the movie was very good"])  # its own tokenizer loads


@pytest.mark.parametrize("folder", ["bare", "stand-in"])
def test_the_shrink_command_saves_a_folder_without_a_tokenizer_as_such(folders, tmp_path, capsys, folder):
    from compactbert.cli import main

    output = tmp_path / "o"
    assert main(["shrink", str(folders / folder), "--strategy", "top", "--drop", "1", "-o", str(output)]) == 0
    assert "warning: the model is saved without a tokenizer: " in capsys.readouterr().err
    assert not any((output / name).exists() for name in ("tokenizer.json", "vocab.txt"))  # no stand-in saved
