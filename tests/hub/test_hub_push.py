"""`compactbert push` with the real huggingface_hub client against the local Hub stand-in.

A built entry is pushed, then loaded back through the stand-in with `from_pretrained("org/bert-top6")`: with
compactbert imported, and in a subprocess that cannot import compactbert (`trust_remote_code=True`). Error paths
(401, 403, 409, 5xx mid-upload) give a clear message, leave local files untouched and leave no half-made
repository behind. The token never appears in any output.
"""

import json
import shutil
import time

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from compactbert.cli import main
from compactbert.hub import validate_card
from compactbert.hub.card import render_card_for_repo
from compactbert.hub.public import public_record

from support.helpers import TEXTS
from support.zoo import REPO_ID, folder_digest, logits_without_compactbert


@pytest.fixture
def hub_checked(hub):
    """The stand-in, with its validate-yaml endpoint (and README checks in commits) running our validator."""
    hub.card_validator = validate_card
    return hub


def push(*args) -> int:
    return main(["push", *map(str, args)])


def assert_no_token(hub, *texts):
    for text in texts:
        assert hub.token not in text


def local_logits(folder):
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    batch = AutoTokenizer.from_pretrained(folder)(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        return model(**batch).logits


def test_push_a_built_entry_and_load_it_back(built, hub_checked, tmp_path, capfd):
    hub = hub_checked
    before = folder_digest(built)
    assert push(built, "--repo-id", REPO_ID) == 0
    out, err = capfd.readouterr()
    assert "created and uploaded to model repository org/bert-top6" in out
    assert_no_token(hub, out, err)

    commits = hub.commits_for(REPO_ID)
    assert len(commits) == 1  # one commit, every file in it
    files = hub.files(REPO_ID)
    records = {"config.json", "metrics.json", "build.json"}  # they name the source and task by this machine's paths
    assert {p: files[p] for p in before if p not in records} == {
        p: (built / p).read_bytes() for p in before if p not in records
    }
    for record in records:  # which go up named by their run: nothing of this machine's folders
        local = json.loads((built / record).read_text())
        assert str(built.parent.parent) in json.dumps(local)
        assert json.loads(files[record]) == public_record(local)
    here = str(built.parent.parent)
    for path, content in files.items():  # no file that went up names the folder it was built in
        if path.endswith((".json", ".md", ".py", ".txt")):
            assert here not in content.decode(), path
    assert (
        "note:       build.json, config.json, metrics.json went up with this machine's paths named by their run" in out
    )
    assert "model.safetensors" in commits[0].lfs and "accuracy_latency.png" in commits[0].lfs
    assert hub.requests_matching("POST", "/api/validate-yaml")  # the client asked the server to check the card
    assert folder_digest(built) == before

    # (a) with compactbert imported: the Auto classes know shrunk_bert
    expected = local_logits(built)
    model = AutoModelForSequenceClassification.from_pretrained(REPO_ID).eval()
    tokenizer = AutoTokenizer.from_pretrained(REPO_ID)
    with torch.no_grad():
        assert torch.equal(model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits, expected)
    assert type(model).__module__.startswith("compactbert.")

    # (c) scored from its Hub id as from its folder (its metrics.json, downloaded with it, says how it was tested)
    from compactbert.evaluation import evaluate_model

    task = built.parent.parent / "task.csv"
    settings = {"split_seed": 42, "max_eval_samples": 1000, "dtype": "fp32", "progress": False}
    assert evaluate_model(REPO_ID, task, **settings).scores == evaluate_model(built, task, **settings).scores

    # (b) a process that cannot import compactbert loads it through the remote code pushed with it
    module, logits = logits_without_compactbert(REPO_ID, TEXTS, tmp_path)
    assert module.startswith("transformers_modules.")
    assert torch.equal(logits, expected)


def test_dry_run_lists_files_and_sends_nothing(built, hub, capfd):
    hub.clear_requests()
    assert push(built, "--repo-id", REPO_ID, "--dry-run") == 0
    out, err = capfd.readouterr()
    for path in ("model.safetensors", "config.json", "modeling_shrunk_bert.py", "README.md", "tokenizer.json"):
        assert path in out
    assert "nothing was uploaded" in out
    assert "build.json, config.json, metrics.json go up with this machine's paths named by their run (" in out
    assert hub.requests == [] and not hub.repo_exists(REPO_ID)
    assert_no_token(hub, out, err)


def test_save_to_writes_exactly_what_the_push_then_uploads(built, hub, capfd, tmp_path):
    saved = tmp_path / "would-go-up"
    assert push(built, "--repo-id", REPO_ID, "--dry-run", "--save-to", saved) == 0
    assert f"wrote those files, as they would go up, to {saved}" in capfd.readouterr().out
    assert hub.requests == [] and not hub.repo_exists(REPO_ID)
    assert push(built, "--repo-id", REPO_ID) == 0
    uploaded = hub.files(REPO_ID)
    written = {p.relative_to(saved).as_posix(): p.read_bytes() for p in saved.rglob("*") if p.is_file()}
    assert written == {path: data for path, data in uploaded.items() if path != ".gitattributes"}
    assert f"# {REPO_ID}" in written["README.md"].decode() and str(built) not in written["config.json"].decode()
    capfd.readouterr()
    for args, message in (
        ([saved], "already exists: name a new folder"),  # never over a folder
        ([built / "preview"], "is inside the folder to push"),
        ([""], "needs a folder name"),
    ):
        assert push(built, "--repo-id", REPO_ID, "--dry-run", "--save-to", *args) == 2
        out, err = capfd.readouterr()
        assert message in err and "would upload" not in out  # refused before the plan is printed
    assert push(built, "--repo-id", REPO_ID, "--save-to", tmp_path / "x") == 2
    assert "add --dry-run" in capfd.readouterr().err and not (tmp_path / "x").exists()


def test_the_stand_in_checks_cards_with_our_validator(hub_checked):
    hub_checked.create_model_repo("org/cards")
    bad = b"---\nlicense: not-a-license\nlibrary_name: transformers\npipeline_tag: text-classification\n---\n# x\n"
    with pytest.raises(ValueError, match="not a known license"):  # raised by the client after validate-yaml
        hub_checked.api.upload_file(path_or_fileobj=bad, path_in_repo="README.md", repo_id="org/cards")
    assert "README.md" not in hub_checked.files("org/cards")


def test_pushing_to_an_existing_repo_adds_one_commit(built, hub_checked, capfd):
    hub_checked.create_model_repo(REPO_ID, files={"notes.txt": "kept"})
    assert push(built, "--repo-id", REPO_ID, "--private") == 0
    out, _ = capfd.readouterr()
    assert out.startswith("uploaded to model repository") and "visibility was left as it is" in out
    assert len(hub_checked.commits_for(REPO_ID)) == 1
    files = hub_checked.files(REPO_ID)
    assert files["notes.txt"] == b"kept" and files["model.safetensors"] == (built / "model.safetensors").read_bytes()


def test_private_revision_and_pull_request(built, hub_checked, capfd):
    hub = hub_checked
    assert push(built, "--repo-id", REPO_ID, "--private", "--revision", "v1") == 0
    assert hub.repo_meta(REPO_ID)["private"] is True
    assert "model.safetensors" in hub.files(REPO_ID, revision="v1")
    assert "model.safetensors" not in hub.files(REPO_ID)  # main holds only the initial commit
    capfd.readouterr()
    assert push(built, "--repo-id", REPO_ID, "--create-pr") == 0
    out, _ = capfd.readouterr()
    assert "pull request: " in out and "/discussions/1" in out
    assert "model.safetensors" not in hub.files(REPO_ID) and "model.safetensors" in hub.files(REPO_ID, "refs/pr/1")


def test_space_folder_is_pushed_as_a_space(hub_checked, tmp_path):
    space = tmp_path / "space"
    space.mkdir()
    (space / "README.md").write_text(
        "---\ntitle: compactbert\nsdk: gradio\napp_file: app.py\nlicense: apache-2.0\n---\n"
    )
    (space / "app.py").write_text("import gradio\n")
    (space / "requirements.txt").write_text("compactbert[demo]\n")
    assert push(space, "--repo-id", "org/demo", "--repo-type", "space") == 0
    assert hub_checked.repo_meta("org/demo", repo_type="space")["sdk"] == "gradio"
    assert set(hub_checked.files("org/demo", repo_type="space")) >= {"README.md", "app.py", "requirements.txt"}
    (space / "app.py").unlink()
    assert push(space, "--repo-id", "org/demo2", "--repo-type", "space") == 2
    assert not hub_checked.repo_exists("org/demo2", repo_type="space")


# -- error paths ----------------------------------------------------------------------------------------------


@pytest.fixture
def no_retry_wait(monkeypatch):
    """The client retries 5xx answers with back-off; skip the waiting (the retries still happen)."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


def failed_push(built, hub, capfd, *args) -> str:
    before = folder_digest(built)
    assert push(built, "--repo-id", REPO_ID, *args) == 2
    out, err = capfd.readouterr()
    assert folder_digest(built) == before  # local files untouched
    assert_no_token(hub, out, err)
    return err


def test_wrong_token_is_401(built, hub, capfd, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_wrongTokenWrongTokenWrongToken000")
    err = failed_push(built, hub, capfd)
    assert "401 Unauthorized" in err and "hf auth login" in err and "Nothing was created" in err
    assert "hf_wrongTokenWrongTokenWrongToken000" not in err
    assert not hub.repo_exists(REPO_ID)


def test_no_token_at_all(built, hub, capfd, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    assert push(built, "--repo-id", REPO_ID) == 2
    assert "no Hugging Face token found" in capfd.readouterr().err
    assert not hub.repo_exists(REPO_ID)


def test_a_token_from_the_environment_is_scrubbed_from_what_the_hub_says(built, hub, capfd):
    # push is given no token: it finds HF_TOKEN, and must still keep it out of an error that quotes it
    hub.fail("POST", f"/api/models/{REPO_ID}/commit/", 422, message=f"bad commit from token {hub.token}")
    err = failed_push(built, hub, capfd)  # asserts the token is in neither output
    assert "HTTP 422 while uploading the files: bad commit from token <token>" in err


def test_forbidden_commit_is_403_and_leaves_the_repo_as_it_was(built, hub, capfd):
    hub.create_model_repo(REPO_ID, files={"notes.txt": "kept"})
    head = hub.head(REPO_ID)
    hub.fail("POST", f"/api/models/{REPO_ID}/commit/", 403, message="You don't have the rights")
    err = failed_push(built, hub, capfd)
    assert "403 Forbidden" in err and "may not write to 'org'" in err and "org/bert-top6 is unchanged" in err
    assert hub.head(REPO_ID) == head


def test_forbidden_create_is_403(built, hub, capfd):
    hub.fail("POST", "/api/repos/create", 403)
    err = failed_push(built, hub, capfd)
    assert "403 Forbidden" in err and "creating the repository" in err
    assert not hub.repo_exists(REPO_ID)


def test_409_for_a_name_that_is_not_ours(built, hub, capfd):
    hub.fail("POST", "/api/repos/create", 409, message="Conflict: name taken")
    err = failed_push(built, hub, capfd)
    assert "409 Conflict (the name is taken)" in err and "choose another name" in err
    assert not hub.repo_exists(REPO_ID) and hub.commits_for(REPO_ID) == []


def test_5xx_mid_upload_deletes_the_repository_it_created(built, hub, capfd, no_retry_wait):
    fault = hub.fail("PUT", "/upload/", 500, server="cdn")  # every LFS upload fails
    err = failed_push(built, hub, capfd)
    assert fault.hits > 1  # the client retried before giving up
    assert "HTTP 500" in err and "uploading the files" in err and "was deleted again" in err
    assert not hub.repo_exists(REPO_ID)


def test_5xx_on_commit_leaves_an_existing_repo_unchanged(built, hub, capfd, no_retry_wait):
    hub.create_model_repo(REPO_ID, files={"notes.txt": "kept"})
    head = hub.head(REPO_ID)
    hub.fail("POST", f"/api/models/{REPO_ID}/commit/", 503)
    err = failed_push(built, hub, capfd)
    assert "HTTP 503" in err and "Nothing was committed" in err and "unchanged" in err
    assert hub.head(REPO_ID) == head and set(hub.files(REPO_ID)) == {".gitattributes", "notes.txt"}


def test_5xx_on_a_new_branch_removes_the_branch(built, hub, capfd, no_retry_wait):
    hub.create_model_repo(REPO_ID)
    hub.fail("POST", f"/api/models/{REPO_ID}/commit/", 502)
    err = failed_push(built, hub, capfd, "--revision", "v2")
    assert "branch v2 that this push created was deleted again" in err
    assert "v2" not in hub.repo_meta(REPO_ID)["refs"]["heads"]


def test_bad_folder_is_refused_before_any_request(built, hub, capfd, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(built, folder)
    (folder / "modeling_shrunk_bert.py").unlink()
    hub.clear_requests()
    assert push(folder, "--repo-id", REPO_ID) == 2
    assert "modeling_shrunk_bert.py" in capfd.readouterr().err
    assert hub.requests == []

    exported = tmp_path / "exported"  # an export alone: the message says which folder to push instead
    exported.mkdir()
    (exported / "export.json").write_text("{}")
    assert push(exported, "--repo-id", REPO_ID) == 2
    err = capfd.readouterr().err
    assert "is an exported folder (export.json), not a model folder: push the PyTorch folder it was" in err
    assert "README.md" not in err and hub.requests == []


def test_an_export_written_into_the_model_folder_goes_up_and_the_card_describes_it(built, hub, capfd, tmp_path):
    """`compactbert export MODEL --output MODEL/onnx` on a model the build did not export: push uploads the subfolder
    and the card it renders lists it with its verification; an export that was never verified is refused."""
    pytest.importorskip("onnxruntime")
    from compactbert.export import export_model

    folder = tmp_path / "m"
    shutil.copytree(built, folder)
    export_model(folder, folder / "onnx", format="onnx", verify_samples=4)
    assert push(folder, "--repo-id", REPO_ID) == 0
    files = hub.files(REPO_ID)
    assert "onnx/model.onnx" in files and "onnx/export.json" in files
    card = files["README.md"].decode()
    assert "## Running it without PyTorch" in card and "| `onnx/` | ONNX Runtime | 100.0% |" in card
    assert 'allow_patterns=["onnx/*"]' in card
    hidden = folder / ".partial-onnx"  # a hidden folder is not uploaded, so the card does not list it
    shutil.copytree(folder / "onnx", hidden)
    assert "`.partial-onnx/`" not in render_card_for_repo(folder, REPO_ID)
    shutil.rmtree(hidden)
    # a build's recorded exports are listed while their folders are there, with those found beside them
    from compactbert.hub.card import exports_in

    recorded = [{"format": "openvino", "dtype": "fp32", "folder": "gone", "files": [], "verification": {}}]
    assert [e["folder"] for e in exports_in(folder, recorded)] == ["onnx"]
    capfd.readouterr()
    (folder / "odd").mkdir()
    (folder / "odd" / "export.json").write_text("[1, 2]")
    assert push(folder, "--repo-id", REPO_ID, "--dry-run") == 2
    assert "odd/export.json is not a JSON object" in capfd.readouterr().err
    shutil.rmtree(folder / "odd")
    export_model(folder, folder / "unchecked", format="onnx", verify=False)
    assert push(folder, "--repo-id", REPO_ID, "--dry-run") == 2
    assert (
        "unchecked/ is an export that was never verified: export it again with verification" in capfd.readouterr().err
    )


@pytest.mark.parametrize("repo_id", ["no-namespace", "org/bad name", "a/b/c"])
def test_bad_repo_ids(built, capfd, repo_id):
    assert push(built, "--repo-id", repo_id) == 2
    assert "namespace/name" in capfd.readouterr().err


def test_unreachable_hub(built, hub, capfd, monkeypatch, no_retry_wait):
    import socket

    from huggingface_hub import constants

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    err = failed_push(built, hub, capfd)
    assert "could not be reached" in err and "Nothing was created" in err


def test_token_stays_out_of_debug_logs(built, hub, capfd, caplog):
    import logging

    from huggingface_hub.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_debug()
    try:
        with caplog.at_level(logging.DEBUG):
            assert push(built, "--repo-id", REPO_ID, "--revision", "logs") == 0
            hub.fail("POST", "/commit/", 403)
            assert push(built, "--repo-id", REPO_ID) == 2
    finally:
        hf_logging.set_verbosity(level)
    out, err = capfd.readouterr()
    assert "/api/repos/create (authenticated: True)" in caplog.text + err  # authenticated requests were logged...
    assert_no_token(hub, out, err, caplog.text)  # ...without the token


def test_interrupted_upload_removes_the_new_repository(built, hub, monkeypatch):
    from huggingface_hub import HfApi

    from compactbert.hub.push import push as push_folder

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the files upload

    monkeypatch.setattr(HfApi, "create_commit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        push_folder(built, REPO_ID)
    assert hub.requests_matching("POST", "/api/repos/create") and not hub.repo_exists(REPO_ID)


def test_the_project_space_folder_pushes_as_a_space(hub_checked):
    from pathlib import Path

    space = Path(__file__).resolve().parents[2] / "space"
    before = folder_digest(space)
    assert push(space, "--repo-id", "org/compactbert-demo", "--repo-type", "space") == 0
    assert hub_checked.repo_meta("org/compactbert-demo", repo_type="space")["sdk"] == "gradio"
    files = hub_checked.files("org/compactbert-demo", repo_type="space")
    assert {p: files[p] for p in before} == {p: (space / p).read_bytes() for p in before}
    assert len(hub_checked.commits_for("org/compactbert-demo", repo_type="space")) == 1
