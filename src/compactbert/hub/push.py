"""`compactbert push`: publish a model folder (or the Space) as one commit.

The folder is checked first (`validate.check_folder`: safetensors weights, a config whose `auto_map` names remote
code that is there, a tokenizer, a card that passes the validator), so nothing incomplete reaches the Hub, and a
model folder passes the quality gate (`compactbert.hub.gate`: its test accuracy clearly above the majority class of
the test split, and the `min_retention` its build recorded; a folder with no test accuracy is refused too), unless
`force=True`; a forced push uploads the card with a note that the gate was overridden and why, and `metrics.json` with
the verdict (the local files stay as they are). The records (`config.json`, `metrics.json`, an export's
`export.json`) go up with this machine's paths named by their run (`compactbert.hub.public`). A model's card goes up rendered for the repository
(`card.render_card_for_repo`: its title and usage examples name `repo_id`, not the local folder), unless it was
edited since compactbert wrote it: a card of the user's own goes up as it is. Then
the repository is created if needed, and every file goes up in **one** `HfApi.create_commit`: the Hub applies a
commit all or nothing, so a failure mid-upload leaves an existing repository as it was. A repository this push
created is deleted again when the commit fails, so no half-made repository is left behind.

The token comes from where `huggingface_hub` looks (`HF_TOKEN`, the token file written by `hf auth login`, ...);
it is never printed, logged, or put in an error message.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..io import file_size, write_folder_atomically
from .gate import (
    GateVerdict,
    QualityGate,
    QualityGateError,
    add_override_note,
    cannot_check,
    check_metrics,
    majority_class,
    recorded_accuracy,
    recorded_majority,
    settings_from_record,
)
from .public import public_files, public_record
from .validate import card_metadata, check_folder, upload_files

REPO_TYPES = ("model", "space")


class PushError(RuntimeError):
    """The Hub refused or failed a push; the message says what happened and what state things are left in."""


def check_save_to(output: str | os.PathLike, folder: str | os.PathLike) -> None:
    """Refuse a `--save-to` folder that is empty, already exists or lies inside the folder to push, before anything
    is planned."""
    if not os.fspath(output).strip():
        raise ValueError("--save-to needs a folder name")
    where = Path(output).expanduser().resolve()
    if where == Path(folder).resolve() or where.is_relative_to(Path(folder).resolve()):
        raise ValueError(f"--save-to {output} is inside the folder to push, {folder}: name another folder")
    if where.exists():
        raise ValueError(f"--save-to {output} already exists: name a new folder (nothing is written over)")


@dataclass
class PushPlan:
    """What a push uploads, and where."""

    folder: Path
    repo_id: str
    repo_type: str
    files: list[tuple[str, int]]  # (path in repo, size in bytes)
    revision: str | None = None
    private: bool = False
    create_pr: bool = False
    space_sdk: str | None = None
    gate: GateVerdict | None = None  # None: nothing to check (a Space)
    gate_line: str | None = None  # the quality gate's verdict in one line
    replaced: dict[str, bytes] = field(default_factory=dict)  # files uploaded with other content than the local one
    card_for_repo: bool = False  # README.md goes up rendered for `repo_id` (its title and usage examples)
    card_edited: bool = False  # README.md was edited since compactbert wrote it (or not written by it): as it is
    renamed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # record -> (local path, Hub name)
    overridden: list[str] = field(default_factory=list)  # files that go up with the gate's override recorded

    def save(self, output: str | os.PathLike) -> Path:
        """Write the files as they would go up into a new folder `output` (the card rendered for the repository, the
        records without this machine's paths), to read before publishing; all or nothing."""
        check_save_to(output, self.folder)

        def write(tmp: Path) -> None:
            for path, _ in self.files:
                (tmp / path).parent.mkdir(parents=True, exist_ok=True)
                if path in self.replaced:
                    (tmp / path).write_bytes(self.replaced[path])
                else:
                    shutil.copyfile(self.folder / path, tmp / path)

        return write_folder_atomically(output, write)

    def describe(self) -> str:
        where = f"{self.repo_type} repository {self.repo_id}" + (f" (branch {self.revision})" if self.revision else "")
        what = "a pull request" if self.create_pr else "one commit"
        lines = [f"would upload {len(self.files)} files from {self.folder} to the {where} as {what}:"]
        lines += [f"  {path:50} {file_size(size):>10}" for path, size in self.files]
        lines.append(f"total {file_size(sum(size for _, size in self.files))}" + (", private" if self.private else ""))
        if self.gate_line:
            lines.append(f"quality gate: {self.gate_line}")
        if self.card_for_repo:
            lines.append(
                f"  README.md (the card) goes up rendered for {self.repo_id}: its title and usage examples name the "
                "repository (the local file is unchanged)"
            )
        if self.card_edited:
            lines.append(
                "  README.md (the card) goes up as it is: it was edited since compactbert wrote it, so it is not "
                f"rendered again for {self.repo_id} (check that its title and usage examples name the repository)"
            )
        if self.renamed:
            pairs = sorted({pair for renamed in self.renamed.values() for pair in renamed})
            examples = ", ".join(f"{local} -> {public}" for local, public in pairs[:3])
            more = f" and {len(pairs) - 3} more" if len(pairs) > 3 else ""
            lines.append(
                f"  {', '.join(sorted(self.renamed))} go up with this machine's paths named by their run "
                f"({examples}{more}; the local files are unchanged)"
            )
        if self.overridden:
            lines.append(
                f"  {', '.join(self.overridden)} go up with the override recorded (the local files are unchanged)"
            )
        return "\n".join(lines)


@dataclass
class PushResult:
    """What a push did."""

    plan: PushPlan
    commit_url: str
    created_repo: bool
    pr_url: str | None = None
    notes: list[str] = field(default_factory=list)


def plan_push(
    folder: str | os.PathLike,
    repo_id: str,
    repo_type: str = "model",
    revision: str | None = None,
    private: bool = False,
    create_pr: bool = False,
    force: bool = False,
) -> PushPlan:
    """Check `folder` and list what a push would upload. Raises `ValueError` when the folder is not ready, and
    `QualityGateError` (a `ValueError`) when a model fails the quality gate and `force` is not set."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if repo_type not in REPO_TYPES:
        raise ValueError(f"unknown repo type {repo_type!r}; choose one of: {', '.join(REPO_TYPES)}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise ValueError(
            f"'{repo_id}' is not a valid repo id; expected namespace/name, e.g. my-org/bert-top6"
        ) from err
    if "/" not in repo_id:
        raise ValueError(f"repo id '{repo_id}' has no namespace; expected namespace/name, e.g. my-org/bert-top6")
    folder = Path(folder)
    check_folder(folder, repo_type)
    card, hand_edited = None, False
    if repo_type == "model":  # the card names the repository it goes to, not this machine's folder
        from .card import render_card_for_repo, written_unedited

        if written_unedited((folder / "README.md").read_text(encoding="utf-8")):
            card = render_card_for_repo(folder, repo_id)
        else:  # edited since compactbert wrote it (or not written by it): the user's card goes up as it is
            hand_edited = True
    gate, gate_line, replaced = (None, None, {}) if repo_type == "space" else gate_folder(folder, force, card=card)
    overridden = sorted(replaced)
    card_for_repo = card is not None and card != (folder / "README.md").read_text(encoding="utf-8")
    if card_for_repo:
        replaced.setdefault("README.md", card.encode("utf-8"))
    paths = [rel.as_posix() for rel in upload_files(folder)]
    paths += sorted(set(replaced) - set(paths))  # a forced push of a folder without metrics.json adds one
    renamed = public_files(folder, paths, replaced) if repo_type == "model" else {}
    files = [(path, len(replaced[path]) if path in replaced else (folder / path).stat().st_size) for path in paths]
    sdk = None
    if repo_type == "space":
        sdk = card_metadata((folder / "README.md").read_text(encoding="utf-8"))["sdk"]
    return PushPlan(
        folder,
        repo_id,
        repo_type,
        files,
        revision,
        private,
        create_pr,
        sdk,
        gate,
        gate_line,
        replaced,
        card_for_repo,
        hand_edited,
        renamed,
        overridden,
    )


def gate_folder(
    folder: Path,
    force: bool = False,
    retention: tuple[float, tuple[float, str]] | None = None,
    card: str | None = None,
    other_texts: str | None = None,
) -> tuple[GateVerdict, str, dict[str, bytes]]:
    """The quality gate on a model folder: `(verdict, one line saying it, files to upload with other content)`.

    The test accuracy and the majority class come from the folder's `metrics.json` (a folder written before
    `finetune` recorded the majority class has it computed from its task's test split); the thresholds are those its
    build recorded (`quality_gate`), else the defaults. `retention` (`(min_retention, (reference accuracy, what it
    is))`, e.g. a zoo's teacher for `publish`) is checked too when the build recorded no retention floor of its own.
    A folder the gate cannot check (no `metrics.json`, no test
    accuracy in it: a shrunk model before fine-tuning) fails it, as does a model below the thresholds: that raises
    `QualityGateError` unless `force`; then its card (with the override note) and `metrics.json` (with the verdict;
    a new one when the folder has none) are the files to upload changed. `card`: the card to upload, when it is not
    the folder's `README.md` (rendered for the repository). `other_texts`: why the model's test accuracy was measured on
    other texts than `retention`'s reference's (`gate.other_test_texts`): it cannot be checked against it (the share
    it keeps is unknown), and fails.
    """
    metrics_file = folder / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else None
    gate, reference = settings_from_record(metrics)
    if retention is not None and gate.min_retention is None:
        gate = QualityGate(gate.min_margin_over_majority, retention[0])
        reference = retention[1]
    try:
        majority = None if recorded_accuracy(metrics) is None else _test_majority(metrics, folder)
        verdict = check_metrics(metrics, gate, reference, majority)
    except QualityGateError as err:  # the majority class could not be computed: the gate cannot check
        verdict = cannot_check(str(err), gate, recorded_accuracy(metrics))
    if other_texts and retention is not None and reference == retention[1] and verdict.unchecked is None:
        verdict = cannot_check(
            f"the share of {reference[1]}'s test accuracy it keeps is unknown: "
            f"{other_texts.replace('reference', 'teacher')} (`compactbert evaluate MODEL --teacher TEACHER` measures "
            "it; train the model on the teacher's task, split seed and test texts to record it, or leave it out of the "
            "zoo)",
            gate,
            recorded_accuracy(metrics),
        )
    if verdict.passed:
        return verdict, verdict.summary(), {}
    if not force:
        raise QualityGateError(f"{verdict.refusal('publish', str(folder))}. Nothing was sent")
    record = public_record(verdict.record(overridden=True))  # its reference may be a local metrics.json
    replaced = {}
    local = (folder / "README.md").read_text(encoding="utf-8")
    card = local if card is None else card
    if add_override_note(card, record) != local:
        replaced["README.md"] = add_override_note(card, record).encode("utf-8")
    if public_record((metrics or {}).get("quality_gate")) != record:
        replaced["metrics.json"] = json.dumps(
            (metrics or {}) | {"quality_gate": record}, indent=2, default=str
        ).encode()
    return verdict, "OVERRIDDEN with --force: " + "; ".join(verdict.failures), replaced


def _test_majority(metrics: dict, folder: Path) -> tuple[str | int | None, float]:
    """The majority class of the test split the folder was evaluated on: as recorded, else from its task's data."""
    recorded = recorded_majority(metrics)
    if recorded is not None:
        return recorded
    from ..data import load_task

    data = (metrics.get("recipe") or {}).get("data") or {}
    task = metrics.get("task") or data.get("task")
    columns = {name: data[name] for name in ("text_column", "text_pair_column", "label_column") if data.get(name)}
    if isinstance(task, str):  # a data file recorded relative to where the run ran: looked for above the folder
        from ..records import locate_recorded_task

        task = locate_recorded_task(task, (folder / "metrics.json").resolve().parent)[0]  # staged: the real folder
    try:
        dataset, label_names = load_task(task, seed=metrics.get("split_seed", data.get("split_seed", 42)), **columns)
    except Exception as err:  # a local file that moved, a Hub data set offline, ...: say what to do
        raise QualityGateError(
            "its metrics.json records no majority class of the test split (test.majority_accuracy), and its task "
            f"{task!r} could not be loaded to compute it ({err}); trained again with this compactbert, its metrics "
            "record it"
        ) from None
    labels = list(dataset["test"]["label"])
    if data.get("max_eval_samples"):
        labels = labels[: data["max_eval_samples"]]  # evaluated on the first N, as `tokenize_task` selects them
    return majority_class(labels, label_names)


def authenticated_api(token: str | None = None):
    """An `HfApi` with `token`, else the logged-in one (`hf auth login`, `HF_TOKEN`); its `.token` is the one found
    (what messages must never show: `scrub_token`). A `ValueError` saying how to log in when there is none, before
    anything is sent."""
    from huggingface_hub import HfApi, get_token

    token = token or get_token()
    if not token:
        raise ValueError(
            "no Hugging Face token found: log in with `hf auth login` or set HF_TOKEN to a token with write access"
        )
    return HfApi(token=token)


def push(
    folder: str | os.PathLike,
    repo_id: str,
    repo_type: str = "model",
    revision: str | None = None,
    private: bool = False,
    create_pr: bool = False,
    commit_message: str | None = None,
    token: str | None = None,
    force: bool = False,
    plan: PushPlan | None = None,
) -> PushResult:
    """Upload `folder` to `repo_id` in one commit (creating the repository if it does not exist).

    Args:
        folder: a model folder written by compactbert (`build`, `finetune`, `shrink`, ...) or the `space/` folder.
        repo_id: `namespace/name`.
        repo_type: `"model"` or `"space"`.
        revision: the branch to commit to (created from `main` if missing); with `create_pr`, the PR's base.
        private: create the repository private (an existing repository keeps its visibility).
        create_pr: open a pull request instead of committing to the branch.
        commit_message: default `"Upload <folder> with compactbert <version>"`.
        token: default: from the usual huggingface_hub places (`HF_TOKEN`, `hf auth login`).
        force: publish a model the quality gate refuses; its card goes up with a note saying so, and why.
        plan: the `plan_push` of these arguments, when the caller made it already (`publish` compares it with what
            the repository holds first).

    Raises:
        ValueError: the folder is not ready (every problem listed), the quality gate refuses the model
            (`QualityGateError`), or no token was found.
        PushError: the Hub refused or failed; the message says whether anything was left on the Hub.
    """
    from huggingface_hub import CommitOperationAdd

    from .. import __version__

    plan = plan or plan_push(folder, repo_id, repo_type, revision, private, create_pr, force)
    api = authenticated_api(token)
    token = api.token  # the one found, for scrubbing messages too
    notes: list[str] = []
    if plan.gate is not None and not plan.gate.passed:
        notes.append("published with --force although the quality gate refused it; the card says so, and why")
    if plan.renamed:
        notes.append(
            f"{', '.join(sorted(plan.renamed))} went up with this machine's paths named by their run (the local "
            "files are unchanged)"
        )
    try:
        created_repo = _create_repo(api, plan, notes)
    except PushError as err:
        raise PushError(scrub_token(str(err), token)) from None
    created_branch = False
    try:
        if plan.revision and not plan.create_pr and not _branch_exists(api, plan):
            api.create_branch(plan.repo_id, branch=plan.revision, repo_type=plan.repo_type)
            created_branch = True
        operations = [
            CommitOperationAdd(path_in_repo=path, path_or_fileobj=plan.replaced.get(path) or str(plan.folder / path))
            for path, _ in plan.files
        ]
        info = api.create_commit(
            plan.repo_id,
            operations,
            commit_message=commit_message or f"Upload {plan.folder.name} with compactbert {__version__}",
            repo_type=plan.repo_type,
            revision=plan.revision,
            create_pr=plan.create_pr,
        )
    except BaseException as err:  # Ctrl-C mid-upload too: do not leave a half-made repository behind
        cleanup = _clean_up(api, plan, created_repo, created_branch)
        if not isinstance(err, Exception):
            raise
        message = f"{_explain(err, 'uploading the files', plan)} Nothing was committed; {cleanup}"
        raise PushError(scrub_token(message, token)) from None
    return PushResult(plan, info.commit_url, created_repo, info.pr_url, notes)


def _create_repo(api, plan: PushPlan, notes: list[str]) -> bool:
    """Create the repository; `False` when it already existed (and is ours to write)."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        api.create_repo(
            plan.repo_id, repo_type=plan.repo_type, private=plan.private, space_sdk=plan.space_sdk, exist_ok=False
        )
        return True
    except HfHubHTTPError as err:
        if _status(err) != 409:
            raise PushError(f"{_explain(err, 'creating the repository', plan)} Nothing was created.") from None
    except Exception as err:  # network errors: connection refused, timeouts after the client's retries
        raise PushError(f"{_explain(err, 'creating the repository', plan)} Nothing was created.") from None
    try:  # 409: a repository of that name exists; it must be one we can see (and will write to)
        api.repo_info(plan.repo_id, repo_type=plan.repo_type)
    except HfHubHTTPError as err:
        raise PushError(
            f"creating {plan.repo_type} repository {plan.repo_id} answered 409 Conflict (the name is taken), and "
            f"the repository is not visible to this token ({_status(err)}): choose another name or namespace. "
            "Nothing was created."
        ) from None
    if plan.private:
        notes.append(f"{plan.repo_id} already existed: its visibility was left as it is")
    return False


def _branch_exists(api, plan: PushPlan) -> bool:
    refs = api.list_repo_refs(plan.repo_id, repo_type=plan.repo_type)
    return any(branch.name == plan.revision for branch in refs.branches)


def _clean_up(api, plan: PushPlan, created_repo: bool, created_branch: bool) -> str:
    """Undo what this push created; says what state the Hub is left in."""
    try:
        if created_repo:
            api.delete_repo(plan.repo_id, repo_type=plan.repo_type)
            return f"the repository {plan.repo_id} that this push created was deleted again."
        if created_branch:
            api.delete_branch(plan.repo_id, branch=plan.revision, repo_type=plan.repo_type)
            return f"the branch {plan.revision} that this push created was deleted again."
    except Exception as err:  # the Hub is failing: say what is left behind
        what = f"repository {plan.repo_id}" if created_repo else f"branch {plan.revision} of {plan.repo_id}"
        return f"the {what} created by this push could not be deleted ({_status(err) or type(err).__name__}); delete it by hand."
    return f"{plan.repo_id} is unchanged."


def _status(err: BaseException) -> int | None:
    """The HTTP status behind an error (the client wraps upload failures in other exceptions)."""
    while err is not None:
        response = getattr(err, "response", None)
        if response is not None and getattr(response, "status_code", None):
            return int(response.status_code)
        err = err.__cause__ or err.__context__
    return None


def _explain(err: BaseException, action: str, plan: PushPlan) -> str:
    status = _status(err)
    namespace = plan.repo_id.split("/")[0]
    if status == 401:
        return (
            f"the Hub refused the token (401 Unauthorized) while {action}: it is invalid or expired. "
            "Log in again with `hf auth login` or set HF_TOKEN."
        )
    if status == 403:
        return (
            f"the Hub refused the push (403 Forbidden) while {action}: the token is valid but may not write to "
            f"'{namespace}' (a read-only token, or a fine-grained one without write access to that namespace)."
        )
    if status is not None and status >= 500:
        return f"the Hub failed (HTTP {status}) while {action}, also after the client's retries; try again later."
    if status is not None:
        server = (getattr(err, "server_message", None) or str(err).splitlines()[0]).strip()
        return f"the Hub answered HTTP {status} while {action}: {server}"
    return f"{action} failed, the Hub could not be reached or did not answer ({type(err).__name__}: {err})."


def scrub_token(text: str, token: str | None) -> str:
    """Never let a token through, whatever a server or library put in a message."""
    return text.replace(token, "<token>") if token else text
