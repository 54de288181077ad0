"""`compactbert publish`: a tiny zoo and its Space to the local Hub stand-in, with the real huggingface_hub client.

One commit per model repository and one for the Space; the Space's files (the manifest pinning the pushed commits,
requirements naming the uploaded wheel by URL and sha256, a card naming the models); a second run skips everything;
a changed model is the only one pushed again; a run that the Hub stops half way keeps what it pushed, leaves nothing
half made, says what is left and the command that finishes it, and that command finishes it. The token never shows.
"""

from __future__ import annotations

import json
import shlex
import shutil

import pytest
import yaml

from compactbert.cli import main
from compactbert.demo.manifest import load_zoo
from compactbert.demo.space import build_wheel, requirements, sha256_file, source_checkout
from compactbert.hub import validate_card
from compactbert.hub.gate import NOTE_TITLE

from support.demo import OTHER_ENTRIES, STAND_IN_METRICS
from support.zoo import folder_digest

NAMES = ["teacher", "shrunk-top-2", "shrunk-bottom-2", *OTHER_ENTRIES]  # a TinyBert and an Albert-SOP among them
MODELS = [f"org/{name}" for name in NAMES]
SPACE = "org/demo"
MAJORITY = {k: v for k, v in STAND_IN_METRICS["test"].items() if k.startswith("majority")}


@pytest.fixture
def hub_checked(hub):
    hub.card_validator = validate_card
    return hub


def publish(zoo, wheel, *extra) -> int:
    return main(["publish", str(zoo), "--org", "org", "--space", SPACE, "--wheel", str(wheel), *map(str, extra)])


def space_files(hub) -> dict[str, bytes]:
    return hub.files(SPACE, repo_type="space")


def test_publish_pushes_each_model_once_then_the_space_that_loads_them(zoo, wheel, hub_checked, capfd):
    hub = hub_checked
    before = {name: folder_digest(zoo / name) for name in NAMES}
    assert publish(zoo, wheel) == 0
    out, err = capfd.readouterr()
    assert hub.token not in out + err
    assert f"Space:     {hub.endpoint}/spaces/{SPACE}" in out and "6 models to org" in out
    assert TORCH_WARNING in err and TORCH_WARNING not in out  # the real run warns too, on stderr

    for name, repo in zip(NAMES, MODELS, strict=True):
        assert len(hub.commits_for(repo)) == 1  # one commit: weights, card, code
        files = hub.files(repo)
        local = zoo / name
        assert {p: files[p] for p in before[name] if p != "README.md"} == {
            p: (local / p).read_bytes() for p in before[name] if p != "README.md"
        }
        card = files["README.md"].decode()
        assert f'from_pretrained("{repo}"' in card and str(zoo) not in card  # the card names the repo, not the folder
        assert validate_card(card) == []
    assert {name: folder_digest(zoo / name) for name in NAMES} == before  # the zoo itself is left as it was

    files = space_files(hub)
    assert len(hub.commits_for(SPACE, repo_type="space")) == 1
    assert files["app.py"] == (source_checkout() / "app.py").read_bytes()
    assert files[wheel.name] == wheel.read_bytes()
    manifest = json.loads(files["zoo.json"])
    entries = [manifest["teacher"], *manifest["entries"]]
    assert [e["source"] for e in entries] == MODELS
    assert [e["revision"] for e in entries] == [hub.head(repo) for repo in MODELS]  # the commits just pushed
    assert manifest["label_names"] == load_zoo(zoo).label_names and manifest["examples"]

    requirements = files["requirements.txt"].decode().splitlines()
    url = f"{hub.endpoint}/spaces/{SPACE}/resolve/main/{wheel.name}"
    assert f"compactbert @ {url}#sha256={sha256_file(wheel)}" in requirements
    assert "torch==2.13.0" in requirements and not any(line.startswith("--") for line in requirements)

    card = files["README.md"].decode()
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["models"] == MODELS and "startup_duration_timeout" not in meta and meta["sdk"] == "gradio"
    assert all(f"[{repo}]({hub.endpoint}/{repo})" in card for repo in MODELS)
    assert validate_card(card, "space") == []
    # its text describes this zoo, as the page does: what to choose, the teacher, each model and what it keeps
    assert "# compactbert: drop layers of a BERT, compare with the teacher" in card
    assert "pick a drop strategy" in card and "held-out tiny test texts" in card
    assert "Teacher: **teacher** (6 layers, labels: sport, music, news)." in card
    assert f"[org/distilled-3]({hub.endpoint}/org/distilled-3) (distilled, `shrunk_bert`): a stand-in " in card
    assert "test accuracy 50.0%)" in card
    assert f'Client("{SPACE}").predict("{manifest["examples"][0]["text"]}", api_name="/compare")' in card
    # nothing about the default zoo or a Space without zoo.json, which a published Space is not
    assert "MiniLM" not in card and "BBC" not in card and "manifest" not in card and "OWNER" not in card


