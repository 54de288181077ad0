"""The local Hub stand-in, driven by the real huggingface_hub client (and transformers): nothing is mocked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx2
import pytest
import torch
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    constants,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from support.hub_standin import HubStandin, git_blob_oid

README = """---
license: apache-2.0
language: en
tags:
  - compactbert
  - test
library_name: transformers
---

# A test model

Card body.
"""

BROKEN_README = """---
license: apache-2.0
tags: [unclosed, list
  nested: : :
---

# Broken
"""


def _write_folder(folder: Path) -> dict[str, bytes]:
    """A small text file, a nested JSON, a >10 MiB binary, a .safetensors file and a README with YAML."""
    rng = torch.Generator().manual_seed(0)
    files = {
        "notes.txt": b"plain text, stays a regular git blob\n",
        "nested/dir/info.json": json.dumps({"a": 1}).encode(),
        "big.dat": torch.randint(0, 256, (11 * 1024 * 1024,), dtype=torch.uint8, generator=rng).numpy().tobytes(),
        "weights.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",  # LFS by .gitattributes pattern
        "README.md": README.encode(),
    }
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def test_environment_points_at_the_standin(hub):
    assert os.environ["HF_ENDPOINT"] == hub.endpoint
    assert os.environ["HF_HUB_DISABLE_XET"] == "1"
    assert "HF_HUB_OFFLINE" not in os.environ
    assert constants.ENDPOINT == hub.endpoint
    assert constants.HF_HUB_OFFLINE is False
    assert constants.HF_HUB_DISABLE_XET is True
    assert Path(constants.HF_HUB_CACHE) == hub.cache_dir
    # the module-level api behind huggingface_hub.model_info & co. was built at import time
    import huggingface_hub

    hub.create_model_repo("org/env", files={"a.txt": "a"})
    assert huggingface_hub.model_info("org/env").id == "org/env"
    assert HfApi().whoami()["name"] == hub.username


def test_create_repo(hub):
    api = HfApi()
    url = api.create_repo("org/created")
    assert url.repo_id == "org/created" and url.endpoint == hub.endpoint
    assert api.repo_exists("org/created")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo("org/created")
    assert err.value.response.status_code == 409
    assert api.create_repo("org/created", exist_ok=True).repo_id == "org/created"
    # a new repo holds the initial commit with the default .gitattributes, like on the Hub
    assert api.list_repo_files("org/created") == [".gitattributes"]
    assert hub.commits_for("org/created") == []  # no commit through the commit API yet

    api.create_repo("org/secret", private=True)
    assert hub.requests_matching("POST", "/api/repos/create")[-1].json()["visibility"] == "private"
    assert api.model_info("org/secret").private is True
    with pytest.raises(RepositoryNotFoundError):
        hub.anonymous_api().model_info("org/secret")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("org/secret", ".gitattributes", token=False)

    # a namespace-less name is created under the token's user
    assert api.create_repo("solo").repo_id == f"{hub.username}/solo"


def test_upload_folder_is_one_commit_and_downloads_match(hub, tmp_path):
    folder = tmp_path / "model"
    local = _write_folder(folder)
    api = HfApi()
    api.create_repo("org/pushed")
    hub.clear_requests()

    info = api.upload_folder(repo_id="org/pushed", folder_path=folder, commit_message="Push model")

    commits = hub.commits_for("org/pushed")
    assert len(commits) == 1, "pushed in exactly one commit"
    commit = commits[0]
    assert commit.oid == info.oid == hub.head("org/pushed")
    assert commit.title == "Push model"
    assert sorted(commit.added) == sorted(local)
    assert sorted(commit.lfs) == ["big.dat", "weights.safetensors"]  # >10 MiB, and *.safetensors
    assert [c.title for c in api.list_repo_commits("org/pushed")] == ["Push model", "initial commit"]
    # the LFS files went through the batch API to the "CDN", without the token
    assert hub.requests_matching("POST", ".git/info/lfs/objects/batch")
    puts = hub.requests_matching("PUT", server="cdn")
    assert len(puts) == 2 and not any(r.authorized for r in puts)
    assert all(r.authorized for r in hub.requests_matching("POST", "/commit/main"))

    model_info = api.model_info("org/pushed", files_metadata=True)
    assert model_info.sha == info.oid
    siblings = {s.rfilename: s for s in model_info.siblings}
    assert set(siblings) == {*local, ".gitattributes"}
    assert siblings["big.dat"].lfs.size == len(local["big.dat"])
    assert siblings["notes.txt"].lfs is None and siblings["notes.txt"].blob_id == git_blob_oid(local["notes.txt"])
    assert model_info.card_data.license == "apache-2.0" and "compactbert" in model_info.tags
    assert sorted(api.list_repo_files("org/pushed")) == sorted({*local, ".gitattributes"})
    assert hub.files("org/pushed")["big.dat"] == local["big.dat"]

    downloaded = {rel: Path(hf_hub_download("org/pushed", rel)).read_bytes() for rel in local}
    assert downloaded == local
    snapshot = Path(
        snapshot_download(
            "org/pushed", allow_patterns=["*.dat", "*.txt", "nested/**"], cache_dir=tmp_path / "other-cache"
        )
    )
    got = sorted(p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file())
    assert got == ["big.dat", "nested/dir/info.json", "notes.txt"]
    for rel in got:
        assert (snapshot / rel).read_bytes() == downloaded[rel]

    # pushing the same folder again changes nothing: the client sees the remote oids and makes no commit
    api.upload_folder(repo_id="org/pushed", folder_path=folder)
    assert len(hub.commits_for("org/pushed")) == 1


def test_missing_repo_file_and_revision(hub):
    hub.create_model_repo("org/there", files={"config.json": "{}"})
    with pytest.raises(RepositoryNotFoundError):
        HfApi().model_info("org/nowhere")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("org/nowhere", "config.json")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("org/there", "missing.bin")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download("org/there", "config.json", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        HfApi().model_info("org/there", revision="no-such-branch")
    with pytest.raises(EntryNotFoundError):
        list(HfApi().list_repo_tree("org/there", path_in_repo="no/such/dir"))
    assert HfApi().file_exists("org/there", "config.json")
    assert not HfApi().file_exists("org/there", "missing.bin")


def test_invalid_readme_yaml_is_refused(hub):
    api = HfApi()
    api.create_repo("org/card")
    with pytest.raises(ValueError, match="Invalid metadata in README.md"):
        api.upload_file(repo_id="org/card", path_or_fileobj=BROKEN_README.encode(), path_in_repo="README.md")
    assert hub.commits_for("org/card") == []
    response = httpx2.post(f"{hub.endpoint}/api/validate-yaml", json={"content": BROKEN_README, "repoType": "model"})
    assert response.status_code == 400 and response.json()["errors"]
    bad_index = "---\nmodel-index:\n  - name: x\n    results: [{task: {}}]\n---\n"
    assert httpx2.post(f"{hub.endpoint}/api/validate-yaml", json={"content": bad_index}).status_code == 400
    ok = httpx2.post(f"{hub.endpoint}/api/validate-yaml", json={"content": README, "repoType": "model"})
    assert ok.status_code == 200 and ok.json() == {"errors": [], "warnings": []}
    api.upload_file(repo_id="org/card", path_or_fileobj=README.encode(), path_in_repo="README.md")
    assert len(hub.commits_for("org/card")) == 1


def test_writes_need_a_valid_token(hub, monkeypatch):
    hub.create_model_repo("org/locked", files={"a.txt": "a"})
    monkeypatch.delenv("HF_TOKEN")
    anonymous = hub.anonymous_api()
    with pytest.raises(HfHubHTTPError) as err:
        anonymous.create_repo("org/anon")
    assert err.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as err:
        anonymous.upload_file(repo_id="org/locked", path_or_fileobj=b"b", path_in_repo="b.txt")
    assert err.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(token="hf_wrong").upload_file(repo_id="org/locked", path_or_fileobj=b"b", path_in_repo="b.txt")
    assert err.value.response.status_code == 401
    assert "Invalid credentials" in str(err.value)
    with pytest.raises(HfHubHTTPError) as err:  # a bad token is refused on reads too, not taken for anonymous
        HfApi(token="hf_wrong").model_info("org/locked")
    assert err.value.response.status_code == 401 and not isinstance(err.value, RepositoryNotFoundError)
    assert hub.commits_for("org/locked") == []
    # reading a public repo needs no token
    assert Path(hf_hub_download("org/locked", "a.txt", token=False)).read_text() == "a"


def test_create_commit_pr_delete_and_parent_check(hub):
    api = HfApi()
    first = hub.create_model_repo("org/ops", files={"keep.txt": "keep", "old.txt": "old"})
    pr = api.create_commit(
        "org/ops",
        [CommitOperationAdd("new.txt", b"new"), CommitOperationDelete("old.txt")],
        commit_message="Propose",
        create_pr=True,
    )
    assert pr.pr_revision == "refs/pr/1" and pr.pr_num == 1
    assert hub.head("org/ops") == first  # main is untouched
    assert Path(hf_hub_download("org/ops", "new.txt", revision=pr.pr_revision)).read_text() == "new"
    assert "old.txt" not in api.list_repo_files("org/ops", revision=pr.pr_revision)
    assert [r.name for r in api.list_repo_refs("org/ops", include_pull_requests=True).pull_requests] == ["refs/pr/1"]

    with pytest.raises(EntryNotFoundError):
        api.create_commit("org/ops", [CommitOperationDelete("absent.txt")], commit_message="Delete")
    api.create_commit("org/ops", [CommitOperationAdd("x.txt", b"x")], commit_message="Add x")
    with pytest.raises(HfHubHTTPError) as err:  # main moved since `first`
        api.create_commit("org/ops", [CommitOperationAdd("y.txt", b"y")], commit_message="Stale", parent_commit=first)
    assert err.value.response.status_code == 412
    assert [c.title for c in hub.commits_for("org/ops")] == ["Propose", "Add x"]


def test_multipart_lfs_upload(hub, tmp_path):
    hub.multipart_threshold = 1024 * 1024
    hub.multipart_chunk_size = 1024 * 1024
    data = os.urandom(2 * 1024 * 1024 + 123)
    api = HfApi()
    api.create_repo("org/parts")
    api.upload_file(repo_id="org/parts", path_or_fileobj=data, path_in_repo="blob.bin")
    assert len(hub.requests_matching("PUT", "/upload-part/", server="cdn")) == 3
    assert Path(hf_hub_download("org/parts", "blob.bin")).read_bytes() == data


def test_space_repo(hub, tmp_path):
    api = HfApi()
    api.create_repo("org/demo", repo_type="space", space_sdk="gradio")
    (tmp_path / "space").mkdir()
    (tmp_path / "space" / "app.py").write_text("import gradio\n")
    (tmp_path / "space" / "README.md").write_text("---\ntitle: Demo\nsdk: gradio\napp_file: app.py\n---\n")
    api.upload_folder(repo_id="org/demo", repo_type="space", folder_path=tmp_path / "space")
    info = api.space_info("org/demo")
    assert info.sdk == "gradio" and {s.rfilename for s in info.siblings} >= {"app.py", "README.md"}
    assert api.get_space_runtime("org/demo").stage == "RUNNING"
    assert hf_hub_download("org/demo", "app.py", repo_type="space")
    assert len(hub.commits_for("org/demo", repo_type="space")) == 1


def test_tree_pagination_and_reopening_the_store(hub, tmp_path):
    hub.tree_page_size = 2
    hub.create_model_repo("org/many", files={f"f{i}.txt": str(i) for i in range(5)})
    assert len(HfApi().list_repo_files("org/many")) == 6  # 5 + .gitattributes, over 3 pages (+ folders: none)
    assert len(hub.requests_matching("GET", "/tree/")) == 3
    # the repos live on disk: another stand-in on the same folder serves them
    with HubStandin(hub.root) as again:
        api = HfApi(endpoint=again.endpoint, token=again.token)
        assert api.model_info("org/many").sha == hub.head("org/many")


def test_transformers_from_pretrained_roundtrip(hub, tmp_path):
    from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel, BertTokenizer

    vocab_dir = tmp_path / "vocab"
    vocab_dir.mkdir()
    words = "the a movie film was is very good bad great boring plot story not and".split()
    (vocab_dir / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    tokenizer = BertTokenizer.from_pretrained(vocab_dir)
    config = BertConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, vocab_size=100
    )
    torch.manual_seed(0)
    model = BertModel(config).eval()
    out_dir = tmp_path / "tiny-bert"
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)

    api = HfApi()
    api.create_repo("org/tiny-bert")
    api.upload_folder(repo_id="org/tiny-bert", folder_path=out_dir, commit_message="Upload tiny BERT")
    assert len(hub.commits_for("org/tiny-bert")) == 1
    assert "model.safetensors" in hub.commits_for("org/tiny-bert")[0].lfs

    remote_model = AutoModel.from_pretrained("org/tiny-bert").eval()
    remote_tokenizer = AutoTokenizer.from_pretrained("org/tiny-bert")
    texts = ["the movie was very good", "a boring plot and not a great story"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    remote_batch = remote_tokenizer(texts, padding=True, return_tensors="pt")
    assert torch.equal(batch["input_ids"], remote_batch["input_ids"])
    with torch.no_grad():
        expected = model(**batch).last_hidden_state
        got = remote_model(**remote_batch).last_hidden_state
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert hub.requests_matching("GET", "/lfs/", server="cdn"), "weights came from the CDN redirect"


def test_injected_failures_answer_before_any_route(hub):
    api = hub.api
    api.create_repo("org/faults")
    head = hub.head("org/faults")
    fault = hub.fail("POST", "/api/models/org/faults/commit/", 403, message="no rights here", times=1)
    with pytest.raises(HfHubHTTPError) as info:
        api.upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id="org/faults")
    assert info.value.response.status_code == 403 and "no rights here" in str(info.value)
    assert fault.hits == 1 and hub.head("org/faults") == head  # nothing was stored
    api.upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id="org/faults")  # times=1: spent
    assert hub.files("org/faults")["a.txt"] == b"x"
    hub.fail("GET", "/api/models/org/faults", 500, times=None)
    hub.clear_faults()
    assert api.model_info("org/faults").id == "org/faults"


def test_refusing_commits_after_n(hub):
    api = hub.api
    api.create_repo("org/half")
    fault = hub.refuse_commits_after(2)
    for name in ("a.txt", "b.txt"):
        api.upload_file(path_or_fileobj=name.encode(), path_in_repo=name, repo_id="org/half")
    head = hub.head("org/half")
    with pytest.raises(HfHubHTTPError) as info:
        api.upload_file(path_or_fileobj=b"c", path_in_repo="c.txt", repo_id="org/half")
    assert info.value.response.status_code == 403 and "refused after 2" in str(info.value)
    assert (fault.passed, fault.hits) == (2, 1) and hub.head("org/half") == head
    assert set(hub.files("org/half")) == {".gitattributes", "a.txt", "b.txt"}
    hub.clear_faults()
    api.upload_file(path_or_fileobj=b"c", path_in_repo="c.txt", repo_id="org/half")
    assert hub.files("org/half")["c.txt"] == b"c"


def test_card_validator_hook(hub):
    seen = []

    def no_mit(content: str, repo_type: str) -> list[str]:
        seen.append(repo_type)
        return ["mit is not allowed here"] if "license: mit" in content else []

    hub.card_validator = no_mit
    hub.api.create_repo("org/cards")
    response = httpx2.post(f"{hub.endpoint}/api/validate-yaml", json={"content": "---\nlicense: mit\n---\n"})
    assert response.status_code == 400 and response.json()["errors"] == [{"message": "mit is not allowed here"}]
    with pytest.raises(ValueError, match="mit is not allowed here"):  # the client checks before committing
        hub.api.upload_file(path_or_fileobj=b"---\nlicense: mit\n---\n", path_in_repo="README.md", repo_id="org/cards")
    hub.api.upload_file(path_or_fileobj=README.encode(), path_in_repo="README.md", repo_id="org/cards")
    assert "README.md" in hub.files("org/cards") and seen and set(seen) == {"model"}
