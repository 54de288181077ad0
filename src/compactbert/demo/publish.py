"""`compactbert publish ZOO --org ORG`: every model of a zoo to the Hub, then the Space that loads them.

Each entry of the zoo (the teacher first) goes to `ORG/<prefix><entry name>` in one commit (weights, card, the
card's plots, the remote code) through `compactbert.hub.push.push`, which checks the folder first and leaves no
half-made repository behind. The card is rendered again for the repository (so it names `ORG/<name>`, not the
folder it was built in). Then the Space gets its files (`compactbert.demo.space`): `zoo.json` naming those
repositories at the commits just pushed or found, the app, a card, `requirements.txt` and a wheel of compactbert.

Resumable: a repository that already holds every file as it is here (same git blob id, or same sha256 for files
stored with LFS, as the Hub's file listing reports them) is skipped, and the run says so. A failure stops the run
where it happened, keeps what was pushed, and says what is left and the command that finishes it (the same command:
what is done is skipped). The token is never printed, logged or put in a message.

Every model passes the quality gate (`compactbert.hub.push.gate_folder`) before anything is built or sent, and every
student also keeps at least `min_retention` (default 95%) of the zoo's teacher's test accuracy: a zoo with a model that
has not learned its task, or that lost too much of its teacher's accuracy, is refused whole, naming each such entry and
why; `force=True` (`--force`) publishes it anyway, its card saying that the gate was overridden and why.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..hub.gate import DEFAULT_MIN_RETENTION, GateVerdict, QualityGateError, other_test_texts, recorded_accuracy
from ..hub.push import PushError, authenticated_api, gate_folder, plan_push, push, scrub_token
from ..hub.remote import remote_differences
from ..hub.validate import check_folder, upload_files
from ..records import read_metrics, same_recorded_task
from .manifest import Zoo, ZooEntry, load_zoo

DEFAULT_SPACE_NAME = "compactbert-demo"
DEFAULT_ZOO = "default"  # ZOO naming the demo's default zoo (built by `compactbert demo --build-only`)
PUSHED, UNCHANGED, FAILED, WAITING = "pushed", "unchanged", "failed", "waiting"


class PublishError(PushError):
    """Publishing stopped part way: the message says what was published, what is left, and how to finish."""


@dataclass
class Target:
    """One repository of a publish run: a zoo entry's model repository, or the Space."""

    name: str  # the zoo entry's name, or "Space"
    repo_id: str
    repo_type: str  # "model" or "space"
    folder: Path | None = None  # what is uploaded (staged: the entry's files with its card for this repository)
    status: str = WAITING
    revision: str | None = None  # the commit the repository holds these files at
    detail: str = ""
    # a student's retention floor and reference: (min_retention, (the teacher's test accuracy, what it is))
    retention: tuple[float, tuple[float, str]] | None = None
    other_texts: str | None = None  # why its test accuracy is not on the teacher's texts (its retention is unknown)
    verdict: GateVerdict | None = None  # the quality gate's, on a model (set by `plan_publish`)

    def describe(self) -> str:
        what = f"{self.repo_id}" if self.repo_type == "model" else f"Space {self.repo_id}"
        if self.status == PUSHED:
            return f"{what}: pushed ({self.detail}, commit {self.revision[:12]})"
        if self.status == UNCHANGED:
            return f"{what}: unchanged, it already holds these {self.detail} (skipped, commit {self.revision[:12]})"
        return f"{what}: {self.status}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class PublishPlan:
    """What a publish run does: where each model of the zoo goes, and the Space."""

    zoo: Zoo
    zoo_path: Path
    org: str
    space: Target
    models: list[Target]
    prefix: str = ""
    private: bool = False
    wheel: Path | None = None
    space_given: bool = False
    torch_index_url: str | None = None
    force: bool = False  # publish models the quality gate refuses (their cards say so)
    min_retention: float = DEFAULT_MIN_RETENTION

    @property
    def targets(self) -> list[Target]:
        return [*self.models, self.space]

    def command(self) -> str:
        """The `compactbert publish` command line of this plan (what finishes a run that stopped part way)."""
        args = ["compactbert", "publish", str(self.zoo_path), "--org", self.org]
        if self.space_given:
            args += ["--space", self.space.repo_id]
        if self.prefix:
            args += ["--prefix", self.prefix]
        if self.private:
            args.append("--private")
        if self.wheel is not None:
            args += ["--wheel", str(self.wheel)]
        if self.torch_index_url:
            args += ["--torch-index-url", self.torch_index_url]
        if self.force:
            args.append("--force")
        if self.min_retention != DEFAULT_MIN_RETENTION:
            args += ["--min-retention", f"{self.min_retention:g}"]
        return shlex.join(args)

    def describe(self) -> str:
        lines = [f"would publish the zoo {self.zoo_path} ({len(self.models)} models) and its Space:"]
        width = max(len(t.name) for t in self.targets)
        for target in self.models:
            files = upload_files(target.folder)
            size = sum((target.folder / f).stat().st_size for f in files)
            lines.append(f"  {target.name:{width}} -> {target.repo_id} ({len(files)} files, {size:,} bytes)")
        wheel = self.wheel.name if self.wheel else "a wheel of compactbert built from this checkout"
        lines.append(
            f"  {'Space':{width}} -> {self.space.repo_id} (app.py, README.md, requirements.txt, zoo.json naming the "
            f"repositories above, {wheel})"
        )
        lines.append("repositories that already hold these files are skipped" + (", private" if self.private else ""))
        lines += self.gate_lines()
        return "\n".join(lines)  # the warnings are said apart, on stderr (`warnings`)

    def gate_lines(self) -> list[str]:
        """The quality gate's verdict on the zoo: how many models pass and the lowest retention of a teacher's
        accuracy; with `--force`, each refused model and why (their cards say so too)."""
        judged = [t for t in self.models if t.verdict is not None]
        if not judged:
            return []
        passed = [t for t in judged if t.verdict.passed]
        line = f"quality gate: {len(passed)} of {len(judged)} models pass"
        kept = [t for t in passed if t.verdict.retention is not None and t.verdict.min_retention is not None]
        if kept:
            low = min(kept, key=lambda t: (t.verdict.retention, t.name))
            v = low.verdict
            line += (
                f" (lowest retention: {low.name} keeps {100 * v.retention:.1f}% of {100 * v.reference_accuracy:.1f}%, "
                f"{v.reference}; min_retention {100 * v.min_retention:.1f}%)"
            )
        elif passed and self.min_retention == 0:
            line += " (--min-retention 0: only the margin over the majority class is checked)"
        refused = [t for t in judged if not t.verdict.passed]
        if not refused:
            return [line]
        return [
            f"{line}; --force publishes the {len(refused)} it refuses, their cards saying so, and why:",
            *(f"  {t.name}: {'; and '.join(t.verdict.failures)}" for t in refused),
        ]

    def warnings(self) -> list[str]:
        """What the publisher should know before the Space builds: without `--torch-index-url`, the torch it gets;
        with `--private`, what a private Space needs."""
        found = []
        if not self.torch_index_url:
            found.append(
                "no --torch-index-url: the Space will install torch from the default package index, which on Linux is "
                "the CUDA build (gigabytes of CUDA packages, slow to build); pass --torch-index-url URL, the package "
                "index of torch's CPU build, to install that one instead"
            )
        if self.private:
            found.append(PRIVATE_SPACE)
        return found


