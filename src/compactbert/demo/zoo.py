"""The demo's model zoo: a fine-tuned teacher and the compact models compared against it.

A zoo is a folder (or a manifest file) with `zoo.json`: the task's label names and example texts, the teacher's
layer contribution scores, and a list of entries. Each entry is a model folder inside the zoo or, for a zoo that
lives on the Hub, a Hub id. The demo only ever loads what a zoo lists: nothing from the page names a path.

The default zoo is built locally and offline from the embedded MiniLM-L6 and BBC News (`build_default_zoo`): a
fine-tuned teacher, for every drop strategy the pre-trained MiniLM with `num_drop` layers dropped and then
fine-tuned with the same recipe (as in the layer-drop study), and students of other families made from the
fine-tuned teacher (`BuildSettings.families`: a TinyBert-4 pruned out of it, a 3-layer student distilled from it, an
Albert-SOP converted from it).
It is cached under the user's cache folder and written all or nothing, so a killed build leaves no half zoo behind;
the next launch resumes from the models it had finished.

Other families (TinyBert, Albert-SOP, distilled students) join a zoo as entries of their own `family` and `kind`;
the demo lists whatever entries a zoo has.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

MANIFEST = "zoo.json"
ZOO_FORMAT = 1
ENV_CACHE = "COMPACTBERT_DEMO_CACHE"  # folder under which the default zoo is built and cached
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
    def from_dict(cls, data: dict[str, Any]) -> ZooEntry:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"zoo entry {data.get('name')!r} has unknown fields {unknown}; known: {sorted(known)}")
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
    data = json.loads(manifest.read_text(encoding="utf-8"))
    if data.get("format") != ZOO_FORMAT:
        raise ValueError(f"{manifest}: zoo format {data.get('format')!r} is not supported (expected {ZOO_FORMAT})")
    entries = [ZooEntry.from_dict(e) for e in data["entries"]]
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise ValueError(f"{manifest}: entry names must be unique, got {names}")
    return Zoo(
        root=manifest.parent,
        task=data["task"],
        label_names=list(data["label_names"]),
        teacher=ZooEntry.from_dict(data["teacher"]),
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


# --- the default zoo ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSettings:
    """How the default zoo is trained. Defaults fit the 10-minute budget on 2 cores with bf16 (see docs/demo.md).

    The recipe is the layer-drop study's `bbc-news` cell (lr 3e-4, batch 32, 1 epoch), at a shorter max length
    so that the teacher and six shrunk students train in the budget.

    `families` adds students made from the fine-tuned teacher, after it, with the same task, length, learning rate,
    batch, epochs and seed (by `compactbert.distillation.recipe.distill`): `tiny_bert`, a TinyBert-4 (4 x 312,
    FFN 1200, 12 heads) cut out of the teacher (`compactbert.prune`) and trained on the task labels; `distilled`,
    the teacher's every other layer (a ShrunkBert) distilled from it on its soft targets and the labels;
    `albert_sop`, an Albert-SOP converted from the teacher (`compactbert.albert_from_bert`: E = 128, one shared
    layer) and trained on the task labels.
    """

    source: str = "minilm"
    task: str = "bbc-news"
    strategies: tuple[str, ...] = ("top", "bottom", "even-alternate", "odd-alternate", "symmetric", "contribution")
    num_drop: int = 3
    max_length: int = 128
    num_train_epochs: float = 1.0
    learning_rate: float = 3e-4
    batch_size: int = 32
    seed: int = 0
    split_seed: int = 42
    max_train_samples: int | None = None  # only for quick builds (tests)
    max_eval_samples: int | None = None
    num_examples: int = 12  # test-split texts offered as examples on the page
    families: tuple[str, ...] = ("tiny_bert", "distilled", "albert_sop")  # other families (see STUDENT_FAMILIES)

    def __post_init__(self):
        unknown = [f for f in self.families if f not in STUDENT_FAMILIES]
        if unknown or len(set(self.families)) != len(self.families):
            raise ValueError(
                f"BuildSettings.families must name each of {', '.join(STUDENT_FAMILIES)} at most once, got "
                f"{list(self.families)}"
            )

    def key(self) -> str:
        """A short hash naming the cache folder, so changed settings build a new zoo instead of reusing an old one."""
        text = json.dumps(asdict(self) | {"format": ZOO_FORMAT}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def build_time_note(settings: BuildSettings | None = None) -> str:
    """What building the default zoo involves and how long it took, for the page shown while an app builds it."""
    settings = settings or BuildSettings()
    others = "".join(f", then {STUDENT_FAMILIES[f].title}" for f in settings.families)
    before = ", before the students of other families joined it; with them it is not timed yet" if others else ""
    return (
        f"a fine-tuned {settings.source} teacher and {len(settings.strategies)} compact students on {settings.task}"
        f"{others}. The first build of the default zoo took 4 min 36 s on an idle 2-core machine with native bf16 "
        f"units (docs/demo.md){before}. A CPU without bf16 units, such as a basic CPU Space, is slower (not measured "
        "there)."
    )


def default_cache_dir() -> Path:
    """`$COMPACTBERT_DEMO_CACHE`, else `$XDG_CACHE_HOME/compactbert/demo` (default `~/.cache/compactbert/demo`)."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "compactbert" / "demo"


