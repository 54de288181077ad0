"""`load_task`: a task spec (built-in name, local file, Hub id, or `datasets` object) -> fixed train/validation/test.

How the three splits are made:

- one labeled pool (a built-in set, a single file, a Hub set with only `train` labeled): test and validation are carved
  out of it, `test_size` and `validation_size` of the whole;
- `train` and a labeled `test`, no `validation`: validation is carved out of train (`validation_size` of train);
- `train` and `validation` but no labeled `test` (GLUE: test labels are -1): the given validation becomes the test
  split, because it is what published results report on, and a new validation is carved out of train
  (`validation_size` of train);
- all three labeled: used as given.

Carving is stratified by label, seeded, and duplicate-aware (texts equal up to whitespace and case stay in one split);
see `splits.carve_splits`. Splits that the source provides are never re-mixed.

`whole=True` carves nothing: every labeled row of the source is one split named `all`, a file's in its order, a
source of several splits one split after the other (those `split_names` names, else all of them, `train` included):
data held out from training, to score a model on; one class is enough.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import datasets

from .builtin import BUILTIN_TASKS, get_builtin_task, list_builtin_tasks, suggest_builtin
from .columns import LABEL_COLUMNS, Columns, check_texts, encode_labels, name_it, resolve_columns
from .sources import SPLIT_ALIASES, by_split_column, file_builder, read_files, read_hub, read_local
from .splits import carve_splits, check_fractions, dedup_key

SPLITS = ("train", "validation", "test")
WHOLE = "all"  # the one split of `load_task(..., whole=True)`
Spec = str | os.PathLike | datasets.Dataset | datasets.DatasetDict | Mapping[str, str | os.PathLike]


class Task(NamedTuple):
    """What `load_task` returns; unpacks as `dataset, label_names = load_task(...)`.

    Attributes:
        dataset (`datasets.DatasetDict`):
            Splits `train`, `validation`, `test` (with `whole=True`: `all` alone) with columns `text`, `text_pair`
            (pair tasks only) and `label` (a `datasets.ClassLabel`: integer ids with names).
        label_names (`list[str]`):
            The class names; `label_names[i]` is the name of label id `i`.
    """

    dataset: datasets.DatasetDict
    label_names: list[str]

    @property
    def id2label(self) -> dict[int, str]:
        """`{id: name}`, as a model config's `id2label` wants it."""
        return dict(enumerate(self.label_names))

    @property
    def label2id(self) -> dict[str, int]:
        """`{name: id}`, as a model config's `label2id` wants it."""
        return {name: i for i, name in enumerate(self.label_names)}