def test_second_run_skips_everything_and_a_changed_model_alone_is_pushed_again(zoo, wheel, hub, capfd):
    assert publish(zoo, wheel) == 0
    heads = {repo: hub.head(repo) for repo in MODELS}
    space_head = hub.head(SPACE, repo_type="space")
    capfd.readouterr()

    assert publish(zoo, wheel) == 0
    out, _ = capfd.readouterr()
    assert out.count("unchanged, it already holds these") == 7 and "0 repositories pushed" in out  # 6 models, Space
    assert {repo: hub.head(repo) for repo in MODELS} == heads and hub.head(SPACE, repo_type="space") == space_head

    # update one model: its weights change (as after a rebuild); only it and the Space's manifest go up again
    from safetensors.torch import load_file, save_file

    weights = zoo / "shrunk-top-2" / "model.safetensors"
    tensors = load_file(weights)
    first = sorted(tensors)[0]
    tensors[first] = tensors[first] + 1
    save_file(tensors, weights, metadata={"format": "pt"})
    assert publish(zoo, wheel) == 0
    out, _ = capfd.readouterr()
    assert "org/shrunk-top-2: pushed (1 of 8 files new or changed" in out  # metrics.json is the 8th
    assert "2 repositories pushed" in out
    assert (
        hub.head("org/teacher") == heads["org/teacher"] and hub.head("org/shrunk-top-2") != heads["org/shrunk-top-2"]
    )
    assert hub.files("org/shrunk-top-2")["model.safetensors"] == weights.read_bytes()
    manifest = json.loads(space_files(hub)["zoo.json"])
    assert manifest["entries"][0]["revision"] == hub.head("org/shrunk-top-2")


def test_a_run_stopped_half_way_keeps_what_it_pushed_and_the_printed_command_finishes_it(zoo, wheel, hub, capfd):
    fault = hub.refuse_commits_after(1)  # the teacher's commit goes through, the next is refused
    assert publish(zoo, wheel) == 2
    out, err = capfd.readouterr()
    assert hub.token not in out + err
    assert fault.hits == 1
    assert "publishing stopped at org/shrunk-top-2 (model repository)" in err and "403 Forbidden" in err
    assert "done: org/teacher: pushed" in err
    assert (
        "left: org/shrunk-top-2, org/shrunk-bottom-2, org/tinybert-2-pruned, org/distilled-3, "
        "org/albert-sop-e8-share-all, the Space org/demo" in err
    )
    assert hub.repo_exists("org/teacher") and len(hub.commits_for("org/teacher")) == 1
    assert not hub.repo_exists("org/shrunk-top-2")  # the repository that push created was deleted again
    assert not hub.repo_exists("org/shrunk-bottom-2") and not hub.repo_exists(SPACE, repo_type="space")

    commands = [line.strip() for line in err.splitlines() if line.startswith("  compactbert publish ")]
    assert len(commands) == 1
    args = shlex.split(commands[0])
    assert args[:2] == ["compactbert", "publish"] and "--wheel" in args
    hub.clear_faults()
    teacher_head = hub.head("org/teacher")
    assert main(args[1:]) == 0
    out, _ = capfd.readouterr()
    assert "org/teacher: unchanged" in out and hub.head("org/teacher") == teacher_head
    assert all(hub.repo_exists(repo) for repo in MODELS) and hub.repo_exists(SPACE, repo_type="space")
    manifest = json.loads(space_files(hub)["zoo.json"])
    assert [e["revision"] for e in [manifest["teacher"], *manifest["entries"]]] == [hub.head(r) for r in MODELS]


def test_a_failed_space_push_leaves_the_models_and_says_so(zoo, wheel, hub, capfd):
    hub.fail("POST", f"/api/spaces/{SPACE}/commit/", 403)
    assert publish(zoo, wheel) == 2
    err = capfd.readouterr().err
    assert "publishing stopped at org/demo (space repository)" in err and "left: the Space org/demo" in err
    assert all(len(hub.commits_for(repo)) == 1 for repo in MODELS)


