"""shrink(): from models and folders, composition, contributions, memory, and every bad input."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import transformers
from safetensors.torch import save_file
from transformers import BertForSequenceClassification, BertModel

import compactbert
from compactbert import layer_contributions, save_model, select_layers, shrink
from compactbert.io import write_folder_atomically

from support.helpers import PAPER_TABLE_L12, TEXTS, kept_from_paper_drops, make_bert, make_tokenizer, tiny_config


@pytest.fixture
def bert_folder(tmp_path, tokenizer):
    """A saved random 12-layer BertForSequenceClassification with its tokenizer."""
    model = make_bert(BertForSequenceClassification, num_labels=3)
    model.save_pretrained(tmp_path / "bert")
    tokenizer.save_pretrained(tmp_path / "bert")
    return model, tmp_path / "bert"


@pytest.mark.parametrize(("strategy", "num_drop"), sorted(PAPER_TABLE_L12))
def test_shrunk_12_layer_bert_keeps_the_table_layers(strategy, num_drop):
    model = shrink(make_bert(num_layers=12), strategy, num_drop)
    expected = kept_from_paper_drops(12, PAPER_TABLE_L12[(strategy, num_drop)])
    assert model.config.kept_layers == expected
    assert model.config.num_hidden_layers == len(model.encoder.layer) == 12 - num_drop
    assert model.config.drop_strategy == strategy and model.config.source_num_hidden_layers == 12


def manual_cls_similarities(model, tokenizer, text):
    """Layer-by-layer forward of one unpadded text, independent of output_hidden_states."""
    inputs = tokenizer([text], return_tensors="pt")
    hidden = model.embeddings(input_ids=inputs["input_ids"], token_type_ids=inputs["token_type_ids"])
    sims = []
    for layer in model.encoder.layer:
        out = layer(hidden, None)
        out = out[0] if isinstance(out, tuple) else out
        sims.append(torch.nn.functional.cosine_similarity(hidden[0, 0], out[0, 0], dim=0).item())
        hidden = out
    return sims


@pytest.mark.parametrize("num_drop", [2, 4, 6])
def test_contribution_strategy_drops_the_layers_that_change_cls_least(num_drop, tokenizer):
    source = make_bert(num_layers=12)
    with torch.inference_mode():
        per_text = [manual_cls_similarities(source, tokenizer, t) for t in TEXTS]
    expected_scores = [sum(col) / len(TEXTS) for col in zip(*per_text, strict=True)]

    scores = layer_contributions(source, tokenizer, TEXTS, batch_size=3, progress=False)  # padded batches
    assert scores == pytest.approx(expected_scores, abs=1e-5)

    model = shrink(source, "contribution", num_drop, calibration_texts=TEXTS, tokenizer=tokenizer, batch_size=3)
    assert model.config.layer_contributions == pytest.approx(expected_scores, abs=1e-5)
    most_similar = sorted(range(12), key=lambda i: expected_scores[i], reverse=True)[:num_drop]
    assert model.config.kept_layers == sorted(set(range(12)) - set(most_similar))


def test_contribution_threshold_through_shrink(tokenizer):
    source = make_bert(num_layers=12)
    scores = layer_contributions(source, tokenizer, TEXTS, progress=False)
    threshold = sorted(scores)[-4]  # strictly above it: the top 3
    model = shrink(source, "contribution", threshold=threshold, calibration_texts=TEXTS, tokenizer=tokenizer)
    assert model.config.num_hidden_layers == 9
    assert model.config.kept_layers == select_layers(12, "contribution", 3, scores)


def test_contribution_from_a_folder_uses_its_tokenizer(bert_folder, tokenizer):
    source, folder = bert_folder
    model = shrink(folder, "contribution", 3, calibration_texts=TEXTS)
    expected = layer_contributions(source, tokenizer, TEXTS, progress=False)
    assert model.config.layer_contributions == pytest.approx(expected, abs=1e-6)
    assert model.config.kept_layers == select_layers(12, "contribution", 3, expected)


def test_layer_contributions_rejects_empty_texts(tokenizer):
    with pytest.raises(ValueError, match="at least one non-empty"):
        layer_contributions(make_bert(num_layers=2), tokenizer, ["", "  "])


def test_folder_and_model_sources_give_the_same_weights(bert_folder, batch):
    source, folder = bert_folder
    from_model, from_folder = shrink(source, "bottom", 5), shrink(folder, "bottom", 5)
    assert type(from_folder) is compactbert.ShrunkBertForSequenceClassification
    assert from_folder.config.source_model == str(folder)
    a, b = from_model.state_dict(), from_folder.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(from_folder.classifier.weight, source.classifier.weight)  # the head came along


def test_shrunk_model_does_not_share_storage_with_the_source():
    source = make_bert(num_layers=4)
    before = source.encoder.layer[0].attention.self.query.weight.clone()
    small = shrink(source, "top", 2)
    with torch.no_grad():
        small.encoder.layer[0].attention.self.query.weight.add_(1.0)
    assert torch.equal(source.encoder.layer[0].attention.self.query.weight, before)


def test_shrinking_twice_composes_provenance(tmp_path, batch):
    source = make_bert(num_layers=12)
    once = shrink(source, "top", 4)  # keeps 0..7
    saved = save_model(once, tmp_path / "once")
    twice = shrink(saved, "bottom", 3)  # of 0..7 keeps 3..7
    assert twice.config.kept_layers == [3, 4, 5, 6, 7]
    assert twice.config.source_num_hidden_layers == 12
    assert twice.config.drop_strategy == "top+bottom"
    assert twice.config.source_model == once.config.source_model
    direct = shrink(source, keep=[3, 4, 5, 6, 7])
    with torch.inference_mode():
        assert torch.equal(twice(**batch).last_hidden_state, direct(**batch).last_hidden_state)


def test_a_shrunk_model_loaded_as_remote_code_composes_provenance_too(batch):
    import importlib.util

    # trust_remote_code loads the folder's copy of configuration_shrunk_bert.py: a class of its own, not compactbert's
    path = Path(compactbert.models.shrunk_bert.__file__).with_name("configuration_shrunk_bert.py")
    spec = importlib.util.spec_from_file_location("transformers_modules_copy.configuration_shrunk_bert", path)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    once = shrink(make_bert(num_layers=6), "symmetric", 2)  # keeps [0, 1, 4, 5]
    remote = BertModel(copy.ShrunkBertConfig(**once.config.to_dict()))
    remote.load_state_dict(once.state_dict())
    assert type(remote.config) is not compactbert.ShrunkBertConfig
    twice = shrink(remote, drop=[1])
    assert twice.config.kept_layers == [0, 4, 5] and twice.config.source_num_hidden_layers == 6
    assert twice.config.drop_strategy == "symmetric+explicit"
    with torch.inference_mode():
        assert torch.equal(twice(**batch).last_hidden_state, shrink(once, drop=[1])(**batch).last_hidden_state)


def test_composed_contributions_are_indexed_by_original_layers(tokenizer):
    once = shrink(make_bert(num_layers=6), keep=[0, 2, 4, 5])
    twice = shrink(once, "contribution", 1, calibration_texts=TEXTS, tokenizer=tokenizer)
    scores = twice.config.layer_contributions
    assert len(scores) == 6 and scores[1] is None and scores[3] is None
    expected = layer_contributions(once, tokenizer, TEXTS, progress=False)  # scores of the 4 layers once holds
    assert [scores[i] for i in (0, 2, 4, 5)] == pytest.approx(expected, abs=1e-6)


def test_explicit_keep_and_drop():
    model = shrink(make_bert(num_layers=6), drop=[1, 3])
    assert model.config.kept_layers == [0, 2, 4, 5] and model.config.drop_strategy == "explicit"
    with pytest.raises(ValueError, match="not both"):
        shrink(make_bert(num_layers=6), keep=[0, 1], num_drop=2)
    with pytest.raises(
        TypeError, match=r"drop= takes 0-based layer indices, e.g. drop=\[0, 2\], got 3; .* num_drop=K"
    ):
        shrink(make_bert(num_layers=6), drop=3)  # three layers was meant: num_drop


# ---------------------------------------------------------------- bad input


def test_unknown_strategy_and_bad_k():
    source = make_bert(num_layers=6)
    with pytest.raises(ValueError, match="unknown strategy 'topp'; choose one of: top, bottom"):
        shrink(source, "topp", 2)
    for k in (0, 6, -1):
        with pytest.raises(ValueError, match=r"K\) must be in \[1, 5\]"):
            shrink(source, "top", k)
    with pytest.raises(ValueError, match="needs num_drop"):
        shrink(source, "top")
    with pytest.raises(ValueError, match=r"in \[0, 5\]"):
        shrink(source, keep=[0, 9])


def test_non_bert_sources_are_refused(tmp_path):
    distil = transformers.DistilBertModel(transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=37))
    with pytest.raises(ValueError, match="'distilbert' model; shrink\\(\\) takes BERT-architecture models"):
        shrink(distil, "top", 1)
    distil.save_pretrained(tmp_path / "distil")
    with pytest.raises(ValueError, match="model_type one of: bert, shrunk_bert"):
        shrink(tmp_path / "distil", "top", 1)
    with pytest.raises(ValueError, match="cannot shrink a BertLMHeadModel: supported heads are BertForMaskedLM"):
        shrink(make_bert(transformers.BertLMHeadModel, num_layers=2, is_decoder=True), "top", 1)
    with pytest.raises(TypeError, match="source must be"):
        shrink(12, "top", 1)


def test_missing_folders_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        shrink(tmp_path / "nope", "top", 1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no config.json"):
        shrink(tmp_path / "empty", "top", 1)
    tiny_config(2).save_pretrained(tmp_path / "noweights")
    with pytest.raises(FileNotFoundError, match="no weights"):
        shrink(tmp_path / "noweights", "top", 1)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        shrink(tmp_path / "file.txt", "top", 1)


def test_pickle_only_checkpoint_needs_opt_in(tmp_path, batch):
    source = make_bert(num_layers=4)
    folder = tmp_path / "pickled"
    source.config.save_pretrained(folder)
    torch.save(source.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match="only pickle weights.*allow_pickle=True"):
        shrink(folder, "top", 2)
    model = shrink(folder, "top", 2, allow_pickle=True)
    expected = shrink(source, "top", 2)
    with torch.inference_mode():
        assert torch.equal(model(**batch).last_hidden_state, expected(**batch).last_hidden_state)


def test_corrupt_and_truncated_safetensors(tmp_path):
    folder = tmp_path / "bert"
    make_bert(num_layers=4).save_pretrained(folder)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        shrink(folder, "top", 2)
    weights.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ValueError, match="corrupt or truncated"):
        shrink(folder, "top", 2)


def test_missing_weights_are_reported(tmp_path):
    folder = tmp_path / "partial"
    source = make_bert(num_layers=4)
    source.config.save_pretrained(folder)
    state = {k: v for k, v in source.state_dict().items() if "layer.0.attention.self.query" not in k}
    save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    shrink(folder, "bottom", 1)  # layer 0 is dropped: its missing tensor does not matter
    with pytest.raises(ValueError, match="missing.*layer.0.attention.self.query"):
        shrink(folder, "top", 1)


def test_sharded_checkpoint(tmp_path, batch):
    source = make_bert(num_layers=4)
    source.save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    assert (tmp_path / "sharded" / "model.safetensors.index.json").exists()
    model = shrink(tmp_path / "sharded", "odd-alternate", 2)
    with torch.inference_mode():
        assert torch.equal(
            model(**batch).last_hidden_state, shrink(source, "odd-alternate", 2)(**batch).last_hidden_state
        )


# ---------------------------------------------------------------- saving all or nothing


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    model = shrink(make_bert(num_layers=2), "top", 1)
    out = save_model(model, tmp_path / "out")
    with pytest.raises(FileExistsError, match="already exists.*overwrite"):
        save_model(model, out)
    (out / "marker").write_text("old")
    save_model(model, out, overwrite=True)
    assert not (out / "marker").exists() and (out / "model.safetensors").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folders left


def test_failure_mid_save_leaves_nothing(tmp_path):
    model = shrink(make_bert(num_layers=2), "top", 1)
    tokenizer = make_tokenizer()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    tokenizer.save_pretrained = broken
    with pytest.raises(OSError, match="disk full"):
        save_model(model, tmp_path / "out", tokenizer=tokenizer)
    assert list(tmp_path.iterdir()) == []

    # an existing folder being overwritten survives a failed write untouched
    save_model(model, tmp_path / "out")
    before = sorted(os.listdir(tmp_path / "out"))
    with pytest.raises(OSError, match="disk full"):
        save_model(model, tmp_path / "out", tokenizer=tokenizer, overwrite=True)
    assert sorted(os.listdir(tmp_path / "out")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    model = shrink(make_bert(num_layers=2), "top", 1)
    out = save_model(model, tmp_path / "out")
    (out / "marker").write_text("old")
    real_replace, calls = os.replace, []

    def flaky_replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the new folder moving into place
            raise OSError("rename failed")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError, match="rename failed"):
        save_model(model, out, overwrite=True)
    monkeypatch.setattr(os, "replace", real_replace)
    assert (out / "marker").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_interrupt_mid_write_leaves_nothing(tmp_path):
    def interrupted(folder):
        (folder / "half.safetensors").write_bytes(b"123")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_folder_atomically(tmp_path / "out", interrupted)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- memory: only the kept layers are read

MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import compactbert
    from transformers import AutoModel

    def status_mib(field):  # VmRSS (now) or VmHWM (peak) of this process image, from /proc
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith(field + ":"))
        return int(line.split()[1]) / 1024

    folder, warmup, mode = sys.argv[1:4]

    def load(path):
        return compactbert.shrink(path, "top", 1) if mode == "shrink" else AutoModel.from_pretrained(path)

    load(warmup)  # the same code path on a tiny model first: lazy imports and allocator pools are not counted
    base = status_mib("VmRSS")
    model = compactbert.shrink(folder, "top", 10) if mode == "shrink" else AutoModel.from_pretrained(folder)
    total = sum(float(p.double().sum()) for p in model.parameters())  # use every weight, as inference would
    peak = status_mib("VmHWM")  # not ru_maxrss: that one can carry the parent's peak across fork + exec
    size = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    print(json.dumps({"base": base, "peak": peak, "size": size, "total": total}))
    """
)


