"""A zoo's manifest (`zoo.json`): the task's label names and example texts, the teacher's layer contribution scores,
and the entries, each a model folder inside the zoo or a Hub id. Read (`load_zoo`, checked), written (`write_zoo`) and
resolved to folders (`Zoo.resolve`, `fetch_hub_entries`); the default zoo's building is in `compactbert.demo.zoo`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..fields import required_fields

MANIFEST = "zoo.json"
ZOO_FORMAT = 1
ENV_ZOO = "COMPACTBERT_DEMO_ZOO"  # a zoo folder or manifest file to use instead of the default (e.g. Hub entries)

FINE_TUNED = "fine-tuned"  # entry kinds
TEACHER = "teacher"
PRUNED = "pruned"  # a TinyBert cut out of the teacher, then trained
CONVERTED = "converted"  # an Albert-SOP converted from the teacher (albert_from_bert), then trained
DISTILLED = "distilled"  # a student made of the teacher's layers, distilled from it


@dataclass(frozen=True)
class ZooEntry:
    """One model of a zoo.

    Args:
        name: unique, shown on the page (e.g. `"shrunk-top-3"`).
        source: a folder relative to the zoo, an absolute folder, or a Hub id (for zoos that live on the Hub).
        family: `shrunk_bert`, `bert`, and later `tiny_bert`, `albert_sop`, ...
        kind: `teacher`, `fine-tuned` (a ShrunkBert fine-tuned after dropping), or a family's own kind
            (`distilled`, `pretrained-sop`, ...).
        strategy, num_drop, kept_layers: for ShrunkBert entries, how layers were dropped (0-based kept indices).
        num_parameters, num_layers: the model's size.
        metrics: held-out scores, e.g. `{"test_accuracy": 0.95}`, with where they came from in `description`.
        revision: for a Hub id, the commit to load (`compactbert publish` pins the commit it pushed or found).
    """

    name: str
    source: str
    family: str
    kind: str
    description: str = ""
    strategy: str | None = None
    num_drop: int | None = None
    kept_layers: list[int] | None = None
    num_parameters: int | None = None
    num_layers: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    revision: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "zoo manifest") -> ZooEntry:
        """An entry from its manifest data; unknown or missing fields are refused, naming the entry and `where`."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: a zoo entry must be a JSON object of fields, got {data!r}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"{where}: zoo entry {data.get('name')!r} has unknown fields {unknown}; known: {sorted(known)}"
            )
        required = required_fields(cls)
        missing = [f for f in required if f not in data]
        if missing:
            raise ValueError(
                f"{where}: zoo entry {data.get('name')!r} lacks {', '.join(missing)} (every entry has "
                f"{', '.join(required)})"
            )
        return cls(**data)


@dataclass
class Zoo:
    """A loaded zoo manifest: where it lives, its task and its entries (the teacher first)."""

    root: Path
    task: str
    label_names: list[str]
    teacher: ZooEntry
    entries: list[ZooEntry]
    contributions: list[float] | None = None  # the teacher's per-layer [CLS] in/out cosine, bottom to top
    examples: list[dict[str, str]] = field(default_factory=list)  # {"text": ..., "label": ...} from the test split
    build: dict[str, Any] = field(default_factory=dict)  # how the zoo was made (settings, seconds, command)

    def resolve(self, entry: ZooEntry) -> str:
        """Where to load `entry` from: its folder inside the zoo, or its Hub id."""
        local = self.root / entry.source
        if not Path(entry.source).is_absolute() and local.is_dir():
            return str(local)
        if Path(entry.source).is_dir():
            return entry.source
        if "/" in entry.source and not entry.source.startswith((".", "/")):
            return entry.source  # a Hub id, loaded through the Hub client (online, or from its cache)
        raise FileNotFoundError(
            f"zoo entry {entry.name!r}: {entry.source} is neither a folder of the zoo nor a Hub id"
        )

    def is_hub_entry(self, entry: ZooEntry) -> bool:
        """Whether `entry` is loaded from the Hub (its source is a Hub id, not a folder)."""
        return self.resolve(entry) == entry.source and not Path(entry.source).is_dir()

    def fine_tuned(self, strategy: str, num_drop: int) -> ZooEntry | None:
        """The fine-tuned ShrunkBert entry for `strategy` and `num_drop`, if the zoo has one."""
        return next(
            (e for e in self.entries if e.kind == FINE_TUNED and e.strategy == strategy and e.num_drop == num_drop),
            None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ZOO_FORMAT,
            "task": self.task,
            "label_names": self.label_names,
            "teacher": asdict(self.teacher),
            "entries": [asdict(e) for e in self.entries],
            "contributions": self.contributions,
            "examples": self.examples,
            "build": self.build,
        }


