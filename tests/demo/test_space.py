"""The Space and the entry points: YAML pinned to the tested gradio, the same app.py, packaged study plots, CLI."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import gradio
import torch
import yaml

from compactbert.cli import main
from compactbert.demo.ui import STUDY_FOLDERS, STUDY_PLOTS, study_plot_path

ROOT = Path(__file__).resolve().parents[2]


def space_yaml() -> dict:
    text = (ROOT / "space" / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_space_yaml_is_complete_and_pins_the_tested_gradio():
    meta = space_yaml()
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == gradio.__version__
    assert (ROOT / "space" / meta["app_file"]).is_file()
    assert meta["license"] == "apache-2.0" and meta["title"] and meta["models"]
    assert 0 < len(meta["short_description"]) <= 60  # the Hub refuses longer ones
    lines = (ROOT / "space" / "requirements.txt").read_text().splitlines()
    requirements = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    # torch's CPU build, pinned to the tested version; compactbert is added by `compactbert publish` (its wheel by URL,
    # tested in test_publish.py): no package index has it
    assert requirements == [f"torch=={torch.__version__.split('+')[0]}"]  # the publisher names a CPU index, if any
    assert torch.__version__.endswith("+cpu")
    assert not any(line.startswith("gradio") for line in requirements)  # gradio comes from sdk_version


def test_space_card_passes_the_hubs_metadata_checks_and_huggingface_hub_reads_it():
    from huggingface_hub import SpaceCard

    from support.hub_standin import validate_card_metadata

    text = (ROOT / "space" / "README.md").read_text(encoding="utf-8")
    errors, warnings, _ = validate_card_metadata(text, repo_type="space")
    assert errors == [] and warnings == []
    card = SpaceCard(text)
    assert card.data.sdk == "gradio" and card.data.app_file == "app.py"


def test_space_runs_the_repository_app_and_app_py_is_thin():
    assert (ROOT / "space" / "app.py").read_text() == (ROOT / "app.py").read_text()
    code = [line for line in (ROOT / "app.py").read_text().splitlines() if line and not line.startswith(("#", '"'))]
    assert "from compactbert.cli.demo import main" in code and len(code) < 12
    assert 'main(manifest=Path(__file__).with_name("zoo.json"))' in (ROOT / "app.py").read_text()


def test_the_space_templates_ship_with_the_package():
    from compactbert.demo.space import template_folder

    for name in ("README.md", "app.py", "requirements.txt"):
        assert (template_folder() / name).read_bytes() == (ROOT / "space" / name).read_bytes()


def test_study_plots_ship_with_the_package_and_match_the_study():
    for name in STUDY_PLOTS:
        packaged, study = Path(study_plot_path(name)), ROOT / "docs" / "results" / STUDY_FOLDERS[name] / name
        # digests, not the bytes: pytest's diff of two large byte strings takes many minutes
        digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (packaged, study)]
        assert digests[0] == digests[1], f"{packaged} is not a copy of {study}: copy the study's plot into the package"


def test_cli_demo_build_only_serves_the_given_zoo(tiny_zoo_dir, capsys):
    assert main(["demo", "--zoo", str(tiny_zoo_dir), "--build-only"]) == 0
    assert f"demo zoo: {tiny_zoo_dir} (6 models)" in capsys.readouterr().out  # teacher, 2 shrunk, 3 other students
    assert main(["demo", "--zoo", str(tiny_zoo_dir / "nowhere"), "--build-only"]) == 2
    assert "no zoo at" in capsys.readouterr().err


def test_app_py_help_lists_the_demo_options():
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "--zoo" in done.stdout and "--cache-dir" in done.stdout


def test_the_published_card_of_a_zoo_whose_teacher_is_not_a_bert_says_what_its_page_does(tiny_zoo_dir):
    """No strategy to pick, no layer dropping in the Hub's summary or tags, no layer count it does not know."""
    from compactbert.demo.manifest import load_zoo
    from compactbert.demo.space import space_card

    manifest = load_zoo(tiny_zoo_dir).to_dict()
    manifest["teacher"] |= {"family": "albert_sop", "num_layers": None, "source": "org/teacher"}
    for entry in manifest["entries"]:
        entry["source"] = f"org/{entry['name']}"
    card = space_card(manifest, "org/space", "https://hub.test")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert "BERT" not in meta["short_description"] and "layer-dropping" not in meta["tags"]
    assert "# compactbert: compact models compared with their teacher" in card and "pick a drop strategy" not in card
    assert "Teacher: **teacher** (labels: sport, music, news)." in card and "0 layers" not in card
    assert "Type a text or take one of the held-out tiny test texts, with their true labels; choose one" in card