def test_a_token_from_the_environment_never_shows_in_what_the_hub_says(zoo, wheel, hub, capfd):
    # publish is given no token: it finds HF_TOKEN, and must keep it out of an error that quotes it
    hub.fail("POST", f"/api/spaces/{SPACE}/commit/", 422, message=f"bad commit from token {hub.token}")
    assert publish(zoo, wheel) == 2
    out, err = capfd.readouterr()
    assert "bad commit from token <token>" in err and hub.token not in out + err


def test_a_zoo_with_a_model_at_the_majority_class_is_refused_whole_unless_forced(zoo, wheel, hub, capfd):
    metrics = zoo / "distilled-3" / "metrics.json"
    metrics.write_text(json.dumps(json.loads(metrics.read_text()) | {"test": {"accuracy": 0.34} | MAJORITY}))
    hub.clear_requests()
    for extra in (["--dry-run"], []):
        assert publish(zoo, wheel, *extra) == 2
        err = capfd.readouterr().err
        assert (
            "the quality gate refuses to publish 1 of the zoo's 6 models:\n  distilled-3: test accuracy 34.0%" in err
        )
        assert "Nothing was sent" in err and "pass --force" in err
    assert hub.requests == []

    assert publish(zoo, wheel, "--force") == 0
    out, _ = capfd.readouterr()
    assert "7 repositories pushed" in out  # 6 models and the Space
    assert (  # the real run says the gate's verdict too, before it sends anything
        "quality gate: 5 of 6 models pass (lowest retention: albert-sop-e8-share-all keeps 100.0% of 50.0%, the zoo's "
        "teacher; min_retention 95.0%); --force publishes the 1 it refuses, their cards saying so, and "
        "why:\n  distilled-3: test accuracy 34.0% is not clearly above the majority class"
    ) in out
    assert out.index("quality gate:") < out.index("org/teacher: pushed")
    card = hub.files("org/distilled-3")["README.md"].decode()
    assert f"**{NOTE_TITLE}.**" in card and "test accuracy 34.0%" in card
    assert json.loads(hub.files("org/distilled-3")["metrics.json"])["quality_gate"]["overridden"] is True
    assert NOTE_TITLE not in hub.files("org/teacher")["README.md"].decode()
    # the forced files are staged as they were uploaded: running the command again finds everything up to date
    assert publish(zoo, wheel, "--force") == 0
    assert "0 repositories pushed" in capfd.readouterr().out


def test_a_student_that_lost_too_much_of_its_teachers_accuracy_is_refused_unless_allowed(zoo, wheel, hub, capfd):
    """Above the majority class is not enough to publish: a student must keep 95% of the zoo's teacher (0.5 here)."""
    metrics = zoo / "shrunk-top-2" / "metrics.json"
    metrics.write_text(json.dumps(json.loads(metrics.read_text()) | {"test": {"accuracy": 0.45} | MAJORITY}))
    hub.clear_requests()
    assert publish(zoo, wheel, "--dry-run") == 2
    err = capfd.readouterr().err
    assert "the quality gate refuses to publish 1 of the zoo's 6 models:\n  shrunk-top-2: " in err
    assert "test accuracy 45.0% keeps 90.0% of the reference accuracy 50.0% (the zoo's teacher)" in err
    assert "below min_retention 95.0%" in err and "lower --min-retention" in err
    assert hub.requests == []

    assert publish(zoo, wheel, "--min-retention", "0.9", "--dry-run") == 0  # exactly at the floor passes
    capfd.readouterr()
    assert publish(zoo, wheel, "--force") == 0
    card = hub.files("org/shrunk-top-2")["README.md"].decode()
    assert f"**{NOTE_TITLE}.**" in card and "of the reference accuracy 50.0% (the zoo's teacher)" in card
    record = json.loads(hub.files("org/shrunk-top-2")["metrics.json"])["quality_gate"]
    assert (record["overridden"], record["min_retention"], record["reference_accuracy"]) == (True, 0.95, 0.5)
    assert NOTE_TITLE not in hub.files("org/shrunk-bottom-2")["README.md"].decode()
    # what finishes a forced run is the same command: everything is found up to date
    assert publish(zoo, wheel, "--force") == 0
    assert "0 repositories pushed" in capfd.readouterr().out


def test_dry_run_sends_nothing(zoo, wheel, hub, capfd):
    hub.clear_requests()
    assert main(["publish", str(zoo), "--org", "org", "--prefix", "tiny-", "--dry-run"]) == 0
    out, _ = capfd.readouterr()
    assert "-> org/tiny-teacher" in out and "-> org/tiny-shrunk-top-2" in out and "-> org/compactbert-demo" in out
    assert "nothing was built or sent" in out and hub.requests == []