def load_task(
    spec: Spec,
    *,
    seed: int = 42,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    text_column: str | None = None,
    text_pair_column: str | None = None,
    label_column: str | None = None,
    label_names: Sequence[str] | None = None,
    split_column: str | None = None,
    split_names: Mapping[str, str] | None = None,
    config: str | None = None,
    revision: str | None = None,
    data_path: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    whole: bool = False,
) -> Task:
    """Load a text-classification task as fixed, seeded, stratified train / validation / test splits (or, `whole`,
    every labeled row as one split, `all`).

    Args:
        spec (`str`, `os.PathLike`, `datasets.Dataset`, `datasets.DatasetDict` or `Mapping[str, path]`):
            - a built-in set: `"bbc-news"`, `"rotten-tomatoes"` (see `list_builtin_tasks()`); `"name:/path"` reads it
              from a given file or folder, `"builtin:name"` refuses anything but a built-in set;
            - a local `.csv` / `.tsv` / `.json` / `.jsonl` / `.parquet` file, a folder of such files named by split, or
              a mapping `{"train": file, "test": file, ...}`;
            - a Hub dataset id: `"rotten_tomatoes"`, `"owner/name"`, `"owner/name/config"` or `"glue/sst2"`;
            - a `datasets.Dataset` (one pool) or `datasets.DatasetDict`.
        seed (`int`, *optional*, defaults to 42):
            Seed of the splits: the same seed gives the same splits on every run and machine.
        validation_size, test_size (`float`, *optional*, default to 0.1):
            Fractions carved out; see the module docstring for what they are fractions of.
        text_column, text_pair_column, label_column (`str`, *optional*):
            Column names; by default `text` (or the GLUE names: `sentence`, `sentence1`/`sentence2`, ...), `text_pair`
            when present, and `label`.
        label_names (`Sequence[str]`, *optional*):
            Class names: the id order of string labels, or the names of integer ids 0..K-1.
        split_column (`str`, *optional*):
            A column of a single file that says each row's split (`train` / `validation` / `test`, or `dev`).
        split_names (`Mapping[str, str]`, *optional*):
            Which source split plays `train` / `validation` / `test`, e.g. `{"validation": "validation_matched"}`.
        config, revision (`str`, *optional*):
            The Hub dataset's config and revision.
        data_path (`str` or `os.PathLike`, *optional*):
            Where a built-in set's data lives (same as `"name:/path"`).
        cache_dir (`str` or `os.PathLike`, *optional*):
            The `datasets` cache folder for files and Hub sets.
        whole (`bool`, *optional*, defaults to `False`):
            Carve nothing: the `DatasetDict` holds one split, `all`, with every labeled row (see the module
            docstring for the order and which splits), to score a model on. One class is enough; `seed` and the
            fractions play no part.

    Returns:
        `Task`: the `DatasetDict` and the class names (with `whole`, those the rows hold, or a `ClassLabel`'s).

    Raises:
        `ValueError`: an unknown built-in name, missing columns, no rows, bad labels, a single class, bad fractions.
        `FileNotFoundError`: a data file does not exist. `ConnectionError`: a Hub set while offline.

    >>> dataset, label_names = load_task("bbc-news")
    >>> dataset["train"].num_rows, label_names
    (1784, ['business', 'entertainment', 'politics', 'sport', 'tech'])
    """
    check_fractions(validation_size, test_size)
    builtin = _builtin_spec(spec)
    if builtin is not None:
        name, path = builtin
        options = dict(
            text_column=text_column,
            text_pair_column=text_pair_column,
            label_column=label_column,
            label_names=label_names,
            split_column=split_column,
            split_names=split_names,
            config=config,
            revision=revision,
        )
        given = [option for option, value in options.items() if value is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)} cannot be used with the built-in set '{name}': its columns, labels and splits "
                "are fixed. Leave them out, or load the data as a local file to choose them"
            )
        if path and data_path is not None:
            raise ValueError(f"got two paths for '{name}': {path!r} in the spec and data_path={data_path!r}; give one")
        return _load_builtin(name, path or data_path, seed, validation_size, test_size, whole)
    if data_path is not None:
        raise ValueError("data_path is only for built-in sets; give a local file as the spec itself")
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        name, colon, arg = text.partition(":")
        path = Path(text)
        if colon and len(name) > 1 and not arg.startswith("//") and not path.exists():  # one letter: a drive
            raise ValueError(
                f"unknown built-in task '{name}' in {text!r}{suggest_builtin(name)}; the 'name:path' form is for the "
                f"built-in sets ({', '.join(list_builtin_tasks())}). For a Hub dataset config write 'glue/sst2' or "
                "pass config=..."
            )
        if path.exists() or file_builder(path) is not None:
            raw, where = read_local(path, split_column=split_column, cache_dir=cache_dir), str(path)
        else:
            where = f"Hub dataset '{text}'"
            raw = read_hub(text, config=config, revision=revision, cache_dir=cache_dir, hint=suggest_builtin(text))
    elif isinstance(spec, datasets.Dataset):
        raw, where = by_split_column(spec, split_column, "the given Dataset"), "the given Dataset"
    elif isinstance(spec, datasets.DatasetDict):
        raw, where = dict(spec), "the given DatasetDict"
    elif isinstance(spec, Mapping):
        raw, where = read_files(spec, cache_dir=cache_dir), "data files " + ", ".join(map(str, spec.values()))
    else:
        raise TypeError(f"spec must be a name, a path, a Hub id, a datasets object or a mapping; got {type(spec)}")
    return _assemble(
        raw,
        where,
        columns=dict(text=text_column, text_pair=text_pair_column, label=label_column),
        label_names=label_names,
        split_names=split_names or {},
        seed=seed,
        fractions=(validation_size, test_size),
        whole=whole,
    )


