"""The files of a published Space: the app, its card, its requirements, the zoo manifest and a wheel of compactbert.

compactbert is on no package index, so the Space carries its own wheel. The Spaces build runs
`pip install -r requirements.txt` on that one file, before the rest of the Space is copied in, so a path to the
wheel would not be found: `requirements.txt` names the wheel by its URL on the Hub (the Space's own `resolve/main`
address) with its sha256, which pip checks. torch is pinned to its CPU build (the template in `space/`); gradio comes
from the card's `sdk_version`.

The templates are the repository's `space/` folder, shipped inside the package (`compactbert/demo/space_files`), so a
Space can be written wherever compactbert is installed. The wheel is built from the source checkout compactbert runs
from (`pip wheel --no-deps --no-build-isolation`, reproducibly: the same sources give the same bytes, so an
unchanged Space is recognised as unchanged), or given.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..hub.remote import sha256_file

# what the Space folder holds besides the wheel
APP_FILE, CARD_FILE, REQUIREMENTS_FILE, MANIFEST_FILE = "app.py", "README.md", "requirements.txt", "zoo.json"
# zip timestamps of the wheel (1980-01-01, the earliest a zip can hold): the same sources give the same wheel
SOURCE_DATE_EPOCH = "315532800"


def template_folder() -> Path:
    """The Space templates shipped with compactbert (the repository's `space/` folder)."""
    return Path(str(files("compactbert.demo") / "space_files"))


def source_checkout() -> Path | None:
    """The source checkout compactbert runs from (the folder with its `pyproject.toml`), or `None` when installed."""
    root = Path(__file__).resolve().parents[3]
    if (root / "pyproject.toml").is_file() and (root / "src" / "compactbert" / "__init__.py").is_file():
        return root
    return None


def build_wheel(output_dir: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """Build a wheel of compactbert into `output_dir` from its source checkout; returns the wheel's path.

    The sources are copied to a temporary folder first (the build writes `build/` and `*.egg-info` there, not into the
    checkout), with the links inside the package (card templates, Space templates) resolved. Raises `RuntimeError`
    with pip's message when the build fails, `FileNotFoundError` when there is no checkout to build from.
    """
    root = Path(source) if source is not None else source_checkout()
    if root is None or not (root / "pyproject.toml").is_file():
        raise FileNotFoundError(
            "compactbert is not running from a source checkout, so there is no wheel to build: build one in a "
            "checkout (`pip wheel --no-deps -w dist .`) and pass it with --wheel"
        )
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="compactbert-wheel-") as tmp:
        copy = Path(tmp) / "src-copy"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, copy / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        shutil.copytree(root / "src", copy / "src", symlinks=False, ignore=ignore)
        out = Path(tmp) / "dist"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        command += ["--disable-pip-version-check", "-q", "-w", str(out), str(copy)]
        done = subprocess.run(
            command, capture_output=True, text=True, env=os.environ | {"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
        )
        wheels = sorted(out.glob("compactbert-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise RuntimeError(
                f"building a wheel of compactbert from {root} failed (pip wheel exit {done.returncode}):\n"
                f"{(done.stderr or done.stdout).strip()[-2000:]}\n"
                "It needs setuptools>=69 in this environment (the build runs without isolation); or pass a wheel "
                "built elsewhere with --wheel"
            )
        target = output_dir / wheels[0].name
        shutil.copy2(wheels[0], target)
    return target


def check_wheel(wheel: str | os.PathLike) -> None:
    """Refuse a `--wheel` that is not a file, not a wheel, or a wheel of another package than compactbert (the Space
    would install it and fail to import compactbert)."""
    import zipfile

    build = "build one from the checkout with `pip wheel --no-deps -w dist .`"
    path = Path(wheel)
    if not path.is_file():
        raise FileNotFoundError(f"--wheel {wheel}: no such file; {build}")
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            text = archive.read(metadata[0]).decode("utf-8", "replace") if len(metadata) == 1 else ""
    except zipfile.BadZipFile:
        text = None
    if text is None or not path.name.endswith(".whl") or not text:
        raise ValueError(f"--wheel {wheel}: not a wheel (a .whl archive with one *.dist-info/METADATA); {build}")
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Name:")), "")
    if name.lower().replace("_", "-") != "compactbert":
        raise ValueError(f"--wheel {wheel}: a wheel of {name or 'an unnamed package'}, not of compactbert; {build}")


def wheel_url(endpoint: str, space_id: str, wheel_name: str) -> str:
    """Where the Hub serves a file of the Space (its `main` branch): what the Spaces build downloads."""
    return f"{endpoint.rstrip('/')}/spaces/{space_id}/resolve/main/{wheel_name}"


def check_torch_index_url(url: str) -> None:
    """Refuse a `--torch-index-url` that pip could not use: not http(s), holding spaces, or empty (an unset shell
    variable), which would otherwise leave the Space on the default index's torch without a word."""
    if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
        raise ValueError(
            f"--torch-index-url must be an http(s) URL without spaces (the package index of torch's CPU build), "
            f"got {url!r}"
        )


def requirements(wheel: str | os.PathLike, url: str, torch_index_url: str | None = None) -> str:
    """The Space's `requirements.txt`: the template (torch, pinned) plus compactbert by URL and sha256; with
    `torch_index_url` (the package index of torch's CPU build, given by the publisher) an `--extra-index-url` line."""
    template = (template_folder() / REQUIREMENTS_FILE).read_text(encoding="utf-8").rstrip("\n")
    if torch_index_url is not None:
        check_torch_index_url(torch_index_url)
        template = template.replace("\ntorch==", f"\n--extra-index-url {torch_index_url}\ntorch==", 1)
    return f"{template}\ncompactbert @ {url}#sha256={sha256_file(wheel)}\n"


def space_card(manifest: dict[str, Any], space_id: str, endpoint: str, torch_index_url: str | None = None) -> str:
    """The published Space's card: the template's metadata, naming the published models (`models:` links them on the
    Hub), without the long start-up allowance (the Space loads models instead of training them); its text describes
    this zoo (its teacher, what a visitor can choose, each model with its size and the accuracy it keeps, as the page
    does), the `compare` endpoint called with this Space's id and how the Space installs compactbert."""
    from huggingface_hub import SpaceCard

    from .describe import droppable, entry_line, teacher_sentence, title
    from .manifest import zoo_from_dict

    zoo = zoo_from_dict(manifest, Path("."))
    card = SpaceCard((template_folder() / CARD_FILE).read_text(encoding="utf-8"))
    card.data["models"] = [e.source for e in (zoo.teacher, *zoo.entries)]
    card.data.pop("startup_duration_timeout")
    can_drop = droppable(zoo.teacher.family, zoo.teacher.num_layers)
    accuracy = zoo.teacher.metrics.get("test_accuracy")
    link = f"{endpoint.rstrip('/')}/{{}}"
    models = [entry_line(zoo.teacher, label=f"[{zoo.teacher.source}]({link.format(zoo.teacher.source)})")]
    models += [entry_line(e, accuracy, label=f"[{e.source}]({link.format(e.source)})") for e in zoo.entries]
    choose = ["pick a drop strategy (Poor Man's BERT, Sajjad et al. 2020) and how many layers the teacher loses"]
    choose = (choose if can_drop else []) + (["choose one of its students below"] if zoo.entries else [])
    examples = zoo.build.get("examples") or f"held-out {zoo.task} test texts, with their true labels"
    example = " ".join(zoo.examples[0]["text"].split()[:12]) if zoo.examples else "A text to classify."
    text = f"Type a text or take one of the {examples[0].lower()}{examples[1:]}" if zoo.examples else "Type a text"
    intro = (
        f"{text}; {', or '.join(choose or ['compare'])}, and see the teacher's and the compact model's predictions "
        "side by side, whether they agree, their latency (median of interleaved runs) and the speedup."
    )
    if not can_drop:  # nothing is dropped on this page: the Hub's summary and tags say what it does
        card.data["short_description"] = "Compact models beside their teacher: predictions, latency"
        card.data["tags"] = [tag for tag in card.data.get("tags") or [] if tag != "layer-dropping"]
    torch_from = " from the index of its CPU build" if torch_index_url else ""
    card.text = f"""
# {title(can_drop)}

{intro} {teacher_sentence(zoo, zoo.teacher.num_layers)}

## The models of this Space

{chr(10).join(f"- {line}" for line in models)}

**Where the models come from.** `zoo.json` names each model by its Hub id and the commit that `compactbert publish`
pushed or found: the app downloads them when it starts and is ready in seconds. A model that cannot be downloaded is
left out, and the page says which one.

**From code.** The named API endpoint `compare` returns the same data as the page:

```text
from gradio_client import Client
print(Client({json.dumps(space_id)}).predict({json.dumps(example, ensure_ascii=False)}, api_name="/compare"))
```

**Installing.** `requirements.txt` pins torch{torch_from} and installs compactbert from the wheel that
`compactbert publish` uploaded next to it, named by its URL and sha256 (the Spaces build runs pip on
`requirements.txt` alone). gradio comes from `sdk_version`, the gradio version the demo's tests run against. `app.py`
serves `compactbert demo` on `zoo.json`.
"""
    return str(card)


def write_space(
    folder: str | os.PathLike,
    manifest: dict[str, Any],
    wheel: str | os.PathLike,
    space_id: str,
    endpoint: str,
    torch_index_url: str | None = None,
) -> Path:
    """Write a Space folder: `app.py`, the card, `requirements.txt` (naming the wheel by its URL under `endpoint`),
    `zoo.json` (`manifest`, whose entries are Hub ids at pinned revisions) and the wheel itself. Returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wheel = Path(wheel)
    shutil.copy2(template_folder() / APP_FILE, folder / APP_FILE)
    shutil.copyfile(wheel, folder / wheel.name)
    url = wheel_url(endpoint, space_id, wheel.name)
    (folder / REQUIREMENTS_FILE).write_text(requirements(wheel, url, torch_index_url), encoding="utf-8")
    card = space_card(manifest, space_id, endpoint, torch_index_url)
    (folder / CARD_FILE).write_text(card, encoding="utf-8")
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder
