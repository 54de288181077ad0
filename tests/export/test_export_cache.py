"""The export cache of the runtime backends stays small: when a new entry lands, the entries no load can reach again
(a source folder that is gone, or whose files changed) go, and nothing else does."""

import json
import os
import shutil
import socket

import numpy as np
from transformers import BertForSequenceClassification

import compactbert
from compactbert.export.cache import CACHE_RECORD, PARTIAL_AGE_S, prune, recorded_source, stale, why_stale
from compactbert.inference import load_for_inference

from support.helpers import TEXTS, make_bert, make_tokenizer, spread_classifier


def _save(path, seed):
    model = make_bert(BertForSequenceClassification, num_layers=1, num_labels=3, seed=seed, initializer_range=0.2)
    compactbert.save_model(spread_classifier(model), path, make_tokenizer(), overwrite=True)
    return path


def _entries(cache):
    return sorted(path.name for path in cache.iterdir())


def test_a_new_export_removes_the_entries_no_load_can_reach(tmp_path):
    cache = tmp_path / "cache"
    first, second = _save(tmp_path / "first", 0), _save(tmp_path / "second", 1)
    old = load_for_inference(first, dtype="fp32", backend="onnxruntime", cache_dir=cache).folder
    kept = load_for_inference(second, dtype="fp32", backend="onnxruntime", cache_dir=cache).folder
    record = json.loads((old / CACHE_RECORD).read_text())
    assert record["source_folder"] == str(first.resolve()) and not stale(old)

    # what is not ours, or not provably stale, stays: an entry with no record, one of another environment's versions
    (cache / "someone-elses").mkdir()
    other_versions = cache / f"{kept.name[:-16]}{'0' * 16}"
    shutil.copytree(kept, other_versions)
    fresh_partial = cache / ".first-x.partial-abc"
    killed_partial = cache / ".first-y.partial-def"
    for partial in (fresh_partial, killed_partial):
        partial.mkdir()
    day_and_more = os.stat(killed_partial).st_mtime - PARTIAL_AGE_S - 60
    os.utime(killed_partial, (day_and_more, day_and_more))

    # the first model is trained again (its weights change): the next load exports it anew, the old graph goes
    _save(first, 2)
    assert stale(old) and not stale(kept)
    reloaded = load_for_inference(first, dtype="fp32", backend="onnxruntime", cache_dir=cache)
    assert reloaded.folder != old and not old.exists()
    expected = load_for_inference(first, dtype="fp32").predict_proba(TEXTS)
    np.testing.assert_allclose(reloaded.predict_proba(TEXTS), expected, rtol=0, atol=1e-5)
    assert _entries(cache) == sorted(
        [fresh_partial.name, "someone-elses", other_versions.name, kept.name, reloaded.folder.name]
    )

    # the second model's folder is deleted: its entries (both versions) go at the next export, whatever its runtime
    shutil.rmtree(second)
    assert stale(kept) and stale(other_versions)
    onnx_entry = reloaded.folder
    openvino = load_for_inference(first, dtype="fp32", backend="openvino", cache_dir=cache).folder
    assert _entries(cache) == sorted([fresh_partial.name, "someone-elses", onnx_entry.name, openvino.name])


def test_an_entry_from_before_records_gets_one_when_it_is_loaded(tmp_path):
    cache, source = tmp_path / "cache", _save(tmp_path / "model", 0)
    entry = load_for_inference(source, dtype="fp32", backend="onnxruntime", cache_dir=cache).folder
    (entry / CACHE_RECORD).unlink()  # as an earlier compactbert left it: never judged stale
    shutil.rmtree(source)
    assert why_stale(entry) is None
    _save(source, 0)
    os.utime(source / "model.safetensors", ns=(1, 1))  # another model now: the old entry's key no longer matches
    load_for_inference(source, dtype="fp32", backend="onnxruntime", cache_dir=cache)
    assert entry.exists()  # no record, so not provably stale: kept
    again = _save(tmp_path / "again", 0)
    first = load_for_inference(again, dtype="fp32", backend="onnxruntime", cache_dir=cache).folder
    (first / CACHE_RECORD).unlink()
    assert load_for_inference(again, dtype="fp32", backend="onnxruntime", cache_dir=cache).folder == first
    assert json.loads((first / CACHE_RECORD).read_text())["source_folder"] == str(again.resolve())  # its key proved it


def _entry(root, name, record):
    entry = root / name
    entry.mkdir(parents=True)
    (entry / "export.json").write_text("{}")
    (entry / CACHE_RECORD).write_text(json.dumps(record) if isinstance(record, dict) else record)
    return entry


def test_prune_removes_only_the_cache_s_own_stale_entries_of_this_machine(tmp_path):
    assert prune(tmp_path / "absent") == []
    gone = {"source_folder": str(tmp_path / "gone"), "fingerprint": "0", "host": socket.gethostname()}
    entry = _entry(tmp_path / "cache", "model-x", gone)
    elsewhere = _entry(tmp_path / "cache", "model-y", gone | {"host": "another-machine"})  # a shared cache
    broken = _entry(tmp_path / "cache", "broken", "{not json")
    foreign = tmp_path / "cache" / "not-an-export"  # no export.json: not the cache's
    foreign.mkdir()
    (foreign / CACHE_RECORD).write_text(json.dumps(gone))
    linked = tmp_path / "cache" / "linked"  # a link to an entry elsewhere is left alone
    linked.symlink_to(_entry(tmp_path / "outside", "model-z", gone), target_is_directory=True)
    assert why_stale(elsewhere) is None and why_stale(broken) is None
    assert recorded_source(elsewhere) == f"{tmp_path / 'gone'} on another-machine" and recorded_source(broken) is None
    assert recorded_source(entry) == str(tmp_path / "gone")
    assert prune(tmp_path / "cache", keep=entry) == [] and entry.exists()
    assert prune(tmp_path / "cache") == [(entry, f"its source folder {tmp_path / 'gone'} is gone")]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["broken", "linked", "model-y", "not-an-export"]
    assert (tmp_path / "outside" / "model-z").is_dir()