def first_rows(rows: datasets.Dataset, n: int | None) -> datasets.Dataset:
    """The first `n` rows (all of them when `n` is None or more than there are): what `max_eval_samples` and the
    like keep."""
    return rows if n is None else rows.select(range(min(n, rows.num_rows)))


def texts(spec: Spec, n: int, split: str = "train", **kwargs: Any) -> list[str]:
    """The first `n` texts of a split of `load_task(spec, **kwargs)` (the splits are in seeded shuffled order, so
    these are a fixed sample across classes); fewer if the split is smaller.

    >>> len(texts("bbc-news", 8))
    8
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; choose one of: {', '.join(SPLITS)}")
    if n < 0:
        raise ValueError(f"n must be >= 0; got {n}")
    dataset = load_task(spec, **kwargs).dataset[split]
    return first_rows(dataset, n)["text"][:]


def builtin_name(spec: Spec) -> str | None:
    """The built-in set a spec names, however it is written (`bbc-news`, `builtin:bbc-news`, `bbc-news:/path`), or
    None."""
    found = _builtin_spec(spec)
    return found[0] if found else None


def _builtin_spec(spec: Spec) -> tuple[str, str] | None:
    """`(name, path)` when `spec` names a built-in set (`name`, `name:path`, `builtin:name[:path]`), else `None`."""
    if not isinstance(spec, (str, os.PathLike)):
        return None
    name, _, path = os.fspath(spec).partition(":")
    if name == "builtin":
        name, _, path = path.partition(":")
        get_builtin_task(name)  # raises with the valid names
    return (name, path) if name in BUILTIN_TASKS else None


def _load_builtin(
    name: str, path: str | os.PathLike | None, seed: int, validation_size: float, test_size: float, whole: bool
) -> Task:
    task = get_builtin_task(name)
    text, labels = task.read(Path(path) if path else None)
    pool = {"text": text, "label": labels}
    if whole:
        return _build({WHOLE: pool}, task.label_names)
    return _build(_split_pool(pool, list(task.label_names), seed, (test_size, validation_size)), task.label_names)


def _assemble(raw, where, *, columns, label_names, split_names, seed, fractions, whole=False) -> Task:
    if set(split_names) - set(SPLITS):
        raise ValueError(f"split_names keys must be among {list(SPLITS)}; got {sorted(split_names)}")
    chosen = {}
    for split in SPLITS:
        source = split_names.get(split) or next((a for a in SPLIT_ALIASES[split] if a in raw), None)
        if source is not None:
            if source not in raw:
                raise ValueError(f"{where} has no split '{source}' (split_names); splits found: {sorted(raw)}")
            chosen[split] = raw[source]
    if whole:  # the splits split_names names, else every one the source has
        return _whole({split_names[k]: raw[split_names[k]] for k in split_names} or raw, where, columns, label_names)
    if "train" not in chosen:
        raise ValueError(
            f"{where} has no training split; splits found: {sorted(raw)}. Map one with split_names={{'train': ...}}"
        )
    if chosen["train"].num_rows == 0:
        raise ValueError(f"{where} has no rows in its training split; expected labeled examples")
    tables, names, cols = _labeled_tables(chosen, chosen["train"], where, columns, label_names)
    if "train" not in tables:
        raise ValueError(f"the training split of {where} has no labels; expected class ids or names in '{cols.label}'")
    validation_size, test_size = fractions
    if {"validation", "test"} <= set(tables):
        parts = tables
    elif "test" in tables or "validation" in tables:
        parts = _split_pool(tables["train"], names, seed, (validation_size,), ("train", "validation"))
        parts["test"] = tables["test"] if "test" in tables else tables["validation"]
    else:
        parts = _split_pool(tables["train"], names, seed, (test_size, validation_size))
    return _build(parts, names)


def _labeled_tables(chosen: Mapping[str, datasets.Dataset], reference: datasets.Dataset, where: str, columns: dict,
                    label_names) -> tuple[dict[str, dict[str, list]], list[str], Columns]:  # fmt: skip
    """Each table of `chosen` as lists of its text, pair and label columns, the labels as class ids (a table without
    labels left out), with the class names and the columns; the columns and a `ClassLabel`'s names are `reference`'s."""
    cols = resolve_columns(reference.column_names, **columns, where=where)
    whole_file = len(chosen) == 1  # one table, e.g. a local file without a split column: its rows are the file's
    tables = {
        split: _columns_of(table, cols, where if whole_file else f"split '{split}' of {where}", whole_file)
        for split, table in chosen.items()
    }
    feature = reference.features.get(cols.label)
    class_names = feature.names if isinstance(feature, datasets.ClassLabel) else None
    encoded, names = encode_labels(
        {split: t.pop("label") for split, t in tables.items()},
        column=cols.label,
        class_names=class_names,
        label_names=label_names,
        where=where,
    )
    for split, labels in encoded.items():
        if labels is None:
            del tables[split]
        else:
            tables[split]["label"] = labels
    return tables, names, cols


def _whole(raw: Mapping[str, datasets.Dataset], where: str, columns: dict, label_names) -> Task:
    """Every labeled row of the splits of `raw`, split after split, as the one split `all`."""
    tables = {split: table for split, table in raw.items() if table.num_rows}
    if not tables:
        raise ValueError(f"{where} has no rows; expected labeled examples")
    label_column = [columns["label"]] if columns.get("label") else LABEL_COLUMNS
    reference = next(
        (t for t in tables.values() if any(c in t.column_names for c in label_column)), next(iter(tables.values()))
    )
    parts, names, _ = _labeled_tables(tables, reference, where, columns, label_names)
    pool = {column: [v for part in parts.values() for v in part[column]] for column in next(iter(parts.values()))}
    return _build({WHOLE: pool}, names)


def _columns_of(table: datasets.Dataset, cols: Columns, where: str, whole_file: bool = False) -> dict[str, list]:
    for column in (cols.text, cols.text_pair):
        if column is not None and column not in table.column_names:
            raise ValueError(f"{where} has no column '{column}'; columns found: {table.column_names}")
    out = {"text": check_texts(table[cols.text], cols.text, where, whole_file)}
    if cols.text_pair is not None:
        out["text_pair"] = check_texts(table[cols.text_pair], cols.text_pair, where, whole_file)
    out["label"] = list(table[cols.label]) if cols.label in table.column_names else None
    return out


def _split_pool(pool, names, seed, fractions, order=("train", "test", "validation")) -> dict[str, dict[str, list]]:
    if len(set(pool["label"])) < 2:
        only = names[pool["label"][0]] if pool["label"] else None
        raise ValueError(
            f"the labels have a single class ({only!r}) in {len(pool['label'])} examples; a classification task needs "
            f"at least two classes. Check the label column ({name_it('label_column')})"
        )
    keys = [
        dedup_key(t, p) for t, p in zip(pool["text"], pool.get("text_pair") or [None] * len(pool["text"]), strict=True)
    ]
    parts = carve_splits(pool["label"], fractions, seed=seed, keys=keys, label_names=names)
    return {
        split: {c: [v[i] for i in rows] for c, v in pool.items()} for split, rows in zip(order, parts, strict=True)
    }


def _build(parts: Mapping[str, Mapping[str, list]], names: Sequence[str]) -> Task:
    features = {"text": datasets.Value("string")}
    if "text_pair" in next(iter(parts.values())):
        features["text_pair"] = datasets.Value("string")
    features["label"] = datasets.ClassLabel(names=list(names))
    dataset = datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                {c: parts[split][c] for c in features}, features=datasets.Features(features)
            )
            for split in [s for s in SPLITS if s in parts] or list(parts)
        }
    )
    if "train" in dataset and len(set(dataset["train"]["label"])) < 2:
        raise ValueError("the training split has a single class; a classification task needs at least two classes")
    return Task(dataset, list(names))
