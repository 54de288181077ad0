"""`load_task` with Hub dataset ids, against the local stand-in of the Hub API (the real `datasets` and
`huggingface_hub` clients; nothing is mocked and nothing leaves the machine)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import datasets
import pytest

from compactbert.data import load_task

from support.data_checks import assert_disjoint


def _csv(rows: list[tuple[str, str]]) -> str:
    return "text,label\n" + "".join(f"{text},{label}\n" for text, label in rows)


def _reviews(n: int, words: tuple[str, str]) -> list[tuple[str, str]]:
    """`n` positive and `n` negative reviews with distinct texts."""
    good, bad = words
    return [
        row for i in range(n) for row in ((f"a {good} movie number {i}", "pos"), (f"a {bad} movie number {i}", "neg"))
    ]


def _parquet(tmp_path: Path, name: str, rows: dict, label_names: list[str]) -> bytes:
    """A parquet file as `datasets` writes it (the `ClassLabel` names travel in the schema metadata)."""
    features = datasets.Features(
        {
            "sentence": datasets.Value("string"),
            "label": datasets.ClassLabel(names=label_names),
            "idx": datasets.Value("int32"),
        }
    )
    path = tmp_path / f"{name}.parquet"
    datasets.Dataset.from_dict(rows, features=features).to_parquet(path)
    return path.read_bytes()


def _glue_rows(prefix: str, n: int, labeled: bool = True) -> dict:
    labels = [i % 2 if labeled else -1 for i in range(n)]
    return {"sentence": [f"{prefix} sentence {i}" for i in range(n)], "label": labels, "idx": list(range(n))}


GLUE_README = """---
configs:
- config_name: cola
  data_files:
  - split: train
    path: cola/train-*
  - split: validation
    path: cola/validation-*
- config_name: sst2
  data_files:
  - split: train
    path: sst2/train-*
  - split: validation
    path: sst2/validation-*
  - split: test
    path: sst2/test-*
---

# A GLUE-shaped dataset: one folder of parquet files per config, as on the Hub
"""


def _seed_glue(hub, repo_id: str, tmp_path: Path) -> None:
    sentiment, acceptability = ["negative", "positive"], ["unacceptable", "acceptable"]
    shard = "-00000-of-00001.parquet"
    hub.create_dataset_repo(
        repo_id,
        files={
            "README.md": GLUE_README,
            f"sst2/train{shard}": _parquet(tmp_path, "sst2-train", _glue_rows("sst2 train", 20), sentiment),
            f"sst2/validation{shard}": _parquet(tmp_path, "sst2-val", _glue_rows("sst2 val", 6), sentiment),
            # GLUE's test splits carry no labels (-1)
            f"sst2/test{shard}": _parquet(tmp_path, "sst2-test", _glue_rows("sst2 test", 4, False), sentiment),
            f"cola/train{shard}": _parquet(tmp_path, "cola-train", _glue_rows("cola train", 30), acceptability),
            f"cola/validation{shard}": _parquet(tmp_path, "cola-val", _glue_rows("cola val", 8), acceptability),
        },
    )


def _fetched(hub, repo_id: str) -> set[str]:
    """The files of `repo_id` that `datasets` found through the stand-in's `resolve` route: answered there (200), or
    for LFS files such as parquet, redirected (302) to the stand-in's CDN, where the client then GETs them."""
    prefix = f"/datasets/{repo_id}/resolve/"
    return {
        r.path.split("/", len(prefix.split("/")))[-1]
        for r in hub.requests_matching(None, prefix, server="hub")
        if r.status in (200, 302)
    }


def test_csv_dataset_repo_loads_as_a_task(hub):
    assert "HF_HUB_OFFLINE" not in os.environ and datasets.config.HF_HUB_OFFLINE is False
    hub.create_dataset_repo(
        "org/reviews",
        files={"train.csv": _csv(_reviews(10, ("good", "bad"))), "test.csv": _csv(_reviews(3, ("fine", "dull")))},
    )

    task = load_task("org/reviews")  # no cache_dir: datasets' own cache, which the fixture moved into tmp

    assert task.label_names == ["neg", "pos"]
    sizes = {split: table.num_rows for split, table in task.dataset.items()}
    # train and a labeled test: the test is kept, validation is carved out of train (10% of 20)
    assert sizes == {"train": 18, "validation": 2, "test": 6}
    assert sorted(task.dataset["test"]["text"]) == sorted(text for text, _ in _reviews(3, ("fine", "dull")))
    assert all(
        ("good" in t) == (label == 1)
        for t, label in zip(task.dataset["train"]["text"], task.dataset["train"]["label"], strict=True)
    )
    assert_disjoint(task)
    # the data came from the stand-in, through the Hub API the datasets client uses
    assert hub.requests_matching("GET", "/api/datasets/org/reviews")
    assert _fetched(hub, "org/reviews") == {"train.csv", "test.csv"}
    assert not hub.unhandled
    # datasets' cache is the test's own, under the fixture's HF_HOME
    assert Path(datasets.config.HF_DATASETS_CACHE) == hub.datasets_cache
    assert any(hub.datasets_cache.rglob("*.arrow"))


def test_cached_hub_dataset_loads_offline_without_requests(hub, tmp_path, monkeypatch):
    hub.create_dataset_repo("org/reviews", files={"train.csv": _csv(_reviews(10, ("good", "bad")))})
    online = load_task("org/reviews", cache_dir=tmp_path / "cache")
    hub.clear_requests()

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = load_task("org/reviews", cache_dir=tmp_path / "cache")

    assert hub.requests == []
    assert offline.label_names == online.label_names == ["neg", "pos"]
    for split in ("train", "validation", "test"):
        assert offline.dataset[split]["text"] == online.dataset[split]["text"]
    # a single labeled pool: 10% test and 10% validation carved out of the 20 rows
    assert {split: t.num_rows for split, t in offline.dataset.items()} == {"train": 16, "validation": 2, "test": 2}