PRIVATE_SPACE = (
    "the Space is private: its requirements.txt names the compactbert wheel by the Space's own URL, which a private "
    "repository does not serve without a token (whether the Spaces build sends one was not checked), and its app "
    "needs a read token (the Space secret HF_TOKEN) to load private models; a public Space builds as it is"
)


@dataclass
class PublishResult:
    plan: PublishPlan
    space_url: str
    notes: list[str] = field(default_factory=list)


def plan_publish(
    zoo: str | os.PathLike,
    org: str,
    space: str | None = None,
    prefix: str = "",
    private: bool = False,
    wheel: str | os.PathLike | None = None,
    torch_index_url: str | None = None,
    force: bool = False,
    min_retention: float = DEFAULT_MIN_RETENTION,
) -> PublishPlan:
    """Check the zoo, the names and the models' quality, and say where everything goes. Raises `ValueError` (what is
    wrong, and how to fix it; `QualityGateError` for models that have not learned their task or keep less than
    `min_retention` of the teacher's test accuracy, unless `force`) before anything is staged or sent."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if os.fspath(zoo) == DEFAULT_ZOO:
        from .manifest import MANIFEST
        from .zoo import default_zoo_dir

        zoo = default_zoo_dir()
        if not (zoo / MANIFEST).is_file():
            raise FileNotFoundError(
                f"the default zoo is not built yet (no {zoo / MANIFEST}): build it once with "
                "`compactbert demo --build-only` (minutes of fine-tuning), then publish it"
            )
    if not 0 <= min_retention <= 1:
        raise ValueError(
            f"--min-retention must be a share between 0 and 1 (0.95: 95% of the teacher), got {min_retention}"
        )
    zoo_path = Path(zoo).resolve()
    loaded = load_zoo(zoo_path)
    if not org or "/" in org:
        raise ValueError(f"--org must be a user or organization name such as my-org, got {org!r}")
    space_id = space or f"{org}/{DEFAULT_SPACE_NAME}"
    models = []
    for entry in [loaded.teacher, *loaded.entries]:
        folder = _entry_folder(loaded, entry)
        models.append(Target(entry.name, f"{org}/{prefix}{entry.name}", "model", folder))
    named = {
        t.repo_id: f"--org, --prefix and the zoo's name for it ({t.name!r}, its entry in zoo.json)" for t in models
    }
    for repo_id in [t.repo_id for t in models] + [space_id]:
        try:
            validate_repo_id(repo_id)
        except HFValidationError as err:
            made_of = named.get(repo_id, "--space" if space else "--org")
            raise ValueError(f"'{repo_id}' is not a valid repo id ({err}); it is made of {made_of}") from None
        if repo_id.count("/") != 1:
            raise ValueError(f"'{repo_id}' is not namespace/name; check --org, --prefix and --space")
    if torch_index_url is not None:
        from .space import check_torch_index_url

        check_torch_index_url(torch_index_url)
    if wheel is not None:
        from .space import check_wheel

        check_wheel(wheel)
    reference = _teacher_accuracy(models[0])
    if reference is not None and min_retention > 0:
        teacher = models[0].folder
        for target in models[1:]:
            target.retention = (min_retention, reference)
            target.other_texts = other_test_texts(
                read_metrics(target.folder),
                read_metrics(teacher),
                lambda task, teacher_task, model=target.folder: same_recorded_task(task, model, teacher_task, teacher),
            )
    _check_quality(models, force)
    return PublishPlan(
        zoo=loaded,
        zoo_path=zoo_path,
        org=org,
        space=Target("Space", space_id, "space"),
        models=models,
        prefix=prefix,
        private=private,
        wheel=Path(wheel).resolve() if wheel is not None else None,
        space_given=space is not None,
        torch_index_url=torch_index_url,
        force=force,
        min_retention=min_retention,
    )


def _teacher_accuracy(teacher: Target) -> tuple[float, str] | None:
    """The zoo's teacher's test accuracy, as its `metrics.json` records it, and what it is (None when it has none:
    the gate then refuses the teacher itself)."""
    metrics = teacher.folder / "metrics.json"
    accuracy = recorded_accuracy(json.loads(metrics.read_text(encoding="utf-8"))) if metrics.is_file() else None
    return (
        None
        if accuracy is None
        else (accuracy, "the zoo's teacher" if teacher.name == "teacher" else f"the zoo's teacher, {teacher.name}")
    )


def _check_quality(models: list[Target], force: bool) -> None:
    """The quality gate on every model of the zoo, before anything is sent: each target's `verdict`, and all
    refusals in one error."""
    refused = []
    for target in models:
        # the verdict, without raising
        verdict = gate_folder(target.folder, force=True, retention=target.retention, other_texts=target.other_texts)[0]
        target.verdict = verdict
        if not verdict.passed:
            refused.append((target.name, "; and ".join(verdict.failures)))
    if refused and not force:
        lines = "\n".join(f"  {name}: {why}" for name, why in refused)
        raise QualityGateError(
            f"the quality gate refuses to publish {len(refused)} of the zoo's {len(models)} models:\n{lines}\n"
            "Nothing was sent. Evaluate them on their test split or rebuild them with a better recipe, leave them out "
            "of the zoo, lower --min-retention (the share of the teacher's test accuracy a student must keep), or "
            "pass --force to "
            "publish them anyway: their cards then say that the quality gate was overridden, and why"
        )


def _entry_folder(zoo: Zoo, entry: ZooEntry) -> Path:
    try:
        source = zoo.resolve(entry)
    except FileNotFoundError as err:
        raise ValueError(str(err)) from None
    if not Path(source).is_dir():
        raise ValueError(
            f"zoo entry {entry.name!r} is the Hub id {entry.source}, not a folder: publish a zoo whose models were "
            "built here (e.g. `compactbert demo --build-only` prints where the default zoo is)"
        )
    return Path(source)


def stage(plan: PublishPlan, staging: Path) -> None:
    """Give each model target a folder to upload: links to the entry's files, and its card rendered for the
    repository it goes to. Raises `ValueError` when a folder is not ready to push."""
    from ..hub.card import render_card_for_repo

    for target in plan.models:
        source = target.folder
        folder = staging / "models" / target.name
        for rel in upload_files(source):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink((source / rel).resolve(), folder / rel)
        (folder / "README.md").unlink(missing_ok=True)
        (folder / "README.md").write_text(render_card_for_repo(source, target.repo_id), encoding="utf-8")
        if plan.force:  # the card and metrics.json that say the gate was overridden, as push would upload them
            gated = gate_folder(folder, force=True, retention=target.retention, other_texts=target.other_texts)
            for name, content in gated[2].items():
                (folder / name).unlink(missing_ok=True)
                (folder / name).write_bytes(content)
        check_folder(folder)
        target.folder = folder


def publish(
    zoo: str | os.PathLike,
    org: str,
    space: str | None = None,
    prefix: str = "",
    private: bool = False,
    wheel: str | os.PathLike | None = None,
    token: str | None = None,
    torch_index_url: str | None = None,
    log: Callable[[str], None] = print,
    force: bool = False,
    min_retention: float = DEFAULT_MIN_RETENTION,
    warn: Callable[[str], None] | None = None,
) -> PublishResult:
    """Publish every model of `zoo` to `org` and the Space that loads them (see the module's docstring).

    Args:
        zoo: a zoo folder (with `zoo.json`) or its manifest, whose entries are folders; `"default"`: the demo's
            default zoo, once built (`compactbert demo --build-only`).
        org: the user or organization the repositories go to: `org/<prefix><entry name>`.
        space: the Space's `owner/name` (default `org/compactbert-demo`).
        prefix: put before each entry's name in its repository name (e.g. `minilm-bbc-news-`).
        private: create the repositories and the Space private (existing ones keep their visibility).
        wheel: a built wheel of compactbert for the Space; default: built from the source checkout.
        token: default: from the usual huggingface_hub places (`HF_TOKEN`, `hf auth login`).
        torch_index_url: the package index of torch's CPU build, written into the Space's requirements as an
            `--extra-index-url` (without it the Space installs the pinned torch from its default index).
        force: publish models that the quality gate refuses; their cards say that the gate was overridden, and why.
        min_retention: the least share of the teacher's test accuracy each other model must keep (default 0.95;
            0 checks only the margin over the majority class). A model whose build recorded a retention floor of its
            own is held to that one.
        warn: says the plan's warnings (`PublishPlan.warnings`, each as `warning: ...`) before anything is sent;
            default: printed to stderr.

    Raises:
        ValueError: the zoo or the names are not right, a model fails the quality gate or keeps less than
            `min_retention` of the teacher (`QualityGateError`, unless `force`), or no token was found; nothing was
            sent.
        PublishError: the Hub refused or failed part way; the message lists what is done and what is left, and the
            command that finishes the job.
    """
    from huggingface_hub import constants

    plan = plan_publish(zoo, org, space, prefix, private, wheel, torch_index_url, force, min_retention)
    api = authenticated_api(token)
    token = api.token  # the one found, for scrubbing messages too
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="compactbert-publish-") as tmp:
        staging = Path(tmp)
        stage(plan, staging)
        wheel_path = plan.wheel
        if wheel_path is None:
            from .space import build_wheel

            wheel_path = build_wheel(staging / "wheel")  # before anything is sent: a failed build sends nothing
            log(f"built {wheel_path.name} for the Space")
        log(f"publishing {len(plan.models)} models to {org} and the Space {plan.space.repo_id}")
        for line in plan.gate_lines():
            log(line)
        for warning in plan.warnings():
            (warn or _to_stderr)(f"warning: {warning}")
        for target in plan.models:
            _publish_target(api, plan, target, token, notes, log)
        from .space import write_space

        manifest = published_manifest(plan)
        plan.space.folder = write_space(
            staging / "space", manifest, wheel_path, plan.space.repo_id, constants.ENDPOINT, plan.torch_index_url
        )
        _publish_target(api, plan, plan.space, token, notes, log)
    if private:
        notes.append(PRIVATE_SPACE)  # said before sending too (a warning of the plan); again where the run ends
    return PublishResult(plan, f"{constants.ENDPOINT.rstrip('/')}/spaces/{plan.space.repo_id}", notes)


def published_manifest(plan: PublishPlan) -> dict:
    """The Space's `zoo.json`: the zoo with each entry's source the Hub id it was published to, at its commit."""
    by_name = {t.name: t for t in plan.models}

    def hub(entry: ZooEntry) -> ZooEntry:
        target = by_name[entry.name]
        return replace(entry, source=target.repo_id, revision=target.revision)

    zoo = replace(plan.zoo, teacher=hub(plan.zoo.teacher), entries=[hub(e) for e in plan.zoo.entries])
    return zoo.to_dict()


def _publish_target(api, plan: PublishPlan, target: Target, token: str, notes: list[str], log) -> None:
    from .. import __version__

    try:
        # compared as it would go up: the card rendered for the repository, the records without this machine's paths
        planned = plan_push(target.folder, target.repo_id, target.repo_type, private=plan.private, force=plan.force)
        head, differ = remote_differences(api, target.repo_id, target.repo_type, target.folder, planned.replaced)
        count = len(upload_files(target.folder))
        if head is not None and not differ:
            target.status, target.revision, target.detail = UNCHANGED, head, f"{count} files"
        else:
            what = "the Space" if target.repo_type == "space" else f"zoo entry {target.name}"
            result = push(
                target.folder,
                target.repo_id,
                repo_type=target.repo_type,
                private=plan.private,
                commit_message=f"Publish {what} with compactbert {__version__}",
                token=token,
                force=plan.force,
                plan=planned,
            )
            notes.extend(result.notes)
            target.revision = api.repo_info(target.repo_id, repo_type=target.repo_type).sha
            changed = f"{len(differ)} of {count} files new or changed" if head is not None else f"{count} files"
            target.status, target.detail = PUSHED, changed
    except Exception as err:  # the Hub refused or failed: stop here, keep what is done, say how to finish
        target.status = FAILED
        raise PublishError(scrub_token(_stopped(plan, target, _reason(err)), token)) from None
    log(f"  {target.describe()}")


def _reason(err: Exception) -> str:
    """What went wrong, in a line: push's own explanation, or the Hub's answer, or that it could not be reached."""
    if isinstance(err, (PushError, ValueError)):
        return str(err)
    response = getattr(err, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        return f"the Hub answered HTTP {status} ({str(err).splitlines()[0]})"
    return f"the Hub could not be reached or did not answer ({type(err).__name__}: {err})"


def _stopped(plan: PublishPlan, failed: Target, err: str) -> str:
    done = [t.describe() for t in plan.targets if t.status in (PUSHED, UNCHANGED)]
    left = [
        t.repo_id if t.repo_type == "model" else f"the Space {t.repo_id}"
        for t in plan.targets
        if t.status not in (PUSHED, UNCHANGED)
    ]
    lines = [f"publishing stopped at {failed.repo_id} ({failed.repo_type} repository): {err}"]
    lines.append("done: " + ("; ".join(done) if done else "nothing"))
    lines.append("left: " + ", ".join(left))
    lines.append(
        "Each repository gets one commit, all or nothing, so none is half made. To finish, run the same command "
        "again (repositories that already hold these files are skipped):"
    )
    lines.append(f"  {plan.command()}")
    return "\n".join(lines)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)