TORCH_WARNING = "warning: no --torch-index-url: the Space will install torch from the default package index"


def test_the_plan_says_the_quality_gates_verdict_when_every_model_passes(zoo, hub, capfd):
    """As `push --dry-run` prints its gate verdict, `publish`'s plan says how many pass and the lowest retention."""
    metrics = zoo / "shrunk-bottom-2" / "metrics.json"
    metrics.write_text(json.dumps(json.loads(metrics.read_text()) | {"test": {"accuracy": 0.49} | MAJORITY}))
    assert main(["publish", str(zoo), "--org", "org", "--dry-run"]) == 0
    lines = capfd.readouterr().out.splitlines()
    assert (
        "quality gate: 6 of 6 models pass (lowest retention: shrunk-bottom-2 keeps 98.0% of 50.0%, the zoo's "
        "teacher; min_retention 95.0%)"
    ) in lines
    assert main(["publish", str(zoo), "--org", "org", "--min-retention", "0", "--dry-run"]) == 0
    out = capfd.readouterr().out
    assert "quality gate: 6 of 6 models pass (--min-retention 0: only the margin over the majority class" in out


def test_the_plan_warns_when_the_space_would_get_the_default_indexs_torch(zoo, hub, capfd):
    assert main(["publish", str(zoo), "--org", "org", "--dry-run"]) == 0
    out, err = capfd.readouterr()
    assert TORCH_WARNING in err and "on Linux is the CUDA build" in err and "pass --torch-index-url URL" in err
    assert "warning" not in out  # the plan is on stdout, what to look out for on stderr
    given = ["--torch-index-url", "https://index.test/whl/cpu"]
    assert main(["publish", str(zoo), "--org", "org", *given, "--dry-run"]) == 0
    out, err = capfd.readouterr()
    assert "warning" not in err and "quality gate: 6 of 6 models pass" in out