def test_shrinking_from_a_folder_reads_only_the_kept_layers(tmp_path):
    # a 12-layer BERT of ~320 MiB (fp32; small vocab so the layers dominate); keep 2 layers (~54 MiB)
    config = transformers.BertConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12, vocab_size=512)
    with torch.device("meta"):
        skeleton = BertModel(config)
    state = {k: torch.full(v.shape, 0.01, dtype=v.dtype) for k, v in skeleton.state_dict().items()}
    folder = tmp_path / "big"
    config.save_pretrained(folder)
    save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    del state
    make_bert(num_layers=2).save_pretrained(tmp_path / "tiny")
    script = tmp_path / "mem.py"
    script.write_text(MEMORY_SCRIPT)

    def measure(mode):
        command = [sys.executable, str(script), str(folder), str(tmp_path / "tiny"), mode]
        out = subprocess.run(command, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    full, small = measure("full"), measure("shrink")
    grew_full, grew_small = full["peak"] - full["base"], small["peak"] - small["base"]
    assert full["size"] > 300 and small["size"] < 60
    print(
        f"peak RSS growth: whole load {grew_full:.0f} MiB, shrink {grew_small:.0f} MiB (result {small['size']:.0f} MiB)"
    )
    assert grew_full > 0.9 * full["size"], (grew_full, full["size"])  # the measurement sees a whole-model load
    assert grew_small < 2.5 * small["size"], (grew_small, small["size"])  # about the result, not the source
    assert grew_small < 0.5 * grew_full, (grew_small, grew_full)


# ---------------------------------------------------------------- Hub ids, through a local stand-in of the Hub API


def test_shrink_a_hub_id(hub, bert_folder, batch):
    source, folder = bert_folder
    (folder / "pytorch_model.bin").write_bytes(b"not fetched: pickle is not requested")
    hub.create_model_repo("org/bert12", folder)
    model = shrink("org/bert12", "top", 4)
    assert model.config.source_model == "org/bert12" and model.config.kept_layers == list(range(8))
    with torch.inference_mode():
        assert torch.equal(model(**batch).logits, shrink(source, "top", 4)(**batch).logits)
    fetched = {r.path.rsplit("/", 1)[-1] for r in hub.requests_matching(None, "/resolve/")}
    assert {"config.json", "model.safetensors"} <= fetched and "pytorch_model.bin" not in fetched


def test_unknown_hub_id_is_a_clear_error(hub):
    with pytest.raises(FileNotFoundError, match="'org/missing' is neither a local folder nor a model repo"):
        shrink("org/missing", "top", 1)