def test_parquet_files_under_data_folder(hub, tmp_path):
    names = ["negative", "positive"]
    hub.create_dataset_repo(
        "org/sentences",
        files={
            "data/train-00000-of-00001.parquet": _parquet(tmp_path, "train", _glue_rows("train", 20), names),
            "data/validation-00000-of-00001.parquet": _parquet(tmp_path, "val", _glue_rows("val", 4), names),
            "data/test-00000-of-00001.parquet": _parquet(tmp_path, "test", _glue_rows("test", 6), names),
        },
    )

    task = load_task("org/sentences", cache_dir=tmp_path / "cache")

    assert task.label_names == names  # from the ClassLabel stored with the parquet files
    assert {split: t.num_rows for split, t in task.dataset.items()} == {"train": 20, "validation": 4, "test": 6}
    assert task.dataset["test"]["text"] == [f"test sentence {i}" for i in range(6)]
    assert task.dataset["test"]["label"] == [i % 2 for i in range(6)]
    assert _fetched(hub, "org/sentences") == {
        f"data/{split}-00000-of-00001.parquet" for split in ("train", "validation", "test")
    }
    cdn = hub.requests_matching("GET", "/lfs/", server="cdn")
    assert len(cdn) == 3 and all(r.status == 200 and not r.authorized for r in cdn)


@pytest.mark.parametrize(
    ("repo_id", "spec", "kwargs"),
    [
        ("org/glue-mini", "org/glue-mini/sst2", {}),
        ("org/glue-mini", "org/glue-mini", {"config": "sst2"}),
        # the literature's shorthand: the Hub's old namespace-less id, read from the repo it moved to
        ("nyu-mll/glue", "glue/sst2", {}),
    ],
)
def test_glue_style_config_from_readme(hub, tmp_path, repo_id, spec, kwargs):
    _seed_glue(hub, repo_id, tmp_path)

    task = load_task(spec, cache_dir=tmp_path / "cache", **kwargs)

    assert task.label_names == ["negative", "positive"]  # sst2's, not cola's
    # test labels are -1: the given validation becomes the test split, a new validation is carved out of train
    assert {split: t.num_rows for split, t in task.dataset.items()} == {"train": 18, "validation": 2, "test": 6}
    assert task.dataset["test"]["text"] == [f"sst2 val sentence {i}" for i in range(6)]
    carved = list(task.dataset["train"]["text"]) + list(task.dataset["validation"]["text"])
    assert sorted(carved) == sorted(f"sst2 train sentence {i}" for i in range(20))
    fetched = _fetched(hub, repo_id)
    assert "README.md" in fetched and not any(path.startswith("cola/") for path in fetched)
    assert "sst2/train-00000-of-00001.parquet" in fetched
    assert not hub.unhandled


def test_other_config_of_the_same_repo(hub, tmp_path):
    _seed_glue(hub, "org/glue-mini", tmp_path)
    task = load_task("org/glue-mini/cola", cache_dir=tmp_path / "cache")
    assert task.label_names == ["unacceptable", "acceptable"]
    assert task.dataset["test"]["text"] == [f"cola val sentence {i}" for i in range(8)]
    assert task.dataset["train"].num_rows + task.dataset["validation"].num_rows == 30


def test_unknown_config_is_a_clear_error(hub, tmp_path):
    _seed_glue(hub, "org/glue-mini", tmp_path)
    with pytest.raises(ValueError, match=r"could not load Hub dataset 'org/glue-mini' \(config 'mnli'\).*mnli"):
        load_task("org/glue-mini/mnli", cache_dir=tmp_path / "cache")


def test_revision_is_honoured(hub, tmp_path):
    first = hub.create_dataset_repo("org/reviews", files={"train.csv": _csv(_reviews(10, ("good", "bad")))})
    hub.create_dataset_repo("org/reviews", files={"train.csv": _csv(_reviews(20, ("good", "bad")))}, message="more")

    old = load_task("org/reviews", revision=first, cache_dir=tmp_path / "cache")
    new = load_task("org/reviews", cache_dir=tmp_path / "cache")

    assert sum(t.num_rows for t in old.dataset.values()) == 20
    assert sum(t.num_rows for t in new.dataset.values()) == 40
    assert hub.requests_matching("GET", f"/datasets/org/reviews/resolve/{first}/train.csv")


def test_namespace_less_id_says_to_name_the_owner(hub, tmp_path):
    # a legacy id the stand-in serves: huggingface_hub's hf:// file system refuses ids without an owner
    hub.create_dataset_repo("reviews", files={"train.csv": _csv(_reviews(10, ("good", "bad")))})
    with pytest.raises(
        ValueError, match="could not load Hub dataset 'reviews'.*need an owner now: give 'owner/reviews'"
    ):
        load_task("reviews", cache_dir=tmp_path / "cache")


def test_missing_dataset_repo_is_a_clear_error(hub, tmp_path):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="Hub dataset 'org/missing' was not found") as info:
        load_task("org/missing", cache_dir=tmp_path / "cache")
    assert time.perf_counter() - start < 30  # a 404 is final: no retrying
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert "local CSV / JSON / JSONL / Parquet" in str(info.value)
    asked = hub.requests_matching(None, "org/missing")
    assert asked and all(r.status == 404 for r in asked)