def load_zoo(path: str | os.PathLike) -> Zoo:
    """Read a zoo from its folder (holding `zoo.json`) or from a manifest file; entry sources resolve next to it."""
    path = Path(path)
    manifest = path / MANIFEST if path.is_dir() else path
    if not manifest.is_file():
        raise FileNotFoundError(f"no zoo at {path}: expected a folder with {MANIFEST} or a manifest .json file")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:  # a hand edit (an entry taken out, its comma left behind)
        raise ValueError(
            f"{manifest} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
            + (" (a comma left before a closing bracket?)" if _closes_after_comma(err) else "")
        ) from None
    return zoo_from_dict(data, manifest.parent, where=str(manifest))


def _closes_after_comma(err: json.JSONDecodeError) -> bool:
    """Whether the parse stopped at a closing bracket that a comma comes before (what taking the last entry out of a
    list leaves behind)."""
    before = err.doc[: err.pos].rstrip()
    return err.doc[err.pos : err.pos + 1] in ("]", "}") and before.endswith(",")


def zoo_from_dict(data: dict[str, Any], root: Path, where: str = "zoo manifest") -> Zoo:
    """A zoo from a manifest's data (what `Zoo.to_dict` gives), its entry folders relative to `root`; checked: the
    format, the entries' fields, unique names (`where` names the manifest in the error)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: a zoo manifest is a JSON object (format, task, label_names, teacher, entries)")
    if data.get("format") != ZOO_FORMAT:
        raise ValueError(f"{where}: zoo format {data.get('format')!r} is not supported (expected {ZOO_FORMAT})")
    missing = [key for key in ("task", "label_names", "teacher", "entries") if key not in data]
    if missing:
        raise ValueError(f"{where}: the manifest lacks {', '.join(missing)}")
    if not isinstance(data["entries"], list):
        raise ValueError(f"{where}: entries must be a JSON list of entries, got {type(data['entries']).__name__}")
    entries = [ZooEntry.from_dict(e, where) for e in data["entries"]]
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: entry names must be unique, got {names}")
    return Zoo(
        root=root,
        task=data["task"],
        label_names=list(data["label_names"]),
        teacher=ZooEntry.from_dict(data["teacher"], where),
        entries=entries,
        contributions=data.get("contributions"),
        examples=list(data.get("examples") or []),
        build=dict(data.get("build") or {}),
    )


def fetch_hub_entries(zoo: Zoo, log: Callable[[str], None] = print) -> tuple[Zoo, dict[str, str]]:
    """Download the zoo's Hub entries (at their pinned `revision`) once, before the demo starts.

    Returns the zoo with those entries pointing at their downloaded folders, and the entries that could not be
    fetched, `{entry name: what went wrong}` (a repository that does not exist, a revision that is gone, a Hub that
    does not answer). Those entries are left out of the returned zoo, except the teacher, which the demo cannot do
    without: a caller checks whether its name is among the problems.
    """
    from ..checkpoints import resolve_model_folder

    problems: dict[str, str] = {}

    def fetch(entry: ZooEntry) -> ZooEntry | None:
        if not zoo.is_hub_entry(entry):
            return entry
        at = f" at revision {entry.revision[:12]}" if entry.revision else ""
        try:
            folder = resolve_model_folder(entry.source, revision=entry.revision)
        except (OSError, ValueError) as err:
            problems[entry.name] = f"{entry.source}{at} could not be loaded from the Hub: {err}"
            log(f"zoo entry {entry.name}: {problems[entry.name]}")
            return None
        log(f"zoo entry {entry.name}: {entry.source}{at}")
        return replace(entry, source=str(folder))

    teacher = fetch(zoo.teacher) or zoo.teacher
    entries = [fetched for fetched in map(fetch, zoo.entries) if fetched is not None]
    return replace(zoo, teacher=teacher, entries=entries), problems


def write_zoo(folder: Path, zoo: Zoo) -> None:
    """Write `zoo.json` into a zoo folder whose entry folders are already there (sources relative to it)."""
    for entry in [zoo.teacher, *zoo.entries]:
        if not (folder / entry.source).is_dir() and not Path(entry.source).is_dir() and "/" not in entry.source:
            raise FileNotFoundError(f"zoo entry {entry.name!r} has no folder {folder / entry.source}")
    (folder / MANIFEST).write_text(json.dumps(zoo.to_dict(), indent=2), encoding="utf-8")
