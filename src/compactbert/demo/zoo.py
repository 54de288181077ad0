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
import datetime
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .families import STUDENT_FAMILIES, StudentFamily
from .manifest import (
    FINE_TUNED,
    MANIFEST,
    TEACHER,
    ZOO_FORMAT,
    Zoo,
    ZooEntry,
    write_zoo,
)

ENV_CACHE = "COMPACTBERT_DEMO_CACHE"  # folder under which the default zoo is built and cached

# --- the default zoo ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSettings:
    """How the default zoo is trained. Defaults fit the 10-minute budget on 2 cores with bf16 (see docs/demo.md).

    The recipe is the layer-drop study's `bbc-news` cell (lr 3e-4, batch 32, 1 epoch), at a shorter max length
    so that the teacher and six shrunk students train in the budget.

    `families` adds students made from the fine-tuned teacher, after it, with the same task, length, learning rate,
    epochs and seed, and the same batch but for the Albert-SOP's 16 (by `compactbert.distillation.recipe.distill`): `tiny_bert`, a TinyBert-4 (4 x 312,
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

    def family_methods(self) -> dict[str, dict[str, Any]]:
        """The recipe of each student family the settings name (`StudentFamily.method`), as the build records it."""
        return {family: dict(STUDENT_FAMILIES[family].method) for family in self.families}

    def key(self) -> str:
        """A short hash naming the cache folder, so changed settings build a new zoo instead of reusing an old one; so
        does a changed recipe of a student family the settings name (`STUDENT_FAMILIES[...].method`)."""
        text = json.dumps(
            asdict(self) | {"format": ZOO_FORMAT, "family_methods": self.family_methods()}, sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass
class BuildProgress:
    """How far a build of the default zoo has come, for the page and the API that answer while an app builds it:
    models finished of all the build makes (`total` is 0 until the build has planned them, and stays 0 while it
    waits for another process's build) and the one it is on."""

    done: int = 0
    total: int = 0
    current: str = ""


# the default zoo's first build from an empty cache, idle 2-core AMD EPYC with AVX512-BF16 (docs/demo.md): with the
# students of other families (docs/results/demo_build/results.json, 2026-12-05), and without them (2026-11-23)
FIRST_BUILD, FIRST_BUILD_WITHOUT_FAMILIES = "8 min 52 s", "4 min 36 s"


def build_time_note(settings: BuildSettings | None = None) -> str:
    """What building the default zoo involves and how long it took, for the page shown while an app builds it."""
    settings = settings or BuildSettings()
    others = "".join(f", then {STUDENT_FAMILIES[f].title}" for f in settings.families)
    took = FIRST_BUILD if others else f"{FIRST_BUILD_WITHOUT_FAMILIES} (without the students of other families)"
    return (
        f"a fine-tuned {settings.source} teacher and {len(settings.strategies)} compact students on {settings.task}"
        f"{others}. The first build of the default zoo took {took} on an idle 2-core machine with native bf16 units "
        "(docs/demo.md). A CPU without bf16 units, such as a basic CPU Space, is slower (not measured there)."
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


# a zoo's folder, its build's staging folder and the folders of its atomic writes (`io.write_folder_atomically`)
_ZOO_FOLDER = re.compile(r"^\.?(zoo-.+?)(\.staging|\.partial-.+|\.old-.+)?$")


def zoo_of(path: Path) -> str | None:
    """The zoo a folder of the demo cache belongs to (the zoo, its staging or atomic-write folders), else None."""
    match = _ZOO_FOLDER.match(path.name)
    return match.group(1) if match else None


def build_lock_path(folder: Path) -> Path:
    """The file whose lock a build of the zoo `folder` holds (`compactbert cache` takes it too)."""
    return folder.parent / f".{folder.name}.lock"


@contextlib.contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    """One build per zoo at a time: a second launch waits for the first and then reuses its zoo."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(build_lock_path(folder), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_default_zoo(
    cache_dir: str | os.PathLike | None = None,
    settings: BuildSettings | None = None,
    log: Callable[[str], None] = print,
    progress: BuildProgress | None = None,
) -> Path:
    """The default zoo's folder: reused when cached, built (once, all or nothing) when not; a build keeps `progress`
    up to date."""
    settings = settings or BuildSettings()
    folder = default_zoo_dir(cache_dir, settings)
    if (folder / MANIFEST).is_file():
        return folder
    with _build_lock(folder):
        if (folder / MANIFEST).is_file():  # built by another process while we waited
            return folder
        for stale in folder.parent.glob(f".{folder.name}.partial-*"):  # left by a killed build; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)  # (its finished models wait in the staging folder)
        build_default_zoo(folder, settings, log=log, progress=progress)
    return folder


def build_default_zoo(
    output: str | os.PathLike,
    settings: BuildSettings | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
    progress: BuildProgress | None = None,
) -> Path:
    """Fine-tune the teacher and one ShrunkBert per strategy on the task, then make the students of
    `settings.families` from the teacher, offline, into the zoo folder `output`.

    Every model is trained by `compactbert.finetune`, or from the teacher by `compactbert.distillation.recipe.distill`
    (Trainer, bf16 where native). The zoo folder appears only once
    everything is in it. Finished models wait in a staging folder next to it (`.<name>.staging`), so a build that
    was killed resumes with the models it had finished instead of starting over. `progress`, when given, says how
    many models are finished of how many, as they finish. Returns the folder.
    """
    from ..io import ZOO_FOLDER, write_folder_atomically

    settings = settings or BuildSettings()
    output = Path(output)
    staging = output.parent / f".{output.name}.staging"

    def write(tmp: Path) -> None:
        zoo = _train_into(staging, settings, log, progress or BuildProgress())
        for item in staging.iterdir():
            os.replace(item, tmp / item.name)
        write_zoo(tmp, zoo)

    if output.exists() and not overwrite:
        raise FileExistsError(f"zoo folder {output} already exists; pass overwrite=True to build it again")
    folder = write_folder_atomically(output, write, overwrite=overwrite, kind=ZOO_FOLDER)
    shutil.rmtree(staging, ignore_errors=True)
    return folder


def _train_into(folder: Path, settings: BuildSettings, log: Callable[[str], None], progress: BuildProgress) -> Zoo:
    """Train (or find, from an interrupted build) every model of the zoo in `folder`; returns the zoo to write."""
    from tqdm.auto import tqdm

    from ..data import load_task
    from ..data.builtin import default_calibration_texts
    from ..distillation.recipe import distill, parse_distill_recipe
    from ..finetune import MODEL_SUBDIR, finetune, parse_recipe
    from ..hardware import machine_description

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    plan = [(TEACHER, None)] + [(s, settings.num_drop) for s in settings.strategies]
    plan += [(family, None) for family in settings.families]  # made from the teacher, so after it
    progress.done, progress.total = 0, len(plan)
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
        progress.current = name
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
        progress.done += 1
    shutil.rmtree(folder / ".runs", ignore_errors=True)

    progress.current = "scoring the teacher's layers"
    log("  scoring the teacher's layers ([CLS] input/output cosine on 64 BBC News texts)")
    contributions = teacher_contributions(folder / "teacher", default_calibration_texts())
    dataset, label_names = load_task(settings.task, seed=settings.split_seed)
    assert teacher is not None
    total = round(time.perf_counter() - started, 1)
    progress.current = "loading the models"
    log(f"demo zoo ready in {total:.0f} s")
    return Zoo(
        root=folder,
        task=settings.task,
        label_names=list(label_names),
        teacher=teacher,
        entries=entries,
        contributions=contributions,
        examples=example_texts(
            dataset["test"], label_names, settings.num_examples, trained_on=dataset["train"]["text"]
        ),
        build={
            "settings": asdict(settings),
            "family_methods": settings.family_methods(),
            "seconds": total,
            "trained_seconds": seconds,
            "date": datetime.date.today().isoformat(),
            "machine": machine_description(),
        },
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


def _student_recipe(settings: BuildSettings, output_dir: Path, student: StudentFamily, zoo: Path) -> dict[str, Any]:
    """The distill recipe of a student of another family: the zoo's recipe, its fine-tuned teacher, the method."""
    fields = {k: v for k, v in _recipe(settings, output_dir, TEACHER, None).items() if k != "model"}
    return fields | {"teacher": str(zoo / "teacher")} | student.method_for(settings)


def teacher_contributions(folder: Path, texts: Sequence[str]) -> list[float]:
    """A zoo teacher's layer contribution scores ([CLS] input/output cosine per layer, bottom to top) on `texts`, as a
    zoo records them (6 decimals)."""
    from transformers import AutoModelForSequenceClassification

    from ..checkpoints import load_tokenizer
    from ..shrinking import layer_contributions

    model = AutoModelForSequenceClassification.from_pretrained(folder)
    tokenizer = load_tokenizer(folder)
    return [round(float(s), 6) for s in layer_contributions(model, tokenizer, texts, progress=False)]


def example_texts(
    split, label_names: Sequence[str], count: int, max_chars: int = 700, trained_on: Sequence[str] = ()
) -> list[dict[str, str]]:
    """`count` texts of a held-out split, cycling through the labels, cut at a sentence end near `max_chars`; a text
    that nearly repeats one of `trained_on` (`data.near_duplicates`: the same body under another headline) is left
    out, so that every example is one the models never saw."""
    from ..data import near_duplicates

    repeats = near_duplicates(split["text"], trained_on) if len(trained_on) else [False] * len(split["text"])
    by_label: dict[int, list[str]] = {}
    for text, label, repeat in zip(split["text"], split["label"], repeats, strict=True):
        if not repeat:
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
