"""How what goes to the Hub names this machine's files: by the run or folder they belong to, never by their path.

A run records the paths it was given: `distill --teacher /home/me/runs/teacher/model` writes that path into the
student's `config.json` (`source_model`) and `metrics.json` (`teacher`, the recipe), and the quality gate's record
can name the teacher's `metrics.json`. Those paths mean nothing on the Hub and can say who made the model and where
(`/home/<user>/...`). A card names them with `local_name` when it is rendered; `push` uploads the records through
`public_files`, which names every local path in them (`config.json`, `metrics.json`, `build.json`, an export's
`export.json`) by its run (`runs/teacher/model` -> `teacher`) and a file by its folder and name
(`/home/me/data/reviews.csv` -> `data/reviews.csv`), never by a home folder (`/home/me/reviews.csv` ->
`reviews.csv`). The local files are not changed.

A Hub id (`org/name`), a plain name (`minilm`, `articles.csv`), a URL and the model's label names are kept as they
are; so is a relative `dir/name` that is not on this machine, which cannot be told from a Hub id or a version, and a
path relative to the record's own folder (`../model`): neither names anything of the machine. Whether a relative
path is on this machine depends on the folder the command runs in.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..data_files import file_builder

RUN_MODEL_FOLDER = "model"  # where finetune and distill save the model in their output_dir (`finetune.MODEL_SUBDIR`)
# the records a run writes into an uploaded folder (`build.json`: a build's recipe, with its source and task)
RECORD_FILES = ("config.json", "metrics.json", "export.json", "build.json")
_TOKEN = re.compile(r"[^\s'\"`()\[\]{},;]+")  # a word of prose that may be a path


def is_hub_id(name: str | None) -> bool:
    """A Hub repo id (`org/name`), not a local path: only those belong in `base_model`."""
    if not name or os.path.isabs(name) or os.path.exists(name) or name.count("/") != 1:
        return False
    if file_builder(name) is not None:  # `out/reviews.csv`, run from another folder: a data file, not a repo
        return False
    return re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None


def is_local_path(name: str) -> bool:
    """A path on this machine (it exists, or is written as one), not a name in prose ("X fine-tuned on Y ...")."""
    if os.path.exists(name):
        return True
    if os.path.isabs(name) and "\n" not in name:  # `/Users/John Smith/runs/t/model`: spaces and all
        return True
    return ("/" in name or os.sep in name) and not any(c.isspace() for c in name)


def local_name(name):
    """How a card names a model or a data file: a Hub id or a plain name as it is; a local path by its folder (a run's
    `output_dir/model` by the run's folder), a local file by its name without suffix: never this machine's path.

    >>> local_name("out/runs/teacher2/model"), local_name("google-bert/bert-base-uncased"), local_name("minilm")
    ('teacher2', 'google-bert/bert-base-uncased', 'minilm')
    """
    if not isinstance(name, str) or is_hub_id(name) or not is_local_path(name):
        return name
    path = Path(name)
    if path.is_file() or (not path.exists() and path.suffix):
        return path.stem
    return _folder_name(Path(os.path.normpath(name)))


def _folder_name(path: Path) -> str:
    """A folder by its run (`runs/t/model` -> `t`), never by a home folder (`/home/me/model` -> `model`)."""
    parent = path.parent
    return parent.name if path.name == RUN_MODEL_FOLDER and parent.name and not _says_who(parent) else path.name


def recorded_model_folder(name, folder: Path) -> Path | None:
    """The local model folder a recorded name points to (as run from here, or from a folder above `folder`, where
    the run that recorded it may have been started); None for a Hub id, a plain name or a folder not here."""
    if not isinstance(name, str) or is_hub_id(name) or not is_local_path(name):
        return None
    if not (os.path.isabs(name) or "/" in name or os.sep in name):
        return None  # a bare name: a folder of that name here may be another model
    bases = [Path("/")] if os.path.isabs(name) else [Path.cwd(), *folder.resolve().parents]
    for base in bases:
        candidate = base / name
        if (candidate / "config.json").is_file() and candidate.resolve() != folder.resolve():
            return candidate
    return None


def names_machine_path(value: str, spaces: bool = False) -> bool:
    """`value` is a path of this machine with a folder in it: absolute, from the home folder (`~/`), or one that
    exists here (`runs/teacher/model`). Not a URL, a Hub id, a plain name, a relative path that is not here
    (`2026.4/releases/4` is a version), nor one relative to the record's own folder (`../model`, an export's
    `source_folder`), which names nothing of the machine. `spaces`: a whole value, which may hold spaces."""
    if len(value) < 2 or "://" in value or "/" not in value.replace(os.sep, "/") or "\n" in value:
        return False
    if not spaces and any(c.isspace() for c in value):
        return False
    if os.path.isabs(value) or value.startswith("~/"):
        return True
    if value.startswith(("./", "../")):
        return False
    return os.path.exists(value) and not is_hub_id(value)


def _says_who(path: Path) -> bool:
    """A folder whose name says whose machine it is, or nothing: the root, a home folder (`/home/alice`,
    `/Users/alice`, this user's), `/root`, or the home folder's own parent."""
    home = Path(os.path.expanduser("~"))
    return (
        path == Path(path.anchor)
        or path in (home, home.parent, Path("/root"))
        or (len(path.parts) == 3 and path.parts[1] in ("home", "Users"))
        or path.name in ("home", "Users", "~")
    )


def public_path(value: str, spaces: bool = False) -> str:
    """A path as the Hub copy names it: a folder by its run (`runs/teacher/model` -> `teacher`), a file by its
    folder and name (`/home/me/runs/teacher/model/metrics.json` -> `teacher/metrics.json`), never by a home folder
    (`/home/me/reviews.csv` -> `reviews.csv`); anything else as it is.

    >>> public_path("/home/me/runs/teacher/model"), public_path("/home/me/data/reviews.csv"), public_path("minilm")
    ('teacher', 'data/reviews.csv', 'minilm')
    """
    if not names_machine_path(value, spaces):
        return value
    path = Path(os.path.normpath(os.path.expanduser(value)))
    if path.suffix and (path.is_file() or not path.exists()):  # a file: its folder says whose it is
        folder = path.parent
        if folder.name == RUN_MODEL_FOLDER and not _says_who(folder.parent):
            folder = folder.parent
        return path.name if _says_who(folder) or folder.name in ("", ".", "..") else f"{folder.name}/{path.name}"
    return _folder_name(path) or value


def public_text(text: str) -> str:
    """`text` with every word that is a path of this machine, or ends in one (`teacher=/home/me/t`,
    `file:/home/me/t`), named by `public_path`; a sentence's full stop or colon after it kept."""

    def name(match: re.Match) -> str:
        word = match.group(0)
        tail = word[-1] if len(word) > 2 and word[-1] in ".:" and word[-2].isalnum() else ""
        word = word[: len(word) - len(tail)]
        starts = [0] + [i + 1 for i, c in enumerate(word) if c in "=:"]
        for start in starts:
            if names_machine_path(word[start:]):
                return word[:start] + public_path(word[start:]) + tail
        return word + tail

    return _TOKEN.sub(name, text)


LABEL_KEYS = ("id2label", "label2id")  # a config's label names are the model's, whatever they look like


def public_record(value):
    """A JSON value (a config, metrics) with every string naming this machine's paths by their run: a whole value
    that is a path (spaces and all) by `public_path`, prose by `public_text`; the label names kept as they are."""
    if isinstance(value, dict):
        return {key: item if key in LABEL_KEYS else public_record(item) for key, item in value.items()}
    if isinstance(value, list):
        return [public_record(item) for item in value]
    if not isinstance(value, str):
        return value
    if names_machine_path(value, spaces=True) and value.lstrip().startswith(("/", "~/")):
        return public_path(value, spaces=True)
    return public_text(value)


def public_files(folder: Path, paths: list[str], replaced: dict[str, bytes]) -> dict[str, list[tuple[str, str]]]:
    """Put into `replaced` the Hub copy of each record in `paths` (relative to `folder`; the content already in
    `replaced` when there is one) that names a path of this machine; return `{path: [(local, public), ...]}`."""
    renamed: dict[str, list[tuple[str, str]]] = {}
    for path in paths:
        if Path(path).name not in RECORD_FILES:
            continue
        content = replaced.get(path) or (folder / path).read_bytes()
        try:
            record = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # not a record compactbert wrote; the folder check reports a broken config.json
        public = public_record(record)
        if public == record:
            continue
        renamed[path] = sorted(_renamed(record, public))
        end = "\n" if content.endswith(b"\n") else ""
        replaced[path] = (json.dumps(public, indent=2, ensure_ascii=False) + end).encode("utf-8")
    return renamed


def _renamed(local, public) -> set[tuple[str, str]]:
    """The (local, public) words that differ between a record and its Hub copy."""
    if isinstance(local, dict):
        return set().union(*(_renamed(local[k], public[k]) for k in local)) if local else set()
    if isinstance(local, list):
        return set().union(*(_renamed(a, b) for a, b in zip(local, public, strict=True))) if local else set()
    if isinstance(local, str) and local != public:
        if public == public_path(local, spaces=True):  # a whole value that is a path
            return {(local, public)}
        return {(a, b) for a, b in zip(_TOKEN.findall(local), _TOKEN.findall(public), strict=True) if a != b}
    return set()


__all__ = [
    "RECORD_FILES",
    "RUN_MODEL_FOLDER",
    "is_hub_id",
    "is_local_path",
    "local_name",
    "names_machine_path",
    "public_files",
    "public_path",
    "public_record",
    "public_text",
    "recorded_model_folder",
]
