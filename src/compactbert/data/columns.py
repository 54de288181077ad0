"""Which columns hold the text, the text pair and the label, and how labels become class ids.

Column names are matched in this order unless given: pairs `text`/`text_pair`, `sentence1`/`sentence2`,
`question1`/`question2`, `premise`/`hypothesis`, `question`/`sentence`, `question`/`passage` (the GLUE and SuperGLUE
names), then single texts `text`, `sentence`, `content`, `review`, `document`; labels `label`, then `labels`.

Labels are integers (kept as they are when they run 0..K-1, otherwise the sorted values are numbered 0..K-1),
strings (class names: sorted, then numbered) or booleans (`false` = 0, `true` = 1). A `datasets.ClassLabel` column keeps
its own names. Floats, missing labels (`None`) and mixed types are errors; `-1` means "no label" only when a whole
split has it (GLUE's test splits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PAIR_COLUMNS = (
    ("text", "text_pair"),
    ("sentence1", "sentence2"),
    ("question1", "question2"),
    ("premise", "hypothesis"),
    ("question", "sentence"),
    ("question", "passage"),
)
TEXT_COLUMNS = ("text", "sentence", "content", "review", "document")
LABEL_COLUMNS = ("label", "labels")
UNLABELED = -1


@dataclass(frozen=True)
class Columns:
    """The resolved column names of a table: `text`, `text_pair` (or `None`) and `label`."""

    text: str
    text_pair: str | None
    label: str


class ColumnNotFound(ValueError):
    """No column of the data is the text or the label column; `problem` says so without how to name one (which a
    command without column options words its own way)."""

    def __init__(self, problem: str, option: str):
        super().__init__(f"{problem} Name it: {name_it(option)}")
        self.problem = problem
        self.option = option  # the column option that names it: text_column, text_pair_column, label_column


def _no_header_hint(found: Sequence[str]) -> str:
    """A hint when the column names found look like a row of data (a file without a header row: its first row was
    read as the names, and is not among the examples)."""
    looks_like_data = [name for name in found if " " in name.strip() or name.strip().lstrip("-").isdigit()]
    if not looks_like_data:
        return ""
    return (
        f" Names like {looks_like_data[0]!r} look like data: if the file has no header row, its first row was read as "
        "the column names; add a header (e.g. text,label)."
    )


def name_it(option: str) -> str:
    """How to name a column, from Python and from a recipe (`option` is `text_column`, `label_column`, ...)."""
    return f"{option}=NAME in Python, `{option}: NAME` in a recipe or `--{option} NAME` on the command line"


def row_number(i: int, where: str, whole_file: bool) -> str:
    """Row `i` (0-based) of a table, with its line in the file when the table is a whole CSV / TSV / JSON Lines file."""
    line = ""
    if whole_file and where.lower().endswith((".csv", ".tsv", ".csv.bz2", ".csv.gz")):
        line = f"; data row {i + 1} of the file, after its header"
    elif whole_file and where.lower().endswith(".jsonl"):
        line = f"; line {i + 1} of the file"
    return f"row {i} (counting from 0{line})"


def _missing(what: str, name: str, found: Sequence[str], option: str, where: str) -> ColumnNotFound:
    return ColumnNotFound(f"{where} has no {what} column '{name}'; columns found: {list(found)}.", option)


def resolve_columns(
    found: Sequence[str],
    *,
    text: str | None = None,
    text_pair: str | None = None,
    label: str | None = None,
    where: str = "the data",
) -> Columns:
    """Pick the text, text-pair and label columns among `found`, honouring the names the caller gave.

    Args:
        found (`Sequence[str]`):
            The column names of the table.
        text, text_pair, label (`str`, *optional*):
            Column names given by the caller; each must exist. Left out, they are matched as the module describes
            (a given `text` is paired with `text_pair` only when that column exists).
        where (`str`, *optional*):
            What the table is (a file name, a Hub id), for error messages.

    Raises:
        `ValueError`: a given column is missing, or no text / label column can be found; the message lists the
        columns found.
    """
    for name, option in ((text, "text_column"), (text_pair, "text_pair_column"), (label, "label_column")):
        if name is not None and name not in found:
            raise _missing(option.removesuffix("_column").replace("_", " "), name, found, option, where)
    if text is None:
        pair = next(((a, b) for a, b in PAIR_COLUMNS if a in found and b in found and text_pair is None), None)
        if pair is not None:
            text, text_pair = pair
        else:
            text = next((name for name in TEXT_COLUMNS if name in found), None)
            if text is None:
                raise ColumnNotFound(
                    f"{where} has no text column: looked for {list(TEXT_COLUMNS)}; columns found: {list(found)}."
                    + _no_header_hint(found),
                    "text_column",
                )
    elif text_pair is None and "text_pair" in found and text != "text_pair":
        text_pair = "text_pair"
    if label is None:
        label = next((name for name in LABEL_COLUMNS if name in found), None)
        if label is None:
            raise ColumnNotFound(
                f"{where} has no label column: looked for {list(LABEL_COLUMNS)}; columns found: {list(found)}."
                + _no_header_hint(found),
                "label_column",
            )
    if len({text, text_pair, label} - {None}) < 2 + (text_pair is not None):
        raise ValueError(
            f"text, text pair and label must be different columns; got {text!r}, {text_pair!r}, {label!r}"
        )
    return Columns(text, text_pair, label)


def _check_distinct_names(present: Sequence[str], column: str, where: str) -> None:
    """Refuse class names that differ only by case or surrounding spaces (`positive ` and `Positive` beside
    `positive`): they would be classes of their own, split apart and learned apart, where the data means one."""
    variants: dict[str, list[str]] = {}
    for name in present:
        variants.setdefault(name.strip().casefold(), []).append(name)
    clashes = [group for group in variants.values() if len(group) > 1]
    if clashes:
        raise ValueError(
            f"label column '{column}' in {where} has labels that differ only by case or surrounding spaces: "
            f"{clashes[:5]}; each would be a class of its own. Write each class one way in the file (or, if they are "
            "different classes, give them names that differ by more)"
        )


def check_texts(values: Sequence[object], column: str, where: str, whole_file: bool = False) -> list[str]:
    """Return `values` as a list of strings, or raise a `ValueError` naming the first missing or non-text value
    (`whole_file`: the values are a whole file's rows, so the message gives the row's line in it too)."""
    values = list(values)
    bad = [i for i, value in enumerate(values) if not isinstance(value, str)]
    if bad:
        example = values[bad[0]]
        kind = "missing (None)" if example is None else f"not text ({type(example).__name__} {example!r})"
        raise ValueError(
            f"{len(bad)} of {len(values)} values of column '{column}' in {where} are not strings; the first, "
            f"{row_number(bad[0], where, whole_file)}, is {kind}. Expected one text per row: fix the data or name "
            f"the text column: {name_it('text_column')}"
        )
    return values


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "str"
    return "None" if value is None else type(value).__name__


def encode_labels(
    values: dict[str, list[object] | None],
    *,
    column: str,
    class_names: Sequence[str] | None = None,
    label_names: Sequence[str] | None = None,
    where: str = "the data",
) -> tuple[dict[str, list[int] | None], list[str]]:
    """Turn the raw labels of each split into class ids and return them with the class names.

    Args:
        values (`dict[str, list | None]`):
            The raw labels per split; `None` for a split without a label column.
        column (`str`):
            The label column's name, for error messages.
        class_names (`Sequence[str]`, *optional*):
            The names of a `datasets.ClassLabel` column (its values are already ids).
        label_names (`Sequence[str]`, *optional*):
            Names given by the caller: for string labels they fix the order of the ids, for integer labels they name
            ids 0..K-1.
        where (`str`, *optional*):
            What the data is, for error messages.

    Returns:
        `tuple[dict[str, list[int] | None], list[str]]`: the ids per split (`None` for an unlabeled split, one whose
        labels are all `-1` or missing) and the class names.
    """
    labeled: dict[str, list[object]] = {}
    for split, labels in values.items():
        if not labels or all(v is None or v == UNLABELED for v in labels):
            continue  # no label column, or a split without labels (e.g. GLUE's test splits)
        kinds = {_kind(v) for v in labels}
        if len(kinds) > 1 or kinds - {"int", "str", "bool"}:
            missing = [i for i, v in enumerate(labels) if v is None]
            example = next((v for v in labels if _kind(v) not in ("int", "str", "bool")), labels[0])
            whole_file = len(values) == 1  # a local file without a split column: its rows are the file's
            problem = (
                f"{len(missing)} {'row has' if len(missing) == 1 else 'rows have'} no label (None), the first at "
                f"{row_number(missing[0], where, whole_file)}"
                if missing
                else f"labels mix types {sorted(kinds)}"
                if len(kinds) > 1
                else f"labels are {type(example).__name__} (e.g. {example!r})"
            )
            part = "" if whole_file else f" of split '{split}'"
            raise ValueError(
                f"label column '{column}'{part} in {where}: {problem}. Expected integer class ids or class names "
                "(strings) in every row; regression targets are not supported. Fix the data or name another column: "
                f"{name_it('label_column')}"
            )
        if "int" in kinds and any(v < 0 for v in labels):
            count = sum(v < 0 for v in labels)
            raise ValueError(
                f"label column '{column}' of split '{split}' in {where} has {count} negative labels (e.g. "
                f"{min(labels)}); expected class ids >= 0 (-1 means 'no label' only when a whole split has it)"
            )
        labeled[split] = labels
    if not labeled:
        raise ValueError(
            f"label column '{column}' in {where} has no labels (every value is missing or -1); expected class ids or "
            "class names"
        )
    kinds = {_kind(next(iter(labels))) for labels in labeled.values()}
    if len(kinds) > 1:
        raise ValueError(
            f"label column '{column}' in {where} has different label types across splits: {sorted(kinds)}"
        )
    kind = kinds.pop()
    present = sorted({v for labels in labeled.values() for v in labels})

    if class_names is not None or (kind == "int" and label_names is not None):
        names = list(label_names if label_names is not None else class_names)
        if kind != "int" or present[-1] >= len(names):
            raise ValueError(
                f"label column '{column}' in {where} has labels {present[:10]} that are not ids of the "
                f"{len(names)} class names {names}"
            )
        mapping = {i: i for i in present}
    elif kind == "bool":
        names, mapping = list(label_names or ("false", "true")), {False: 0, True: 1}
        if len(names) != 2:
            raise ValueError(f"label column '{column}' in {where} is true/false; give 2 label_names, not {names}")
    elif kind == "str":
        if label_names is None:
            _check_distinct_names(present, column, where)
        names = list(label_names) if label_names is not None else [str(v) for v in present]
        unknown = [v for v in present if v not in names]
        if unknown:
            raise ValueError(
                f"label column '{column}' in {where} has labels {unknown[:10]} that are not among label_names {names}"
            )
        mapping = {name: i for i, name in enumerate(names)}
    else:  # integers without names: 0..K-1 stays as it is, other values are numbered in sorted order
        names = [str(v) for v in present]
        mapping = {v: i for i, v in enumerate(present)}
    if len(set(names)) != len(names):
        raise ValueError(f"class names must be unique; got {names}")
    encoded = {split: ([mapping[v] for v in labeled[split]] if split in labeled else None) for split in values}
    return encoded, names