def default_zoo_dir(cache_dir: str | os.PathLike | None = None, settings: BuildSettings | None = None) -> Path:
    settings = settings or BuildSettings()
    return Path(cache_dir or default_cache_dir()) / f"zoo-{settings.source}-{settings.task}-{settings.key()}"


@contextlib.contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    """One build per zoo at a time: a second launch waits for the first and then reuses its zoo."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_default_zoo(
    cache_dir: str | os.PathLike | None = None,
    settings: BuildSettings | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """The default zoo's folder: reused when cached, built (once, all or nothing) when not."""
    settings = settings or BuildSettings()
    folder = default_zoo_dir(cache_dir, settings)
    if (folder / MANIFEST).is_file():
        return folder
    with _build_lock(folder):
        if (folder / MANIFEST).is_file():  # built by another process while we waited
            return folder
        for stale in folder.parent.glob(f".{folder.name}.partial-*"):  # left by a killed build; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)  # (its finished models wait in the staging folder)
        build_default_zoo(folder, settings, log=log)
    return folder


def build_default_zoo(
    output: str | os.PathLike,
    settings: BuildSettings | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Fine-tune the teacher and one ShrunkBert per strategy on the task, then make the students of
    `settings.families` from the teacher, offline, into the zoo folder `output`.

    Every model is trained by `compactbert.finetune`, or from the teacher by `compactbert.distillation.recipe.distill`
    (Trainer, bf16 where native). The zoo folder appears only once
    everything is in it. Finished models wait in a staging folder next to it (`.<name>.staging`), so a build that
    was killed resumes with the models it had finished instead of starting over. Returns the folder.
    """
    from ..io import write_folder_atomically

    settings = settings or BuildSettings()
    output = Path(output)
    staging = output.parent / f".{output.name}.staging"

    def write(tmp: Path) -> None:
        zoo = _train_into(staging, settings, log)
        for item in staging.iterdir():
            os.replace(item, tmp / item.name)
        write_zoo(tmp, zoo)

    if output.exists() and not overwrite:
        raise FileExistsError(f"zoo folder {output} already exists; pass overwrite=True to build it again")
    folder = write_folder_atomically(output, write, overwrite=overwrite)
    shutil.rmtree(staging, ignore_errors=True)
    return folder


def _train_into(folder: Path, settings: BuildSettings, log: Callable[[str], None]) -> Zoo:
    """Train (or find, from an interrupted build) every model of the zoo in `folder`; returns the zoo to write."""
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ..data import load_task
    from ..data.builtin import default_calibration_texts
    from ..distillation.recipe import distill, parse_distill_recipe
    from ..finetune import MODEL_SUBDIR, finetune, parse_recipe
    from ..shrinking import layer_contributions

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    plan = [(TEACHER, None)] + [(s, settings.num_drop) for s in settings.strategies]
    plan += [(family, None) for family in settings.families]  # made from the teacher, so after it
    others = "".join(f", {STUDENT_FAMILIES[f].title}" for f in settings.families)
    log(
        f"building the demo zoo into {folder.parent}: a fine-tuned {settings.source} teacher and "
        f"{len(settings.strategies)} fine-tuned students{others} ({settings.task}, one model at a time; once, then "
        "cached)"
    )
    entries: list[ZooEntry] = []
    teacher: ZooEntry | None = None
    seconds: dict[str, float] = {}
    bar = tqdm(plan, desc="demo zoo", unit="model")
    for strategy, num_drop in bar:
        name = "teacher" if strategy == TEACHER else f"shrunk-{strategy}-{num_drop}"
        student = STUDENT_FAMILIES.get(strategy) if strategy in settings.families else None  # another family
        if student is not None:
            name = student.entry_name(teacher.num_layers)
        bar.set_postfix_str(name)
        step_started = time.perf_counter()
        if (folder / name / "metrics.json").is_file():  # finished by an earlier, interrupted build
            metrics = json.loads((folder / name / "metrics.json").read_text())
            log(f"  {name}: reused from the interrupted build")
        else:
            run = folder / ".runs" / name
            if student is not None:  # from the zoo's fine-tuned teacher
                metrics = distill(*parse_distill_recipe(None, _student_recipe(settings, run, student, folder)))
            else:
                metrics = finetune(*parse_recipe(None, _recipe(settings, run, strategy, num_drop)))
            os.replace(run / MODEL_SUBDIR, folder / name)
            shutil.rmtree(run, ignore_errors=True)
            seconds[name] = round(time.perf_counter() - step_started, 1)
        test_accuracy = round(float(metrics["test"]["accuracy"]), 4)
        log(f"  {name}: test accuracy {test_accuracy:.3f} ({time.perf_counter() - step_started:.0f} s)")
        entry = ZooEntry(
            name=name,
            source=name,
            family="bert" if strategy == TEACHER else "shrunk_bert",
            kind=TEACHER if strategy == TEACHER else FINE_TUNED,
            description=(
                f"{settings.source} fine-tuned on {settings.task}"
                if strategy == TEACHER
                else f"{settings.source} minus {num_drop} layers ({strategy}), then fine-tuned on {settings.task}"
            ),
            strategy=None if strategy == TEACHER else strategy,
            num_drop=num_drop,
            kept_layers=metrics["kept_layers"],
            num_parameters=int(metrics["num_parameters"]),
            num_layers=int(metrics["num_hidden_layers"]),
            metrics={"test_accuracy": test_accuracy},
        )
        if student is not None:
            entry = student.entry(name, settings, metrics, test_accuracy)
        if strategy == TEACHER:
            teacher = entry
        else:
            entries.append(entry)
    shutil.rmtree(folder / ".runs", ignore_errors=True)

    log("  scoring the teacher's layers ([CLS] input/output cosine on 64 BBC News texts)")
    model = AutoModelForSequenceClassification.from_pretrained(folder / "teacher")
    tokenizer = AutoTokenizer.from_pretrained(folder / "teacher")
    contributions = layer_contributions(model, tokenizer, default_calibration_texts(), progress=False)
    dataset, label_names = load_task(settings.task, seed=settings.split_seed)
    assert teacher is not None
    total = round(time.perf_counter() - started, 1)
    log(f"demo zoo ready in {total:.0f} s")
    return Zoo(
        root=folder,
        task=settings.task,
        label_names=list(label_names),
        teacher=teacher,
        entries=entries,
        contributions=[round(float(s), 6) for s in contributions],
        examples=example_texts(dataset["test"], label_names, settings.num_examples),
        build={"settings": asdict(settings), "seconds": total, "trained_seconds": seconds},
    )


def _recipe(settings: BuildSettings, output_dir: Path, strategy: str, num_drop: int | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "model": settings.source,
        "task": settings.task,
        "split_seed": settings.split_seed,
        "max_length": settings.max_length,
        "output_dir": str(output_dir),
        "num_train_epochs": settings.num_train_epochs,
        "learning_rate": settings.learning_rate,
        "per_device_train_batch_size": settings.batch_size,
        "per_device_eval_batch_size": 128,
        "warmup_steps": 0.1,
        "weight_decay": 0.01,
        "eval_strategy": "no",
        "save_strategy": "no",
        "logging_strategy": "no",
        "report_to": "none",
        "seed": settings.seed,
    }
    if strategy != TEACHER:
        fields |= {"shrink_strategy": strategy, "shrink_drop": num_drop}
    if settings.max_train_samples:
        fields["max_train_samples"] = settings.max_train_samples
    if settings.max_eval_samples:
        fields["max_eval_samples"] = settings.max_eval_samples
    return fields


@dataclass(frozen=True)
class StudentFamily:
    """A student of another family that the default zoo makes from its fine-tuned teacher, with `distill`.

    Args:
        title: what the build's log calls it.
        family, kind: its zoo entry's (`ZooEntry.family`, `ZooEntry.kind`).
        method: distill recipe fields over the zoo's recipe (`_recipe`: task, length, learning rate, batch, epochs,
            seed, sample limits).
        about: its entry's description, formatted with `source`, `task`, `epochs`, `kept` (the teacher layers),
            `layers` (the teacher's) and the keys of `method`.
    """

    title: str
    family: str
    kind: str
    method: dict[str, Any]
    about: str

    def entry_name(self, teacher_layers: int) -> str:
        if self.method["student_init"] == "pruned":
            return f"tinybert-{self.method['tiny_bert_layers']}-pruned"
        if self.method["student_init"] == "albert":
            return f"albert-sop-e{self.method['albert_embedding_size']}-share-{self.method['albert_sharing']}"
        return f"distilled-{len(range(0, teacher_layers, 2))}"  # every other layer: 0, 2, 4, ...

    def entry(self, name: str, settings: BuildSettings, metrics: dict[str, Any], test_accuracy: float) -> ZooEntry:
        kept = metrics["kept_layers"]
        about = self.about.format(
            **self.method,
            source=settings.source,
            task=settings.task,
            epochs=settings.num_train_epochs,
            kept=kept,
            layers=int(metrics["num_hidden_layers"]),
        )
        return ZooEntry(
            name=name,
            source=name,
            family=self.family,
            kind=self.kind,
            description=about,
            kept_layers=kept,
            num_parameters=int(metrics["num_parameters"]),
            num_layers=int(metrics["num_hidden_layers"]),
            metrics={"test_accuracy": test_accuracy},
        )


# `BuildSettings.families`: the default zoo's students of other families, made after (and from) its teacher
STUDENT_FAMILIES = {
    # TinyBERT-4's shape cut out of the teacher (compactbert.prune), then trained on the task labels alone: the
    # cheapest training after pruning, for the first-build budget (the zoo recipe configs/minilm-tinybert4-bbc-news.yaml
    # uses TinyBERT's two stages, which won docs/results/pruning by about a point at twice the training)
    "tiny_bert": StudentFamily(
        title="a TinyBert-4 pruned from the teacher",
        family="tiny_bert",
        kind=PRUNED,
        method={
            "student_init": "pruned",
            "tiny_bert_layers": 4,
            "tiny_bert_hidden_size": 312,
            "tiny_bert_intermediate_size": 1200,
            "tiny_bert_heads": 12,
            "prune_layers": "even-alternate",
            "prune_calibration_size": 1024,
            "stage": "prediction",
            "alpha_ce": 0.0,
            "alpha_label": 1.0,
        },
        about="TinyBert-4 (4 layers x 312, FFN 1200) cut out of the fine-tuned teacher (its layers {kept}), then "
        "trained {epochs:g} epoch(s) on the {task} labels",
    ),
    # DistilBERT-style: the teacher's layers 0, 2, 4 on its soft targets and the labels (the distillation study's
    # bbc-news distil3-kd cell, configs/distill/bbc-news-minilm-3layer.yaml)
    "distilled": StudentFamily(
        title="a student distilled from the teacher's every other layer",
        family="shrunk_bert",
        kind=DISTILLED,
        method={
            "student_init": "every-other",
            "stage": "prediction",
            "alpha_ce": 1.0,
            "alpha_label": 1.0,
            "temperature": 2.0,
        },
        about="the fine-tuned teacher's layers {kept}, distilled from it {epochs:g} epoch(s) on {task} (soft targets "
        "+ labels)",
    ),
    # an all-shared Albert-SOP converted from the teacher (compactbert.albert_from_bert: E = 128 by frequency-weighted
    # SVD, one layer started as the teacher's middle layer and applied as often as it has layers), then trained on the
    # task labels alone: the cheapest training after conversion, for the first-build budget (the zoo recipe
    # configs/albert-sop-small-bbc-news.yaml distils with TinyBERT's two stages instead). Sharing saves parameters,
    # not time: it runs as many layers as the teacher
    "albert_sop": StudentFamily(
        title="an Albert-SOP converted from the teacher",
        family="albert_sop",
        kind=CONVERTED,
        method={
            "student_init": "albert",
            "albert_embedding_size": 128,
            "albert_sharing": "all",
            "albert_init": "middle",
            "albert_frequency_weighting": True,
            "stage": "prediction",
            "alpha_ce": 0.0,
            "alpha_label": 1.0,
        },
        about="Albert-SOP converted from the fine-tuned teacher: word embeddings factorised to E = "
        "{albert_embedding_size} by frequency-weighted SVD, layers sharing `{albert_sharing}` (shared weights started "
        "as the {albert_init} of the teacher's {layers} layers), then trained {epochs:g} epoch(s) on the {task} labels",
    ),
}


def _student_recipe(settings: BuildSettings, output_dir: Path, student: StudentFamily, zoo: Path) -> dict[str, Any]:
    """The distill recipe of a student of another family: the zoo's recipe, its fine-tuned teacher, the method."""
    fields = {k: v for k, v in _recipe(settings, output_dir, TEACHER, None).items() if k != "model"}
    fields |= {"teacher": str(zoo / "teacher")} | student.method
    if "prune_calibration_size" in fields and settings.max_train_samples:  # a quick build: its own training texts
        fields["prune_calibration_size"] = min(fields["prune_calibration_size"], settings.max_train_samples)
    return fields


def example_texts(split, label_names: Sequence[str], count: int, max_chars: int = 700) -> list[dict[str, str]]:
    """`count` texts of a held-out split, cycling through the labels, cut at a sentence end near `max_chars`."""
    by_label: dict[int, list[str]] = {}
    for text, label in zip(split["text"], split["label"], strict=True):
        by_label.setdefault(int(label), []).append(text)
    picked: list[dict[str, str]] = []
    round_ = 0
    while len(picked) < count and any(round_ < len(v) for v in by_label.values()):
        for label in sorted(by_label):
            if round_ < len(by_label[label]) and len(picked) < count:
                picked.append({"text": _shorten(by_label[label][round_], max_chars), "label": label_names[label]})
        round_ += 1
    return picked


def _shorten(text: str, max_chars: int) -> str:
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text.rfind(". ", 0, max_chars)
    return text[: cut + 1] if cut > max_chars // 3 else text[:max_chars].rsplit(" ", 1)[0] + " ..."