def test_publish_with_a_prefix_and_the_default_space(zoo, wheel, hub, capfd):
    assert main(["publish", str(zoo), "--org", "org", "--prefix", "tiny-", "--wheel", str(wheel)]) == 0
    assert all(hub.repo_exists(f"org/tiny-{name}") for name in NAMES)
    manifest = json.loads(hub.files("org/compactbert-demo", repo_type="space")["zoo.json"])
    assert manifest["teacher"]["source"] == "org/tiny-teacher"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "a/b"], "--org must be a user or organization name"),
        (["--org", "org", "--prefix", "bad name "], "is not a valid repo id (Repo id must"),
        (["--org", "org", "--prefix", "bad name "], "it is made of --org, --prefix and the zoo's name for it ('"),
        (["--org", "org", "--space", "org/bad name"], "'org/bad name' is not a valid repo id (Repo id must"),
        (["--org", "org", "--wheel", "nowhere.whl"], "no such file"),
        (["--org", "org", "--min-retention", "95"], "--min-retention must be a share between 0 and 1"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(zoo, hub, capfd, args, message):
    hub.clear_requests()
    assert main(["publish", str(zoo), *args]) == 2
    assert message in capfd.readouterr().err and hub.requests == []


def test_a_wheel_that_is_not_compactberts_is_refused_before_anything_is_sent(zoo, hub, capfd, tmp_path):
    """The Space would install it and then fail to import compactbert: a file that is no wheel, and a wheel of another
    package, are refused with what to build instead."""
    import zipfile

    not_a_zip = tmp_path / "compactbert-0.1.0-py3-none-any.whl"
    not_a_zip.write_text("not a wheel")
    other = tmp_path / "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("other-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")
    hub.clear_requests()
    for wheel, message in [(not_a_zip, "not a wheel"), (other, "a wheel of other, not of compactbert")]:
        assert main(["publish", str(zoo), "--org", "org", "--wheel", str(wheel), "--dry-run"]) == 2
        err = capfd.readouterr().err
        assert f"--wheel {wheel}: {message}" in err and "pip wheel --no-deps -w dist ." in err
    assert hub.requests == []


def test_the_plan_of_a_private_zoo_says_what_a_private_space_needs(zoo, wheel, hub, capfd):
    """What the real run says when it ends, a dry run says too: before anything is sent."""
    assert main(["publish", str(zoo), "--org", "org", "--wheel", str(wheel), "--private", "--dry-run"]) == 0
    err = capfd.readouterr().err
    assert "warning: the Space is private: its requirements.txt names the compactbert wheel" in err
    assert "the Space secret HF_TOKEN" in err


def test_a_zoo_of_hub_ids_is_not_a_zoo_to_publish(zoo, hub, capfd, tmp_path):
    manifest = json.loads((zoo / "zoo.json").read_text())
    manifest["entries"][0]["source"] = "someone/else"
    shutil.rmtree(zoo / manifest["entries"][0]["name"])
    (zoo / "zoo.json").write_text(json.dumps(manifest))
    assert main(["publish", str(zoo), "--org", "org", "--dry-run"]) == 2
    assert "is the Hub id someone/else, not a folder" in capfd.readouterr().err


def test_no_token(zoo, wheel, hub, capfd, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    assert publish(zoo, wheel) == 2
    assert "no Hugging Face token found" in capfd.readouterr().err and not hub.repo_exists("org/teacher")


def test_the_wheel_is_reproducible_and_holds_the_templates(wheel, tmp_path):
    import zipfile

    again = build_wheel(tmp_path)
    assert sha256_file(again) == sha256_file(wheel)  # so an unchanged Space is recognised as unchanged
    names = zipfile.ZipFile(wheel).namelist()
    for path in ("compactbert/demo/space_files/app.py", "compactbert/demo/space_files/requirements.txt",
                 "compactbert/hub/model_cards/_base.md", "compactbert/demo/assets/latency_vs_layers.png"):  # fmt: skip
        assert path in names


def test_default_names_the_demos_default_zoo_once_built(zoo, hub, capfd, tmp_path, monkeypatch):
    from compactbert.demo.zoo import default_zoo_dir

    monkeypatch.setenv("COMPACTBERT_DEMO_CACHE", str(tmp_path / "cache"))
    assert main(["publish", "default", "--org", "org", "--dry-run"]) == 2
    assert "the default zoo is not built yet" in capfd.readouterr().err
    shutil.copytree(zoo, default_zoo_dir())
    assert main(["publish", "default", "--org", "org", "--dry-run"]) == 0
    assert f"would publish the zoo {default_zoo_dir()} (6 models)" in capfd.readouterr().out


def test_the_space_requirements_name_the_torch_index_the_publisher_gives(tmp_path):
    wheel = tmp_path / "compactbert-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    lines = requirements(wheel, "https://hub.test/w.whl", "https://index.test/whl/cpu").splitlines()
    lines = [line for line in lines if line and not line.startswith("#")]
    assert lines == [
        "--extra-index-url https://index.test/whl/cpu",
        "torch==2.13.0",
        f"compactbert @ https://hub.test/w.whl#sha256={sha256_file(wheel)}",
    ]
    with pytest.raises(ValueError, match="must be an http"):
        requirements(wheel, "https://hub.test/w.whl", "index.test/whl cpu")
    with pytest.raises(ValueError, match="must be an http.*got ''"):  # an unset shell variable: refused, not ignored
        requirements(wheel, "https://hub.test/w.whl", "")


def test_publish_refuses_an_empty_torch_index_before_anything_is_built(zoo, capfd):
    """`--torch-index-url "$UNSET"` would leave the Space on the default index's torch: the dry run refuses it."""
    assert main(["publish", str(zoo), "--org", "org", "--torch-index-url", "", "--dry-run"]) == 2
    assert "--torch-index-url must be an http(s) URL" in capfd.readouterr().err


def test_records_go_up_without_this_machines_paths_and_a_second_run_finds_them_unchanged(zoo, wheel, hub, capfd):
    config_file = zoo / "shrunk-top-2" / "config.json"
    config = json.loads(config_file.read_text())
    config["source_model"] = str(zoo / "teacher")  # as `shrink /home/me/zoo/teacher` records it
    config_file.write_text(json.dumps(config, indent=2))
    assert publish(zoo, wheel) == 0
    out, _ = capfd.readouterr()
    assert "note:" in out and "config.json went up with this machine's paths named by their run" in out
    uploaded = hub.files("org/shrunk-top-2")["config.json"].decode()
    assert str(zoo) not in uploaded and json.loads(uploaded)["source_model"] == "teacher"
    assert json.loads(config_file.read_text())["source_model"] == str(zoo / "teacher")  # the local file as it was

    head = hub.head("org/shrunk-top-2")
    assert publish(zoo, wheel) == 0  # compared as it went up, not as it is here: nothing to push
    out, _ = capfd.readouterr()
    assert "org/shrunk-top-2: unchanged" in out and hub.head("org/shrunk-top-2") == head
