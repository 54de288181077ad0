"""Reading raw splits from where a task spec points: local data files, a local folder, or a Hub dataset.

Each reader returns `dict[split name, datasets.Dataset]` with the columns as stored; `tasks.load_task` maps columns and
labels and makes the final splits.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import datasets

from ..data_files import FILE_BUILDERS, data_suffix, file_builder
from .builtin import list_builtin_tasks

# file suffix -> `datasets` builder (a trailing compression suffix is ignored)
# Hub datasets whose configs may be written `name/config`, as in the literature (`glue/sst2`)
CONFIG_SHORTHANDS = ("glue", "super_glue", "tweet_eval")
# The Hub moved its namespace-less ("canonical") datasets under their owners, and huggingface_hub >= 1.16 (whose
# `hf://` file system `datasets` reads through) refuses an id without an owner; these old ids are read from their new
# repos.
LEGACY_HUB_IDS = {
    "glue": "nyu-mll/glue",
    "tweet_eval": "cardiffnlp/tweet_eval",
    "rotten_tomatoes": "cornell-movie-review-data/rotten_tomatoes",
    "sst2": "stanfordnlp/sst2",
    "ag_news": "fancyzhx/ag_news",
    "emotion": "dair-ai/emotion",
}
# our split name -> the source split names that play it, in order of preference
SPLIT_ALIASES = {"train": ("train",), "validation": ("validation", "valid", "val", "dev"), "test": ("test",)}
_TRUE = {"1", "ON", "YES", "TRUE"}


def _load_error(what: str, err: Exception) -> ValueError:
    if "corresponds to no data" in str(err):
        return ValueError(f"{what} has no rows; expected a header (or keys) and at least one example per split")
    cause = err
    while cause.__cause__ is not None:  # datasets wraps the reader's error ("An error occurred while generating")
        cause = cause.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return ValueError(
            f"could not read {what}: it is not UTF-8 text ({cause}); save it as UTF-8 (a spreadsheet's 'CSV UTF-8', "
            "or e.g. `iconv -f cp1252 -t utf-8 FILE > NEW`)"
        )
    shown = err if cause is err else f"{err} ({type(cause).__name__}: {cause})"
    return ValueError(f"could not read {what}: {type(err).__name__}: {shown}")


def read_files(
    files: str | os.PathLike | Mapping[str, str | os.PathLike], *, cache_dir: str | os.PathLike | None = None
) -> dict[str, datasets.Dataset]:
    """Load one data file (as split `train`) or one file per split (`{"train": ..., "test": ...}`).

    Raises:
        `FileNotFoundError`: a file does not exist.
        `ValueError`: an unsupported file type, files of different types, or a file `datasets` cannot read or that
        has no rows.
    """
    named = {"train": files} if isinstance(files, (str, os.PathLike)) else dict(files)
    if not named:
        raise ValueError(
            "got an empty mapping of data files; expected e.g. {'train': 'train.csv', 'test': 'test.csv'}"
        )
    builders = set()
    for split, file in named.items():
        builder = file_builder(file)
        if builder is None:
            raise ValueError(
                f"unsupported data file {file} for split '{split}'; expected one of: {', '.join(FILE_BUILDERS)} "
                "(optionally compressed)"
            )
        if not Path(file).is_file():
            raise FileNotFoundError(f"data file {file} (split '{split}') does not exist")
        if Path(file).stat().st_size == 0:
            raise ValueError(f"data file {file} (split '{split}') is empty; expected a header (or keys) and rows")
        builders.add((builder, data_suffix(file) == ".tsv"))
    if len(builders) > 1:
        raise ValueError(f"data files must all be of one type; got {[str(f) for f in named.values()]}")
    builder, tsv = builders.pop()
    options = {"delimiter": "\t"} if tsv else {}
    where = ", ".join(str(f) for f in named.values())
    try:
        loaded = datasets.load_dataset(
            builder, data_files={s: str(f) for s, f in named.items()}, cache_dir=_str(cache_dir), **options
        )
    except Exception as err:  # pyarrow / datasets parse errors: say which file, keep the cause
        raise _load_error(where, err) from err
    return dict(loaded)


def read_folder(
    folder: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None
) -> dict[str, datasets.Dataset]:
    """Load a folder of data files; `datasets` takes the split names from the file names (`train.csv`, `test.csv`)."""
    try:
        return dict(datasets.load_dataset(str(folder), cache_dir=_str(cache_dir)))
    except Exception as err:
        raise _load_error(f"folder {folder}", err) from err


def read_local(
    path: Path, *, split_column: str | None = None, cache_dir: str | os.PathLike | None = None
) -> dict[str, datasets.Dataset]:
    """Load a local data file (its rows divided by `split_column` when given) or a folder of per-split files."""
    if path.is_dir():
        if split_column is not None:
            raise ValueError("split_column applies to a single file; a folder's splits come from its file names")
        return read_folder(path, cache_dir=cache_dir)
    if not path.exists():
        raise FileNotFoundError(f"data file {path} does not exist")
    return by_split_column(read_files(path, cache_dir=cache_dir)["train"], split_column, str(path))


def by_split_column(table: datasets.Dataset, column: str | None, where: str) -> dict[str, datasets.Dataset]:
    """Divide `table` into splits by the values of `column` (`train`, `validation`, `test` or an alias such as `dev`);
    without a column it is all `train`."""
    if column is None:
        return {"train": table}
    if column not in table.column_names:
        raise ValueError(f"{where} has no split column '{column}'; columns found: {table.column_names}")
    rows: dict[str, list[int]] = {}
    for i, value in enumerate(table[column]):
        rows.setdefault(str(value).strip().lower(), []).append(i)
    known = {alias for aliases in SPLIT_ALIASES.values() for alias in aliases}
    if set(rows) - known:
        raise ValueError(f"split column '{column}' in {where} has values {sorted(rows)}; expected {sorted(known)}")
    return {value: table.select(indices).remove_columns(column) for value, indices in rows.items()}


def parse_hub_id(spec: str, config: str | None = None) -> tuple[str, str | None]:
    """Split a Hub spec into `(path, config)`: `glue/sst2` and `owner/name/config` carry a config.

    >>> parse_hub_id("glue/sst2"), parse_hub_id("nyu-mll/glue/mrpc"), parse_hub_id("rotten_tomatoes")
    (('glue', 'sst2'), ('nyu-mll/glue', 'mrpc'), ('rotten_tomatoes', None))
    """
    parts = spec.strip("/").split("/")
    path, in_spec = spec, None
    if len(parts) == 3:
        path, in_spec = "/".join(parts[:2]), parts[2]
    elif len(parts) == 2 and parts[0] in CONFIG_SHORTHANDS:
        path, in_spec = parts
    elif len(parts) > 3 or not all(parts):
        raise ValueError(
            f"cannot read Hub dataset id {spec!r}; expected 'name', 'owner/name', 'owner/name/config' or 'glue/sst2'"
        )
    if config is not None and in_spec is not None and config != in_spec:
        raise ValueError(f"Hub spec {spec!r} names config '{in_spec}' but config={config!r} was also given")
    return path, config if config is not None else in_spec


def hub_offline() -> bool:
    """Whether Hub access is switched off: `HF_HUB_OFFLINE` now, or as `datasets` read it at import."""
    return datasets.config.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").upper() in _TRUE


@contextlib.contextmanager
def _offline_if_requested() -> Iterator[None]:
    # `datasets` reads HF_HUB_OFFLINE once, at import; honour it when it was set later (notebooks, tests), so an
    # offline machine fails at once instead of retrying the network for tens of seconds.
    previous = datasets.config.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = hub_offline()
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE = previous


def read_hub(
    spec: str,
    *,
    config: str | None = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    hint: str = "",
) -> dict[str, datasets.Dataset]:
    """Load a Hub dataset (or one already in the local `datasets` cache) with `datasets.load_dataset`.

    The Hub's old namespace-less ids in `LEGACY_HUB_IDS` (`glue`, `rotten_tomatoes`, ...) are read from the repos they
    moved to (`nyu-mll/glue`, ...).

    `hint` is appended to the dataset's name in error messages (a "did you mean" for a near-miss built-in name).

    Raises:
        `ConnectionError`: the Hub cannot be reached (offline mode, no network) and the set is not cached; the message
        points offline users to the built-in sets and local files.
        `ValueError`: any other failure (unknown id, missing config), with the cause.
    """
    path, config = parse_hub_id(spec, config)
    repo_id = LEGACY_HUB_IDS.get(path, path)
    name = (
        f"'{path}'" + (f" (now '{repo_id}')" if repo_id != path else "") + (f" (config '{config}')" if config else "")
    )
    name += hint
    offline_hint = (
        f"Offline, use a built-in set ({', '.join(list_builtin_tasks())}) or a local CSV / JSON / JSONL / Parquet "
        "file, e.g. load_task('bbc-news') or load_task('data.csv', text_column='text', label_column='label')."
    )
    owner_hint = "" if "/" in repo_id else f" Hub dataset ids need an owner now: give 'owner/{repo_id}'."
    try:
        with _offline_if_requested():
            loaded = datasets.load_dataset(repo_id, config, revision=revision, cache_dir=_str(cache_dir))
    except (ConnectionError, OSError) as err:
        if isinstance(err, FileNotFoundError) and not hub_offline():
            raise ValueError(f"Hub dataset {name} was not found: {err}.{owner_hint} {offline_hint}") from err
        why = (
            "Hub access is off (HF_HUB_OFFLINE=1)"
            if hub_offline()
            else "the Hub could not be reached (set HF_HUB_OFFLINE=1 to fail at once instead of retrying)"
        )
        raise ConnectionError(
            f"could not load Hub dataset {name}: {why} and it is not in the local datasets cache. {offline_hint}"
        ) from err
    except Exception as err:
        raise ValueError(
            f"could not load Hub dataset {name}: {type(err).__name__}: {err}.{owner_hint} {offline_hint}"
        ) from err
    if not isinstance(loaded, datasets.DatasetDict):
        raise ValueError(f"Hub dataset {name} did not load as a DatasetDict of splits (got {type(loaded).__name__})")
    return dict(loaded)


def _str(path: str | os.PathLike | None) -> str | None:
    return None if path is None else str(path)
