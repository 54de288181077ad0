"""A local stand-in for the Hugging Face Hub HTTP API, for tests.

It speaks the routes, headers and JSON shapes that the real ``huggingface_hub`` client (2.x) sends
and expects, so tests drive the *real* client (``HfApi``, ``hf_hub_download``, ``snapshot_download``,
``upload_folder``, ``transformers``' ``from_pretrained``) against ``http://127.0.0.1:<port>``.

Two ``http.server.ThreadingHTTPServer`` instances run in background threads:

* the **hub** (``HubStandin.endpoint``): the JSON API under ``/api/...``, file resolution under
  ``/{repo}/resolve/{revision}/{path}``, the git-LFS batch API under ``/{repo}.git/info/lfs/...``;
* the **CDN** (``HubStandin.cdn_endpoint``, another port, hence another origin): where LFS files are
  uploaded to (pre-signed PUT URLs) and downloaded from (``/resolve`` answers LFS files with a 302 to
  it, like the real Hub does to its CDN). Being another origin, the client does not forward its token
  there, exactly as in production; the CDN refuses requests that carry an ``Authorization`` header.

Everything is kept on disk under ``root``: content-addressed blobs (``objects/<git sha1>``), LFS
objects (``lfs/<sha256>``), and per repo a ``repo.json`` (refs, visibility) plus one JSON snapshot
per commit (``commits/<sha>.json``: the full file manifest of that revision). A commit id is the sha1
of (repo, parents, message, tree), so identical histories give identical ids. ``main`` (or whatever
branch was committed to) points at the latest commit. Starting a ``HubStandin`` on an existing
``root`` serves the repos already there.

Standard library only. PyYAML (a dependency of ``huggingface_hub`` itself) is imported lazily, only to
validate README front matter and to fill ``cardData``.

Failure injection: ``fail(method, path_contains, status, server=..., times=..., after=...)`` answers matching
requests with an error before any route runs (a 5xx mid-upload, a 403 on commit, a 409 on create ...), after
letting the first ``after`` of them through; ``refuse_commits_after(n)`` is the Hub failing half way through a
series of pushes (``n`` commits succeed, every later one is refused). Extra README
checks: ``card_validator = fn(content, repo_type) -> errors`` is applied by ``/api/validate-yaml`` and to
README.md in commits, on top of the built-in checks (a project wires its own card validator here).

Not implemented (answered with HTTP 501 and recorded in ``unhandled``): discussions/PR comments,
Space secrets/variables/hardware, collections, inference, buckets, Xet storage, git (smart HTTP)
clone/push, gated repos, rate limits. Authorization is single-user: the one token given to the
stand-in may read and write every namespace.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = [
    "DEFAULT_GITATTRIBUTES",
    "DEFAULT_TOKEN",
    "CommitRecord",
    "Fault",
    "HubStandin",
    "RequestRecord",
    "StandinError",
    "git_blob_oid",
    "lfs_pointer",
]

DEFAULT_TOKEN = "hf_standinFakeToken0000000000000000000"
DEFAULT_USERNAME = "standin-user"

REPO_TYPES = ("model", "dataset", "space")
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
API_PLURALS = {"models": "model", "datasets": "dataset", "spaces": "space"}
SPACE_SDKS = ("gradio", "streamlit", "docker", "static")

# Files at least this big must go through LFS (the Hub's limit for plain git blobs is 10 MiB).
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024

# What a new repo's `.gitattributes` tracks with LFS (the usual Hub defaults).
_LFS_PATTERNS = (
    "*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.mlmodel *.model *.msgpack *.npy *.npz "
    "*.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors saved_model/**/* *.tar.* *.tar "
    "*.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents*"
).split()
DEFAULT_GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in _LFS_PATTERNS)

# Same pattern as huggingface_hub.repocard.REGEX_YAML_BLOCK.
_YAML_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,96}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PR_REF_RE = re.compile(r"^refs/pr/(\d+)$")
_LFS_ROUTE_RE = re.compile(
    r"^/(?:(?P<prefix>datasets|spaces)/)?(?P<repo>[^/]+(?:/[^/]+)?)\.git/info/lfs/objects/(?P<op>batch|verify)$"
)
_REPO_ACTIONS = {
    "revision", "tree", "paths-info", "preupload", "commit", "commits", "refs", "branch", "tag",
    "runtime", "discussions", "settings", "secrets", "variables", "hardware", "auth-check",
}  # fmt: skip
_PAGE_SIZE = 1000


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob (what the Hub reports as a regular file's ``oid`` / ``ETag``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-LFS pointer file that stands in git for an LFS object."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def _is_binary(sample: bytes) -> bool:
    return b"\0" in sample[:512]


class StandinError(Exception):
    """An HTTP error answer: status, message, and the ``X-Error-Code`` the client maps to an exception."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


@dataclass
class CommitRecord:
    """One commit the stand-in made. ``source`` is ``"api"`` (the commit endpoint), ``"create"`` (the
    initial commit of a new repo) or ``"seed"`` (a test helper)."""

    repo_type: str
    repo_id: str
    oid: str
    parent: str | None
    title: str
    description: str
    revision: str
    source: str
    added: list[str] = field(default_factory=list)
    lfs: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    pr_num: int | None = None
    date: str = ""


@dataclass
class Fault:
    """An injected failure: requests to ``server`` with ``method`` whose path contains ``path_contains`` are
    answered with ``status``, at most ``times`` times (``None``: always), once the first ``after`` matching requests
    have been let through (``passed`` counts those)."""

    server: str
    method: str
    path_contains: str
    status: int
    times: int | None
    message: str
    hits: int = 0
    after: int = 0
    passed: int = 0


@dataclass
class RequestRecord:
    """One HTTP request received (``server`` is ``"hub"`` or ``"cdn"``)."""

    server: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0
    body: bytes | None = None  # kept when under 1 MiB

    @property
    def authorized(self) -> bool:
        return "authorization" in self.headers

    def json(self) -> Any:
        return json.loads(self.body or b"null")


# --------------------------------------------------------------------------------------------------
# YAML / .gitattributes / .gitignore helpers
# --------------------------------------------------------------------------------------------------


def _front_matter(content: str) -> str | None:
    match = _YAML_BLOCK.search(content)
    return match.group(2) if match else None


def _check_model_index(model_index: Any) -> list[str]:
    errors = []
    if not isinstance(model_index, list):
        return ['"model-index" must be a list']
    for i, entry in enumerate(model_index):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            errors.append(f'"model-index[{i}].name" is required and must be a string')
            continue
        results = entry.get("results")
        if not isinstance(results, list):
            errors.append(f'"model-index[{i}].results" must be a list')
            continue
        for j, result in enumerate(results):
            where = f"model-index[{i}].results[{j}]"
            if not isinstance(result, dict):
                errors.append(f'"{where}" must be an object')
                continue
            task, dataset, metrics = result.get("task"), result.get("dataset"), result.get("metrics")
            if not isinstance(task, dict) or not isinstance(task.get("type"), str):
                errors.append(f'"{where}.task.type" is required')
            if not isinstance(dataset, dict) or not all(isinstance(dataset.get(k), str) for k in ("type", "name")):
                errors.append(f'"{where}.dataset.type" and "{where}.dataset.name" are required')
            if not isinstance(metrics, list) or not metrics:
                errors.append(f'"{where}.metrics" must be a non-empty list')
            else:
                for k, metric in enumerate(metrics):
                    if (
                        not isinstance(metric, dict)
                        or not isinstance(metric.get("type"), str)
                        or "value" not in metric
                    ):
                        errors.append(f'"{where}.metrics[{k}]" needs "type" and "value"')
    return errors


def validate_card_metadata(content: str, repo_type: str = "model") -> tuple[list[str], list[str], dict | None]:
    """Validate a README's YAML front matter like the Hub does: returns (errors, warnings, metadata)."""
    block = _front_matter(content)
    if block is None or not block.strip():
        return [], ["Empty or missing yaml metadata in repo card"], None
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency of huggingface_hub
        return [], ["YAML metadata not validated (PyYAML is not installed)"], None
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        return [f"Invalid YAML in the metadata block: {' '.join(str(exc).split())}"], [], None
    if data is None:
        return [], ["Empty or missing yaml metadata in repo card"], None
    if not isinstance(data, dict):
        return [f"Metadata must be a YAML mapping (dictionary), got {type(data).__name__}"], [], None
    errors = []
    for key in ("license", "library_name", "pipeline_tag", "license_name", "license_link"):
        if key in data and not isinstance(data[key], str):
            errors.append(f'"{key}" must be a string')
    for key in ("tags", "datasets", "metrics", "language", "base_model"):
        value = data.get(key)
        if value is not None and not (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            errors.append(f'"{key}" must be a string or a list of strings')
    if "model-index" in data:
        errors.extend(_check_model_index(data["model-index"]))
    if repo_type == "space" and "sdk" in data and data["sdk"] not in SPACE_SDKS:
        errors.append(f'"sdk" must be one of {", ".join(SPACE_SDKS)}')
    return errors, [], data


def _card_data(content: bytes) -> dict | None:
    try:
        _, _, data = validate_card_metadata(content.decode("utf-8", errors="replace"))
    except Exception:
        return None
    return _jsonable(data) if isinstance(data, dict) else None


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def _lfs_patterns(gitattributes: str) -> list[str]:
    patterns = []
    for line in gitattributes.splitlines():
        parts = line.strip().split()
        if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return patterns


def _gitattr_match(pattern: str, path: str) -> bool:
    if "/" in pattern.strip("/"):
        return fnmatch.fnmatchcase(path, pattern.lstrip("/")) or fnmatch.fnmatchcase(path, pattern.replace("**/", ""))
    return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)


def _gitignored(path: str, gitignore: str | None) -> bool:
    if not gitignore:
        return False
    ignored = False
    parts = path.split("/")
    for raw in gitignore.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pat = line[1:] if negate else line
        dir_only = pat.endswith("/")
        pat = pat.rstrip("/")
        if "/" in pat:
            pat = pat.lstrip("/")
            hit = fnmatch.fnmatchcase(path, pat) or any(
                fnmatch.fnmatchcase("/".join(parts[:i]), pat) for i in range(1, len(parts))
            )
        else:
            candidates = parts[:-1] if dir_only else parts
            hit = any(fnmatch.fnmatchcase(p, pat) for p in candidates)
        if hit:
            ignored = not negate
    return ignored


def _check_path(path: str) -> str:
    if not isinstance(path, str) or not path or path.startswith("/") or path.endswith("/"):
        raise StandinError(400, f"Invalid path in repo: {path!r}")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts) or parts[0] == ".git":
        raise StandinError(400, f"Invalid path in repo: {path!r}")
    return path


# --------------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------------


class HubStore:
    """Repos, commits and objects on disk. All methods are thread-safe."""

    def __init__(self, root: Path, username: str = DEFAULT_USERNAME):
        self.root = Path(root)
        self.username = username
        self.lock = threading.RLock()
        for sub in ("objects", "lfs", "repos", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.commit_log: list[CommitRecord] = []
        self.lfs_size_threshold = LFS_SIZE_THRESHOLD
        # extra README checks (content, repo_type) -> errors, on top of the built-in ones: see HubStandin.card_validator
        self.card_validator: Callable[[str, str], list[str]] | None = None

    def validate_readme(self, content: str, repo_type: str) -> tuple[list[str], list[str]]:
        """(errors, warnings) of a README, from the built-in checks plus ``card_validator`` when set."""
        errors, warnings, data = validate_card_metadata(content, repo_type)
        if self.card_validator is not None:
            errors = errors + [e for e in self.card_validator(content, repo_type) if e not in errors]
        return errors, warnings

    # -- objects ----------------------------------------------------------------------------------

    def _atomic_write(self, dest: Path, data: bytes) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.root / "tmp" / f"{dest.name}.{secrets.token_hex(6)}"
        tmp.write_bytes(data)
        os.replace(tmp, dest)

    def put_blob(self, data: bytes) -> str:
        oid = git_blob_oid(data)
        path = self.root / "objects" / oid
        if not path.exists():
            self._atomic_write(path, data)
        return oid

    def lfs_path(self, sha256: str) -> Path:
        return self.root / "lfs" / sha256

    def has_lfs(self, sha256: str, size: int | None = None) -> bool:
        path = self.lfs_path(sha256)
        return path.is_file() and (size is None or path.stat().st_size == size)

    def put_lfs(self, data: bytes, expected_sha256: str | None = None) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if expected_sha256 is not None and sha != expected_sha256:
            raise StandinError(400, f"Uploaded content has sha256 {sha}, expected {expected_sha256}")
        if not self.has_lfs(sha):
            self._atomic_write(self.lfs_path(sha), data)
        return sha

    def entry_path(self, entry: dict) -> Path:
        if entry.get("lfs"):
            return self.lfs_path(entry["lfs"]["sha256"])
        return self.root / "objects" / entry["oid"]

    def read_entry(self, entry: dict) -> bytes:
        return self.entry_path(entry).read_bytes()

    def make_entry(self, data: bytes, lfs: bool) -> dict:
        if not lfs:
            return {"oid": self.put_blob(data), "size": len(data), "lfs": None}
        sha = self.put_lfs(data)
        return self.lfs_entry(sha, len(data))

    @staticmethod
    def lfs_entry(sha256: str, size: int) -> dict:
        pointer = lfs_pointer(sha256, size)
        return {
            "oid": git_blob_oid(pointer),
            "size": size,
            "lfs": {"sha256": sha256, "size": size, "pointerSize": len(pointer)},
        }

    # -- repos ------------------------------------------------------------------------------------

    def repo_dir(self, repo_type: str, repo_id: str) -> Path:
        return self.root / "repos" / f"{repo_type}s" / repo_id

    def load_repo(self, repo_type: str, repo_id: str) -> dict | None:
        parts = repo_id.split("/")
        if (
            repo_type not in REPO_TYPES
            or len(parts) > 2
            or not all(_NAME_RE.match(p) and p not in (".", "..") for p in parts)
        ):
            return None
        path = self.repo_dir(repo_type, repo_id) / "repo.json"
        with self.lock:
            if not path.is_file():
                return None
            return json.loads(path.read_text())

    def save_repo(self, repo: dict) -> None:
        path = self.repo_dir(repo["type"], repo["id"]) / "repo.json"
        with self.lock:
            self._atomic_write(path, json.dumps(repo, indent=1).encode())

    def get_repo(self, repo_type: str, repo_id: str) -> dict:
        repo = self.load_repo(repo_type, repo_id)
        if repo is None:
            raise StandinError(404, "Repository not found", "RepoNotFound")
        return repo

    def list_repos(self) -> list[tuple[str, str]]:
        out = []
        for repo_type in REPO_TYPES:
            base = self.root / "repos" / f"{repo_type}s"
            for meta in sorted(base.glob("**/repo.json")):
                out.append((repo_type, meta.parent.relative_to(base).as_posix()))
        return out

    def create_repo(
        self,
        repo_type: str,
        repo_id: str,
        *,
        private: bool = False,
        sdk: str | None = None,
        exist_ok: bool = False,
    ) -> tuple[dict, bool]:
        """Create a repo with its initial commit (`.gitattributes`, plus a README for Spaces).
        Returns (repo, created)."""
        if repo_type not in REPO_TYPES:
            raise StandinError(400, f"Invalid repo type {repo_type!r}")
        parts = repo_id.split("/")
        if (
            len(parts) > 2
            or not all(_NAME_RE.match(p) and "--" not in p and ".." not in p for p in parts)
            or any(p[0] in "-." or p[-1] in "-." for p in parts)
        ):
            raise StandinError(400, f"Invalid repo name {repo_id!r}")
        if repo_type == "space" and sdk not in SPACE_SDKS:
            raise StandinError(400, f"A Space needs an sdk, one of {', '.join(SPACE_SDKS)}")
        with self.lock:
            existing = self.load_repo(repo_type, repo_id)
            if existing is not None:
                if exist_ok:
                    return existing, False
                raise StandinError(409, f"You already created this {repo_type} repo", headers={})
            now = _now()
            repo = {
                "type": repo_type,
                "id": repo_id,
                "private": bool(private),
                "sdk": sdk,
                "createdAt": now,
                "lastModified": now,
                "refs": {"heads": {}, "tags": {}, "pulls": {}},
                "prCount": 0,
            }
            self.save_repo(repo)
            files: dict[str, bytes] = {".gitattributes": DEFAULT_GITATTRIBUTES.encode()}
            if repo_type == "space":
                title = repo_id.split("/")[-1]
                files["README.md"] = (
                    f"---\ntitle: {title}\nemoji: 🚀\ncolorFrom: blue\ncolorTo: green\nsdk: {sdk}\n"
                    f"pinned: false\n---\n\nA Space.\n"
                ).encode()
            ops = [("add", path, data) for path, data in files.items()]
            self.commit(repo_type, repo_id, ops, "initial commit", revision=None, source="create")
            return self.get_repo(repo_type, repo_id), True

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        import shutil

        with self.lock:
            self.get_repo(repo_type, repo_id)
            shutil.rmtree(self.repo_dir(repo_type, repo_id))

    # -- revisions --------------------------------------------------------------------------------

    def commit_data(self, repo: dict, sha: str) -> dict:
        path = self.repo_dir(repo["type"], repo["id"]) / "commits" / f"{sha}.json"
        return json.loads(path.read_text())

    def resolve(self, repo: dict, revision: str) -> str | None:
        refs = repo["refs"]
        if revision in refs["heads"]:
            return refs["heads"][revision]
        if revision in refs["tags"]:
            return refs["tags"][revision]
        if revision.startswith("refs/heads/"):
            return refs["heads"].get(revision[len("refs/heads/") :])
        if revision.startswith("refs/tags/"):
            return refs["tags"].get(revision[len("refs/tags/") :])
        if match := _PR_REF_RE.match(revision):
            return refs["pulls"].get(match.group(1))
        if re.fullmatch(r"[0-9a-f]{7,40}", revision):
            commits = self.repo_dir(repo["type"], repo["id"]) / "commits"
            hits = [p.stem for p in commits.glob(f"{revision}*.json")]
            if len(hits) == 1:
                return hits[0]
        return None

    def resolve_or_raise(self, repo: dict, revision: str) -> str:
        sha = self.resolve(repo, revision)
        if sha is None:
            raise StandinError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return sha

    def manifest(self, repo: dict, sha: str) -> dict[str, dict]:
        return self.commit_data(repo, sha)["files"]

    def history(self, repo: dict, sha: str) -> list[dict]:
        out = []
        current: str | None = sha
        while current:
            data = self.commit_data(repo, current)
            out.append(data)
            current = data["parents"][0] if data["parents"] else None
        return out

    def last_commits(self, repo: dict, sha: str, paths: list[str]) -> dict[str, dict]:
        """For each path (file or folder): the most recent commit that changed it."""
        history = self.history(repo, sha)
        out = {}
        for path in paths:
            prefix = path + "/"

            def state(files: dict, prefix: str = prefix, path: str = path) -> Any:
                if path in files:
                    return files[path]["oid"]
                return sorted((p, e["oid"]) for p, e in files.items() if p.startswith(prefix))

            for i, commit in enumerate(history):
                parent_files = history[i + 1]["files"] if i + 1 < len(history) else {}
                if state(commit["files"]) != state(parent_files):
                    out[path] = {"id": commit["id"], "title": commit["title"], "date": commit["date"]}
                    break
        return out

    def upload_mode(self, repo: dict, sha: str, path: str, size: int, sample: bytes) -> str:
        files = self.manifest(repo, sha)
        attrs = files.get(".gitattributes")
        patterns = _lfs_patterns(self.read_entry(attrs).decode("utf-8", "replace")) if attrs else []
        if size >= self.lfs_size_threshold or _is_binary(sample) or any(_gitattr_match(p, path) for p in patterns):
            return "lfs"
        return "regular"

    # -- commits ----------------------------------------------------------------------------------

    def commit(
        self,
        repo_type: str,
        repo_id: str,
        operations: list[tuple],
        title: str,
        *,
        description: str = "",
        revision: str | None = "main",
        parent_commit: str | None = None,
        create_pr: bool = False,
        source: str = "api",
        validate_readme: bool = True,
    ) -> CommitRecord:
        """Apply operations and make one commit.

        Operations: ``("add", path, bytes)`` (regular file), ``("add_auto", path, bytes)`` (LFS decided
        like the Hub's preupload does), ``("lfs", path, sha256, size_or_None)``, ``("delete", path)``,
        ``("delete_folder", path)``. ``revision=None`` makes the root commit of ``main``.
        """
        if not title:
            raise StandinError(400, "Commit message (summary) must not be empty")
        with self.lock:
            repo = self.get_repo(repo_type, repo_id)
            refs = repo["refs"]
            ref_kind, ref_name, head = "heads", "main", None
            if revision is not None:
                if revision in refs["heads"] or revision.startswith("refs/heads/"):
                    ref_name = revision.removeprefix("refs/heads/")
                    if ref_name not in refs["heads"]:
                        raise StandinError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
                    head = refs["heads"][ref_name]
                elif match := _PR_REF_RE.match(revision):
                    ref_kind, ref_name = "pulls", match.group(1)
                    if ref_name not in refs["pulls"]:
                        raise StandinError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
                    head = refs["pulls"][ref_name]
                elif self.resolve(repo, revision) is not None:
                    raise StandinError(400, f"Can only commit to a branch or a pull request ref, not to {revision!r}")
                else:
                    raise StandinError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            if parent_commit is not None and (head is None or not head.startswith(parent_commit)):
                raise StandinError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(self.manifest(repo, head)) if head else {}
            record = CommitRecord(
                repo_type=repo_type,
                repo_id=repo_id,
                oid="",
                parent=head,
                title=title,
                description=description or "",
                revision=revision or "main",
                source=source,
            )
            readme: bytes | None = None
            for op in operations:
                kind, path = op[0], _check_path(op[1])
                if kind in ("add", "add_auto"):
                    data, lfs = op[2], False
                    if kind == "add_auto" and head is not None:
                        lfs = self.upload_mode(repo, head, path, len(data), data[:512]) == "lfs"
                    elif kind == "add_auto":
                        lfs = len(data) >= self.lfs_size_threshold or _is_binary(data)
                    if lfs and data:
                        files[path] = self.make_entry(data, lfs=True)
                        record.lfs.append(path)
                    else:
                        if len(data) >= self.lfs_size_threshold:
                            raise StandinError(
                                400,
                                f"Your push was rejected because it contains files larger than 10 MiB ({path}). "
                                "Please use LFS for large files.",
                            )
                        if _is_binary(data):
                            raise StandinError(
                                400,
                                f"Your push was rejected because it contains binary files ({path}). "
                                "Please use LFS for binary files.",
                            )
                        files[path] = self.make_entry(data, lfs=False)
                        if path == "README.md":
                            readme = data
                    record.added.append(path)
                elif kind == "lfs":
                    sha, size = op[2], op[3]
                    if not isinstance(sha, str) or not _SHA256_RE.match(sha) or not self.has_lfs(sha, size):
                        raise StandinError(
                            422,
                            "Your push was rejected because an LFS pointer pointed to a file that does not exist "
                            f"({path}, oid {sha})",
                        )
                    files[path] = self.lfs_entry(sha, self.lfs_path(sha).stat().st_size)
                    record.added.append(path)
                    record.lfs.append(path)
                elif kind == "delete":
                    if path not in files:
                        raise StandinError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                    del files[path]
                    record.deleted.append(path)
                elif kind == "delete_folder":
                    doomed = [p for p in files if p.startswith(path + "/")]
                    if not doomed:
                        raise StandinError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                    for p in doomed:
                        del files[p]
                    record.deleted.append(path + "/")
                else:
                    raise StandinError(400, f"Unknown commit operation {kind!r}")
            self._check_tree(files)
            if validate_readme and readme is not None:
                errors, _ = self.validate_readme(readme.decode("utf-8", "replace"), repo_type)
                if errors:
                    raise StandinError(400, "Invalid metadata in README.md.\n" + "\n".join(f"- {e}" for e in errors))

            parents = [head] if head else []
            tree = hashlib.sha1(json.dumps(sorted((p, e["oid"]) for p, e in files.items())).encode()).hexdigest()
            ident = {"repo": f"{repo_type}/{repo_id}", "parents": parents, "title": title, "tree": tree}
            ident["message"] = description or ""
            sha = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()
            date = _now()
            commit = {
                "id": sha,
                "parents": parents,
                "title": title,
                "message": description or "",
                "date": date,
                "author": self.username,
                "files": files,
            }
            self._atomic_write(
                self.repo_dir(repo_type, repo_id) / "commits" / f"{sha}.json", json.dumps(commit).encode()
            )
            if create_pr:
                repo["prCount"] += 1
                record.pr_num = repo["prCount"]
                refs["pulls"][str(record.pr_num)] = sha
            else:
                refs[ref_kind][ref_name] = sha
            repo["lastModified"] = date
            self.save_repo(repo)
            record.oid, record.date = sha, date
            self.commit_log.append(record)
            return record

    @staticmethod
    def _check_tree(files: dict) -> None:
        paths = set(files)
        for path in paths:
            parts = path.split("/")
            for i in range(1, len(parts)):
                if "/".join(parts[:i]) in paths:
                    raise StandinError(400, f"Path conflict: {'/'.join(parts[:i])!r} is a file, cannot add {path!r}")

    def create_ref(self, repo: dict, kind: str, name: str, target: str) -> None:
        with self.lock:
            repo = self.get_repo(repo["type"], repo["id"])
            if name in repo["refs"][kind]:
                raise StandinError(409, f"Reference already exists: {name}")
            repo["refs"][kind][name] = target
            self.save_repo(repo)

    def delete_ref(self, repo: dict, kind: str, name: str) -> None:
        with self.lock:
            repo = self.get_repo(repo["type"], repo["id"])
            if name not in repo["refs"][kind]:
                raise StandinError(404, f"Invalid rev id: {name}", "RevisionNotFound")
            if kind == "heads" and name == "main":
                raise StandinError(403, "Cannot delete the main branch")
            del repo["refs"][kind][name]
            self.save_repo(repo)


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, handler, standin: HubStandin, role: str):
        super().__init__(address, handler)
        self.standin = standin
        self.role = role


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "HubStandin/1.0"
    timeout = 120
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    # -- plumbing ---------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        standin = self.server.standin
        split = urlsplit(self.path)
        self.raw_path = split.path
        self.query = parse_qs(split.query, keep_blank_values=True)
        self.body = self._read_body() if self.command not in ("GET", "HEAD") else b""
        self.status = 0
        record = RequestRecord(
            server=self.server.role,
            method=self.command,
            path=unquote(self.raw_path),
            query=self.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.body if len(self.body) < (1 << 20) else None,
        )
        # recorded before answering, so a test sees it as soon as the client call returns
        self.record = record
        with standin._lock:
            standin.requests.append(record)
        try:
            standin.raise_fault(self.server.role, self.command, record.path)
            if self.server.role == "cdn":
                self._route_cdn()
            else:
                self._route_hub()
        except StandinError as err:
            self._error(err.status, err.message, err.code, err.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the stand-in: fail loudly (501 is not retried by the client)
            standin.errors.append(f"{self.command} {self.path}: {traceback.format_exc()}")
            self._error(501, f"hub stand-in internal error: {exc!r}")

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict | None = None,
        content_type: str | None = "application/json; charset=utf-8",
        length: int | None = None,
    ) -> None:
        self.status = self.record.status = status
        self.send_response(status)
        headers = dict(headers or {})
        if content_type and "Content-Type" not in headers:
            headers["Content-Type"] = content_type
        headers["Content-Length"] = str(len(body) if length is None else length)
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200, headers: dict | None = None, content_type: str | None = None) -> None:
        body = json.dumps(obj).encode()
        self._send(status, body, headers, content_type or "application/json; charset=utf-8")

    def _error(self, status: int, message: str, code: str | None = None, headers: dict | None = None) -> None:
        headers = dict(headers or {})
        headers["X-Error-Message"] = " ".join(message.split()).encode("ascii", "replace").decode()
        if code:
            headers["X-Error-Code"] = code
        self._json({"error": message}, status, headers)

    # -- auth -------------------------------------------------------------------------------------

    def _token_state(self) -> str:
        auth = self.headers.get("Authorization")
        if not auth:
            return "missing"
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), self.server.standin.token):
            return "valid"
        return "invalid"

    def _require_write(self) -> None:
        state = self._token_state()
        if state == "invalid":
            raise StandinError(401, "Invalid credentials in Authorization header")
        if state == "missing":
            raise StandinError(401, "You must be authenticated to do this (Authorization: Bearer <token>)")

    def _get_readable_repo(self, repo_type: str, repo_id: str) -> dict:
        repo = self.server.standin.store.load_repo(repo_type, repo_id)
        if self._token_state() == "invalid":  # the Hub refuses a bad token even on public repos
            raise StandinError(401, "Invalid credentials in Authorization header")
        if repo is None:
            raise StandinError(404, "Repository not found", "RepoNotFound")
        if repo["private"] and self._token_state() != "valid":
            # the real Hub answers 401 for private repos, and the client maps it to RepositoryNotFoundError
            raise StandinError(401, "Repository not found", "RepoNotFound")
        return repo

    def _get_writable_repo(self, repo_type: str, repo_id: str) -> dict:
        self._require_write()
        return self.server.standin.store.get_repo(repo_type, repo_id)

    # -- hub routes -------------------------------------------------------------------------------

    def _route_hub(self) -> None:
        path, method = self.raw_path, self.command
        segs = path.split("/")[1:]
        if segs and segs[0] == "api":
            return self._route_api(segs[1:])
        if match := _LFS_ROUTE_RE.match(path):
            repo_type = {"datasets": "dataset", "spaces": "space"}.get(match.group("prefix") or "", "model")
            repo_id = unquote(match.group("repo"))
            if method == "POST" and match.group("op") == "batch":
                return self._lfs_batch(repo_type, repo_id)
            if method == "POST" and match.group("op") == "verify":
                return self._lfs_verify(repo_type, repo_id)
        if len(segs) == 4 and segs[:3] == ["_standin", "lfs", "complete"] and method == "POST":
            return self._lfs_complete_multipart(segs[3])
        if method in ("GET", "HEAD"):
            repo_type, rest = "model", segs
            if rest and rest[0] in ("datasets", "spaces"):
                repo_type, rest = API_PLURALS[rest[0]], rest[1:]
            for i in (1, 2):
                if len(rest) > i + 1 and rest[i] == "resolve":
                    repo_id = "/".join(unquote(s) for s in rest[:i])
                    revision, tail = self._split_revision(rest[i + 1 :])
                    return self._resolve(repo_type, repo_id, revision, unquote("/".join(tail)))
        return self._unhandled()

    def _unhandled(self) -> None:
        self.server.standin.unhandled.append(f"{self.command} {self.path}")
        raise StandinError(501, f"hub stand-in: route not implemented: {self.command} {self.raw_path}")

    @staticmethod
    def _split_revision(segs: list[str]) -> tuple[str, list[str]]:
        if not segs:
            raise StandinError(400, "Missing revision")
        if segs[0] == "refs" and len(segs) >= 3 and segs[1] in ("pr", "heads", "tags", "convert"):
            return "/".join(segs[:3]), segs[3:]
        return unquote(segs[0]), segs[1:]

    def _route_api(self, segs: list[str]) -> None:
        method = self.command
        standin = self.server.standin
        head = "/".join(segs)
        if head == "whoami-v2" and method == "GET":
            return self._whoami()
        if head == "repos/create" and method == "POST":
            return self._create_repo()
        if head == "repos/delete" and method == "DELETE":
            return self._delete_repo()
        if head == "validate-yaml" and method == "POST":
            return self._validate_yaml()
        if head == "agent-harnesses" and method == "GET":
            return self._json({"standardEnvVars": [], "harnesses": {}})
        if segs and segs[0] == "telemetry":
            return self._json({})
        if not segs or segs[0] not in API_PLURALS or len(segs) < 2:
            return self._unhandled()
        repo_type, rest = API_PLURALS[segs[0]], segs[1:]
        store = standin.store
        # repo ids are "namespace/name" (or a legacy single "name")
        if len(rest) >= 3 and rest[2] in _REPO_ACTIONS:
            repo_id, action, tail = f"{unquote(rest[0])}/{unquote(rest[1])}", rest[2], rest[3:]
        elif (
            len(rest) >= 2
            and rest[1] in _REPO_ACTIONS
            and (len(rest) > 2 or store.load_repo(repo_type, f"{rest[0]}/{rest[1]}") is None)
        ):
            repo_id, action, tail = unquote(rest[0]), rest[1], rest[2:]
        elif len(rest) <= 2:
            repo_id, action, tail = "/".join(unquote(s) for s in rest), None, []
        else:
            return self._unhandled()

        if action is None and method == "GET":
            return self._repo_info(repo_type, repo_id, "main")
        if action == "revision" and method == "GET" and tail:
            revision, _ = self._split_revision(tail)
            return self._repo_info(repo_type, repo_id, revision)
        if action == "tree" and method == "GET" and tail:
            revision, rest_path = self._split_revision(tail)
            return self._tree(repo_type, repo_id, revision, unquote("/".join(rest_path)))
        if action == "paths-info" and method == "POST" and tail:
            revision, _ = self._split_revision(tail)
            return self._paths_info(repo_type, repo_id, revision)
        if action == "preupload" and method == "POST" and tail:
            revision, _ = self._split_revision(tail)
            return self._preupload(repo_type, repo_id, revision)
        if action == "commit" and method == "POST" and tail:
            revision, _ = self._split_revision(tail)
            return self._commit(repo_type, repo_id, revision)
        if action == "commits" and method == "GET" and tail:
            revision, _ = self._split_revision(tail)
            return self._list_commits(repo_type, repo_id, revision)
        if action == "refs" and method == "GET":
            return self._refs(repo_type, repo_id)
        if action in ("branch", "tag") and tail and method in ("POST", "DELETE"):
            name, _ = self._split_revision(tail)
            return self._branch_or_tag(repo_type, repo_id, action, name)
        if action == "runtime" and method == "GET" and repo_type == "space":
            repo = self._get_readable_repo(repo_type, repo_id)
            return self._json(self._space_runtime(repo))
        return self._unhandled()

    # -- account / repo management ----------------------------------------------------------------

    def _whoami(self) -> None:
        self._require_write()
        standin = self.server.standin
        self._json(
            {
                "type": "user",
                "id": "0" * 24,
                "name": standin.username,
                "fullname": "Hub Stand-in User",
                "email": None,
                "emailVerified": True,
                "isPro": False,
                "orgs": [{"type": "org", "name": org, "fullname": org, "roleInOrg": "admin"} for org in standin.orgs],
                "auth": {"type": "access_token", "accessToken": {"displayName": "standin", "role": "write"}},
            }
        )

    def _body_json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError as exc:
            raise StandinError(400, f"Invalid JSON body: {exc}") from None

    def _repo_url(self, repo_type: str, repo_id: str) -> str:
        return f"{self.server.standin.endpoint}/{URL_PREFIXES[repo_type]}{repo_id}"

    def _create_repo(self) -> None:
        self._require_write()
        payload = self._body_json()
        standin = self.server.standin
        name = payload.get("name")
        if not isinstance(name, str) or not name:
            raise StandinError(400, "Missing repo name")
        namespace = payload.get("organization") or standin.username
        repo_type = payload.get("type") or "model"
        repo_id = f"{namespace}/{name}"
        visibility = payload.get("visibility")
        private = visibility in ("private", "protected") if visibility is not None else bool(payload.get("private"))
        try:
            standin.store.create_repo(repo_type, repo_id, private=private, sdk=payload.get("sdk"))
        except StandinError as err:
            if err.status == 409:
                return self._json(
                    {"error": err.message, "url": self._repo_url(repo_type, repo_id)},
                    409,
                    {"X-Error-Message": err.message},
                )
            raise
        self._json({"url": self._repo_url(repo_type, repo_id), "name": repo_id, "id": secrets.token_hex(12)})

    def _delete_repo(self) -> None:
        self._require_write()
        payload = self._body_json()
        standin = self.server.standin
        repo_id = f"{payload.get('organization') or standin.username}/{payload.get('name')}"
        standin.store.delete_repo(payload.get("type") or "model", repo_id)
        self._json({})

    def _validate_yaml(self) -> None:
        payload = self._body_json()
        content = payload.get("content")
        if not isinstance(content, str):
            raise StandinError(400, '"content" must be a string')
        errors, warnings = self.server.standin.store.validate_readme(content, payload.get("repoType") or "model")
        if "text/plain" in self.headers.get("Accept", ""):
            if errors:
                return self._send(400, "\n".join(errors).encode(), content_type="text/plain; charset=utf-8")
            return self._send(200, b"", content_type="text/plain; charset=utf-8")
        body = {"errors": [{"message": e} for e in errors], "warnings": [{"message": w} for w in warnings]}
        self._json(body, 400 if errors else 200)

    # -- reading ----------------------------------------------------------------------------------

    def _repo_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        store = self.server.standin.store
        repo = self._get_readable_repo(repo_type, repo_id)
        sha = store.resolve_or_raise(repo, revision)
        commit = store.commit_data(repo, sha)
        files = commit["files"]
        blobs = self.query.get("blobs", ["false"])[-1].lower() in ("1", "true")
        siblings = []
        for path in sorted(files):
            entry = files[path]
            sibling: dict[str, Any] = {"rfilename": path}
            if blobs:
                sibling.update(size=entry["size"], blobId=entry["oid"])
                if entry["lfs"]:
                    sibling["lfs"] = dict(entry["lfs"])
            siblings.append(sibling)
        card = store.read_entry(files["README.md"]) if "README.md" in files else None
        card_data = _card_data(card) if card is not None else None
        namespace = repo_id.split("/")[0] if "/" in repo_id else None
        info: dict[str, Any] = {
            "_id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24],
            "id": repo_id,
            "author": namespace,
            "sha": sha,
            "lastModified": commit["date"],
            "createdAt": repo["createdAt"],
            "private": repo["private"],
            "gated": False,
            "disabled": False,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(e["size"] for e in files.values()),
        }
        if card_data is not None:
            info["cardData"] = card_data
            tags = card_data.get("tags") or []
            info["tags"] = [tags] if isinstance(tags, str) else list(tags)
            if isinstance(card_data.get("license"), str):
                info["tags"].append(f"license:{card_data['license']}")
        if repo_type == "model":
            info.update(modelId=repo_id, downloads=0)
            if card_data is not None:
                for key in ("library_name", "pipeline_tag"):
                    if key in card_data:
                        info[key] = card_data[key]
            if "config.json" in files and not files["config.json"]["lfs"]:
                try:
                    config = json.loads(store.read_entry(files["config.json"]))
                    info["config"] = {k: config[k] for k in ("architectures", "model_type") if k in config}
                    if config.get("model_type") and config["model_type"] not in info["tags"]:
                        info["tags"].append(config["model_type"])
                except (ValueError, TypeError):
                    pass
        elif repo_type == "space":
            info.update(
                sdk=(card_data or {}).get("sdk") or repo.get("sdk"),
                subdomain=repo_id.replace("/", "-").lower(),
                host=f"{self.server.standin.endpoint}/spaces/{repo_id}",
                runtime=self._space_runtime(repo, files),
            )
        elif repo_type == "dataset":
            info.update(downloads=0)
        expand = self.query.get("expand") or self.query.get("expand[]")
        if expand:
            info = {k: v for k, v in info.items() if k in ("_id", "id") or k in expand}
        self._json(info)

    def _space_runtime(self, repo: dict, files: dict | None = None) -> dict:
        store = self.server.standin.store
        if files is None:
            files = store.manifest(repo, repo["refs"]["heads"]["main"])
        card = _card_data(store.read_entry(files["README.md"])) if "README.md" in files else None
        sdk = (card or {}).get("sdk") or repo.get("sdk")
        app_file = (
            "Dockerfile"
            if sdk == "docker"
            else (card or {}).get("app_file") or ("index.html" if sdk == "static" else "app.py")
        )
        return {
            "stage": "RUNNING" if app_file in files else "NO_APP_FILE",
            "hardware": {"current": "cpu-basic", "requested": "cpu-basic"},
            "storage": None,
            "gcTimeout": 172800,
            "replicas": {"current": 1, "requested": 1},
            "devMode": False,
        }

    @staticmethod
    def _dirs(files: dict) -> set[str]:
        dirs: set[str] = set()
        for path in files:
            parts = path.split("/")
            for i in range(1, len(parts)):
                dirs.add("/".join(parts[:i]))
        return dirs

    @staticmethod
    def _file_json(path: str, entry: dict) -> dict:
        out: dict[str, Any] = {"type": "file", "oid": entry["oid"], "size": entry["size"], "path": path}
        if entry["lfs"]:
            lfs = entry["lfs"]
            out["lfs"] = {"oid": lfs["sha256"], "size": lfs["size"], "pointerSize": lfs["pointerSize"]}
        return out

    @staticmethod
    def _dir_json(path: str, files: dict) -> dict:
        inner = sorted((p, e["oid"]) for p, e in files.items() if p.startswith(path + "/"))
        return {
            "type": "directory",
            "oid": hashlib.sha1(json.dumps(inner).encode()).hexdigest(),
            "size": 0,
            "path": path,
        }

    def _tree(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        store = self.server.standin.store
        repo = self._get_readable_repo(repo_type, repo_id)
        sha = store.resolve_or_raise(repo, revision)
        files = store.manifest(repo, sha)
        dirs = self._dirs(files)
        path = path.strip("/")
        if path and path not in dirs:
            headers = {"X-Repo-Commit": sha}
            raise StandinError(404, f"Entry not found: {path}", "EntryNotFound", headers)
        recursive = self.query.get("recursive", ["false"])[-1].lower() in ("1", "true")
        expand = self.query.get("expand", ["false"])[-1].lower() in ("1", "true")
        prefix = path + "/" if path else ""
        items: list[dict] = []
        for d in sorted(dirs):
            if d.startswith(prefix) and (recursive or "/" not in d[len(prefix) :]):
                items.append(self._dir_json(d, files))
        for p in sorted(files):
            if p.startswith(prefix) and (recursive or "/" not in p[len(prefix) :]):
                items.append(self._file_json(p, files[p]))
        if expand:
            last = store.last_commits(repo, sha, [i["path"] for i in items])
            for item in items:
                item["lastCommit"] = last.get(item["path"])
        page_size = self.server.standin.tree_page_size
        start = int(self.query.get("cursor", ["0"])[-1] or 0)
        page = items[start : start + page_size]
        headers = {}
        if start + page_size < len(items):
            query = f"recursive={str(recursive).lower()}&expand={str(expand).lower()}&cursor={start + page_size}"
            headers["Link"] = f'<{self.server.standin.endpoint}{self.raw_path}?{query}>; rel="next"'
        self._json(page, headers=headers)

    def _paths_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        store = self.server.standin.store
        repo = self._get_readable_repo(repo_type, repo_id)
        sha = store.resolve_or_raise(repo, revision)
        files = store.manifest(repo, sha)
        dirs = self._dirs(files)
        if "json" in self.headers.get("Content-Type", ""):
            payload = self._body_json()
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(self.body.decode(), keep_blank_values=True)
            paths = form.get("paths", [])
            expand = form.get("expand", ["false"])[-1].lower() in ("1", "true")
        out = []
        for path in paths if isinstance(paths, list) else [paths]:
            path = path.strip("/")
            if path in files:
                out.append(self._file_json(path, files[path]))
            elif path in dirs:
                out.append(self._dir_json(path, files))
        if expand:
            last = store.last_commits(repo, sha, [i["path"] for i in out])
            for item in out:
                item["lastCommit"] = last.get(item["path"])
        self._json(out)

    def _list_commits(self, repo_type: str, repo_id: str, revision: str) -> None:
        store = self.server.standin.store
        repo = self._get_readable_repo(repo_type, repo_id)
        sha = store.resolve_or_raise(repo, revision)
        formatted = "formatted" in (self.query.get("expand[]") or self.query.get("expand") or [])
        out = []
        for commit in store.history(repo, sha):
            item = {
                "id": commit["id"],
                "title": commit["title"],
                "message": commit["message"],
                "authors": [{"user": commit["author"], "avatar": ""}],
                "date": commit["date"],
            }
            if formatted:
                item["formatted"] = {"title": commit["title"], "message": commit["message"]}
            out.append(item)
        self._json(out)

    def _refs(self, repo_type: str, repo_id: str) -> None:
        repo = self._get_readable_repo(repo_type, repo_id)
        refs = repo["refs"]
        self._json(
            {
                "branches": [
                    {"name": n, "ref": f"refs/heads/{n}", "targetCommit": s} for n, s in refs["heads"].items()
                ],
                "tags": [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": s} for n, s in refs["tags"].items()],
                "converts": [],
                "pullRequests": [
                    {"name": f"refs/pr/{n}", "ref": f"refs/pr/{n}", "targetCommit": s}
                    for n, s in refs["pulls"].items()
                ],
            }
        )

    def _branch_or_tag(self, repo_type: str, repo_id: str, action: str, name: str) -> None:
        store = self.server.standin.store
        repo = self._get_writable_repo(repo_type, repo_id)
        kind = "heads" if action == "branch" else "tags"
        if self.command == "DELETE":
            store.delete_ref(repo, kind, name)
            return self._json({})
        payload = self._body_json()
        if action == "branch":
            target = store.resolve_or_raise(repo, payload.get("startingPoint") or "main")
            store.create_ref(repo, "heads", name, target)
        else:  # POST /tag/{revision} {"tag": ...}
            target = store.resolve_or_raise(repo, name)
            tag = payload.get("tag")
            if not isinstance(tag, str) or not tag:
                raise StandinError(400, "Missing tag name")
            store.create_ref(repo, "tags", tag, target)
        self._json({})

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        standin = self.server.standin
        store = standin.store
        repo = self._get_readable_repo(repo_type, repo_id)
        sha = store.resolve_or_raise(repo, revision)
        files = store.manifest(repo, sha)
        entry = files.get(path)
        if entry is None:
            raise StandinError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
        headers = {"X-Repo-Commit": sha, "ETag": f'"{entry["oid"]}"', "Accept-Ranges": "bytes"}
        if entry["lfs"]:
            lfs = entry["lfs"]
            headers.update(
                {
                    "X-Linked-Etag": f'"{lfs["sha256"]}"',
                    "X-Linked-Size": str(lfs["size"]),
                    "Location": standin.cdn_url(lfs["sha256"], path.rsplit("/", 1)[-1]),
                }
            )
            return self._send(302, b"", headers, content_type="text/plain; charset=utf-8")
        name = path.rsplit("/", 1)[-1]
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)};"
        self._send_file(store.entry_path(entry), entry["size"], headers)

    def _send_file(self, file: Path, size: int, headers: dict) -> None:
        status, start, end = 200, 0, size - 1
        rng = self.headers.get("Range")
        if rng and size > 0:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not match or (not match.group(1) and not match.group(2)):
                raise StandinError(416, f"Invalid range {rng!r}", headers={"Content-Range": f"bytes */{size}"})
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:
                start = max(size - int(match.group(2)), 0)
            if start > end or start >= size:
                raise StandinError(416, f"Invalid range {rng!r}", headers={"Content-Range": f"bytes */{size}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(end - start + 1, 0)
        ctype = "text/plain; charset=utf-8" if file.parent.name == "objects" else "application/octet-stream"
        self.status = self.record.status = status
        self.send_response(status)
        headers.setdefault("Content-Type", ctype)
        headers["Content-Length"] = str(length)
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.end_headers()
        if self.command == "HEAD" or length == 0:
            return
        with open(file, "rb") as fh:
            fh.seek(start)
            remaining = length
            while remaining:
                chunk = fh.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)

    # -- writing ----------------------------------------------------------------------------------

    def _preupload(self, repo_type: str, repo_id: str, revision: str) -> None:
        store = self.server.standin.store
        repo = self._get_writable_repo(repo_type, repo_id)
        sha = store.resolve_or_raise(repo, revision)
        files = store.manifest(repo, sha)
        payload = self._body_json()
        entries = payload.get("files")
        if not isinstance(entries, list):
            raise StandinError(400, '"files" must be a list')
        gitignore = payload.get("gitIgnore")
        if gitignore is None and ".gitignore" in files:
            gitignore = store.read_entry(files[".gitignore"]).decode("utf-8", "replace")
        out = []
        for item in entries:
            path = _check_path(item.get("path"))
            size = item.get("size")
            if not isinstance(size, int) or size < 0:
                raise StandinError(400, f'"size" must be a non-negative integer for {path}')
            sample = base64.b64decode(item.get("sample") or "")
            mode = store.upload_mode(repo, sha, path, size, sample)
            result: dict[str, Any] = {"path": path, "uploadMode": mode, "shouldIgnore": _gitignored(path, gitignore)}
            existing = files.get(path)
            if existing is not None:
                result["oid"] = existing["lfs"]["sha256"] if existing["lfs"] else existing["oid"]
            out.append(result)
        self._json({"files": out, "commitOid": sha})

    def _commit(self, repo_type: str, repo_id: str, revision: str) -> None:
        standin = self.server.standin
        self._get_writable_repo(repo_type, repo_id)
        create_pr = self.query.get("create_pr", ["0"])[-1].lower() in ("1", "true")
        header: dict | None = None
        operations: list[tuple] = []
        for n, line in enumerate(self.body.splitlines()):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                key, value = item["key"], item["value"]
            except (ValueError, KeyError, TypeError):
                raise StandinError(400, f"Malformed ndjson line {n + 1} in commit payload") from None
            if key == "header":
                header = value
            elif key == "file":
                if value.get("encoding", "base64") == "base64":
                    data = base64.b64decode(value.get("content") or "")
                else:
                    data = str(value.get("content") or "").encode()
                operations.append(("add", value.get("path"), data))
            elif key == "lfsFile":
                if value.get("algo", "sha256") != "sha256":
                    raise StandinError(400, f"Unsupported LFS hash algorithm {value.get('algo')!r}")
                operations.append(("lfs", value.get("path"), value.get("oid"), value.get("size")))
            elif key == "deletedFile":
                operations.append(("delete", value.get("path")))
            elif key == "deletedFolder":
                operations.append(("delete_folder", str(value.get("path", "")).rstrip("/")))
            else:
                raise StandinError(400, f"Unknown commit payload key {key!r}")
        if header is None:
            raise StandinError(400, "Commit payload has no header line")
        record = standin.store.commit(
            repo_type,
            repo_id,
            operations,
            header.get("summary") or "",
            description=header.get("description") or "",
            revision=revision,
            parent_commit=header.get("parentCommit"),
            create_pr=create_pr,
            source="api",
        )
        base = self._repo_url(repo_type, repo_id)
        body: dict[str, Any] = {
            "success": True,
            "commitOid": record.oid,
            "commitUrl": f"{base}/commit/{record.oid}",
            "hookOutput": "",
        }
        if record.pr_num is not None:
            body["pullRequestUrl"] = f"{base}/discussions/{record.pr_num}"
        self._json(body)

    def _lfs_batch(self, repo_type: str, repo_id: str) -> None:
        standin = self.server.standin
        payload = self._body_json()
        operation = payload.get("operation")
        if operation == "upload":
            repo = self._get_writable_repo(repo_type, repo_id)
        elif operation == "download":
            repo = self._get_readable_repo(repo_type, repo_id)
        else:
            raise StandinError(400, f"Unsupported LFS operation {operation!r}")
        objects = payload.get("objects")
        if not isinstance(objects, list):
            raise StandinError(400, '"objects" must be a list')
        out = []
        for obj in objects:
            oid, size = obj.get("oid"), obj.get("size")
            if not isinstance(oid, str) or not _SHA256_RE.match(oid) or not isinstance(size, int) or size < 0:
                out.append({"oid": str(oid), "size": size if isinstance(size, int) else 0,
                            "error": {"code": 422, "message": "Invalid oid or size"}})  # fmt: skip
                continue
            entry: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if operation == "download":
                if standin.store.has_lfs(oid, size):
                    entry["actions"] = {"download": {"href": standin.cdn_url(oid, oid), "expires_in": 3600}}
                else:
                    entry["error"] = {"code": 404, "message": "Object does not exist"}
            elif not standin.store.has_lfs(oid, size):
                entry["actions"] = standin.upload_actions(repo, oid, size)
            out.append(entry)
        self._json({"transfer": "basic", "objects": out}, content_type="application/vnd.git-lfs+json")

    def _lfs_verify(self, repo_type: str, repo_id: str) -> None:
        self._get_writable_repo(repo_type, repo_id)
        payload = self._body_json()
        oid, size = payload.get("oid"), payload.get("size")
        if not isinstance(oid, str) or not self.server.standin.store.has_lfs(oid, size):
            raise StandinError(404, f"LFS object {oid} (size {size}) was not uploaded")
        self._json({"message": "ok"}, content_type="application/vnd.git-lfs+json")

    def _lfs_complete_multipart(self, upload_id: str) -> None:
        standin = self.server.standin
        ticket = standin.multipart.get(upload_id)
        if ticket is None:
            raise StandinError(404, f"Unknown multipart upload {upload_id}")
        payload = self._body_json()
        parts = payload.get("parts")
        if payload.get("oid") != ticket["oid"] or not isinstance(parts, list) or len(parts) != ticket["num_parts"]:
            raise StandinError(400, "Malformed multipart completion payload")
        data = []
        for i, part in enumerate(sorted(parts, key=lambda p: p.get("partNumber", 0)), start=1):
            stored = ticket["parts"].get(i)
            if stored is None or part.get("partNumber") != i or part.get("etag") != stored[0]:
                raise StandinError(400, f"Part {i} is missing or its etag does not match")
            data.append(stored[1])
        blob = b"".join(data)
        if len(blob) != ticket["size"]:
            raise StandinError(400, f"Assembled size {len(blob)} != announced size {ticket['size']}")
        standin.store.put_lfs(blob, expected_sha256=ticket["oid"])
        del standin.multipart[upload_id]
        self._json({"oid": ticket["oid"], "size": ticket["size"]})

    # -- CDN routes -------------------------------------------------------------------------------

    def _route_cdn(self) -> None:
        standin = self.server.standin
        if "Authorization" in self.headers:
            # like a pre-signed storage URL: a second auth mechanism is refused (and the token must not leak here)
            raise StandinError(400, "InvalidArgument: only one auth mechanism allowed (signed URL + Authorization)")
        segs = self.raw_path.split("/")[1:]
        token = self.query.get("X-Standin-Token", [""])[-1]
        if self.command in ("GET", "HEAD") and len(segs) == 2 and segs[0] == "lfs":
            oid = segs[1]
            sig = self.query.get("sig", [""])[-1]
            if not hmac.compare_digest(sig, standin.sign(oid)):
                raise StandinError(403, "AccessDenied: bad signature")
            if not standin.store.has_lfs(oid):
                raise StandinError(404, "NoSuchKey")
            file = standin.store.lfs_path(oid)
            filename = self.query.get("filename", [oid])[-1]
            headers = {
                "ETag": f'"{oid}"',
                "Accept-Ranges": "bytes",
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)};",
                "Content-Type": "application/octet-stream",
            }
            return self._send_file(file, file.stat().st_size, headers)
        if self.command == "PUT" and len(segs) == 2 and segs[0] == "upload":
            ticket = standin.uploads.get(token)
            if ticket is None or ticket["oid"] != segs[1]:
                raise StandinError(403, "AccessDenied: bad or expired upload URL")
            if len(self.body) != ticket["size"]:
                raise StandinError(400, f"Uploaded {len(self.body)} bytes, announced {ticket['size']}")
            standin.store.put_lfs(self.body, expected_sha256=ticket["oid"])
            return self._send(200, b"", {"ETag": f'"{hashlib.md5(self.body).hexdigest()}"'}, content_type=None)
        if self.command == "PUT" and len(segs) == 3 and segs[0] == "upload-part":
            upload_id, part = segs[1], int(segs[2])
            ticket = standin.multipart.get(upload_id)
            if (
                ticket is None
                or not hmac.compare_digest(token, ticket["token"])
                or not 1 <= part <= ticket["num_parts"]
            ):
                raise StandinError(403, "AccessDenied: bad or expired upload URL")
            etag = f'"{hashlib.md5(self.body).hexdigest()}"'
            ticket["parts"][part] = (etag, self.body)
            return self._send(200, b"", {"ETag": etag}, content_type=None)
        return self._unhandled()


class HubStandin:
    """The stand-in Hub: a store on disk plus the two HTTP servers. Use ``start()``/``stop()`` or ``with``."""

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = DEFAULT_USERNAME,
        orgs: tuple[str, ...] = (),
        host: str = "127.0.0.1",
    ):
        self.root = Path(root)
        self.token = token
        self.username = username
        self.orgs = list(orgs)
        self.host = host
        self.store = HubStore(self.root, username)
        self.requests: list[RequestRecord] = []
        self.errors: list[str] = []  # internal errors (bugs in the stand-in)
        self.unhandled: list[str] = []  # requests for routes the stand-in does not implement
        self.uploads: dict[str, dict] = {}  # single-part LFS upload tickets
        self.multipart: dict[str, dict] = {}  # multipart LFS upload tickets
        self.multipart_threshold: int | None = None  # LFS objects at least this big upload in parts
        self.multipart_chunk_size = 5 * 1024 * 1024
        self.tree_page_size = _PAGE_SIZE
        self.faults: list[Fault] = []  # injected failures, see fail()
        self._secret = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._hub: _Server | None = None
        self._cdn: _Server | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> HubStandin:
        if self._hub is not None:
            return self
        self._hub = _Server((self.host, 0), _Handler, self, "hub")
        self._cdn = _Server((self.host, 0), _Handler, self, "cdn")
        for server in (self._hub, self._cdn):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.name = f"hub-standin-{server.role}"
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self._hub, self._cdn):
            if server is not None:
                server.shutdown()
                server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._hub = self._cdn = None
        self._threads = []

    def __enter__(self) -> HubStandin:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._hub is None:
            raise RuntimeError("HubStandin is not started")
        return f"http://{self.host}:{self._hub.server_address[1]}"

    @property
    def cdn_endpoint(self) -> str:
        if self._cdn is None:
            raise RuntimeError("HubStandin is not started")
        return f"http://{self.host}:{self._cdn.server_address[1]}"

    # -- LFS helpers used by the handler ----------------------------------------------------------

    def sign(self, oid: str) -> str:
        return hmac.new(self._secret, oid.encode(), hashlib.sha256).hexdigest()[:32]

    def cdn_url(self, oid: str, filename: str) -> str:
        return f"{self.cdn_endpoint}/lfs/{oid}?sig={self.sign(oid)}&filename={quote(filename)}"

    def upload_actions(self, repo: dict, oid: str, size: int) -> dict:
        prefix = URL_PREFIXES[repo["type"]]
        verify = {"href": f"{self.endpoint}/{prefix}{repo['id']}.git/info/lfs/objects/verify"}
        token = secrets.token_urlsafe(16)
        if self.multipart_threshold is not None and size >= self.multipart_threshold:
            chunk = self.multipart_chunk_size
            num_parts = max(1, -(-size // chunk))
            upload_id = secrets.token_hex(8)
            self.multipart[upload_id] = {"oid": oid, "size": size, "token": token, "num_parts": num_parts, "parts": {}}
            header = {"chunk_size": str(chunk)}
            for i in range(1, num_parts + 1):
                header[f"{i:05d}"] = f"{self.cdn_endpoint}/upload-part/{upload_id}/{i}?X-Standin-Token={token}"
            upload = {"href": f"{self.endpoint}/_standin/lfs/complete/{upload_id}", "header": header}
        else:
            self.uploads[token] = {"oid": oid, "size": size}
            upload = {"href": f"{self.cdn_endpoint}/upload/{oid}?X-Standin-Token={token}"}
        return {"upload": upload, "verify": verify}

    # -- failure injection and extra checks -------------------------------------------------------

    def fail(
        self,
        method: str,
        path_contains: str,
        status: int,
        *,
        server: str = "hub",
        times: int | None = None,
        message: str | None = None,
        after: int = 0,
    ) -> Fault:
        """Answer matching requests with ``status`` (before any route runs: nothing is stored), ``times`` times
        (``None``: until removed with ``clear_faults``), after letting the first ``after`` matching requests through.
        Returns the fault; its ``hits`` counts the answers, ``passed`` the requests let through."""
        message = message or f"injected failure ({status})"
        fault = Fault(server, method.upper(), path_contains, status, times, message, after=after)
        with self._lock:
            self.faults.append(fault)
        return fault

    def refuse_commits_after(self, commits: int, status: int = 403, message: str | None = None) -> Fault:
        """The Hub failing half way: the next ``commits`` commit requests (any repo) go through, every later one is
        answered with ``status`` (403 by default: the client does not retry it) until ``clear_faults``."""
        message = message or f"injected failure: commits refused after {commits}"
        return self.fail("POST", "/commit/", status, message=message, after=commits)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def raise_fault(self, server: str, method: str, path: str) -> None:
        with self._lock:
            for fault in self.faults:
                if fault.server == server and fault.method == method and fault.path_contains in path:
                    if fault.passed < fault.after:
                        fault.passed += 1
                        continue
                    if fault.times is not None and fault.hits >= fault.times:
                        continue
                    fault.hits += 1
                    raise StandinError(fault.status, fault.message)

    @property
    def card_validator(self) -> Callable[[str, str], list[str]] | None:
        """Extra README metadata checks ``(content, repo_type) -> errors``, applied by ``/api/validate-yaml`` and
        to README.md in commits, on top of the built-in ones (e.g. a project's own card validator)."""
        return self.store.card_validator

    @card_validator.setter
    def card_validator(self, check: Callable[[str, str], list[str]] | None) -> None:
        self.store.card_validator = check

    # -- test helpers -----------------------------------------------------------------------------

    def create_repo(
        self, repo_id: str, repo_type: str = "model", *, private: bool = False, sdk: str | None = None,
        exist_ok: bool = False,
    ) -> str:  # fmt: skip
        """Create a repo directly (no HTTP). Returns the head commit of ``main``."""
        repo, _ = self.store.create_repo(repo_type, repo_id, private=private, sdk=sdk, exist_ok=exist_ok)
        return repo["refs"]["heads"]["main"]

    def seed_repo(
        self,
        repo_id: str,
        folder: str | os.PathLike | None = None,
        *,
        files: dict[str, bytes | str] | None = None,
        repo_type: str = "model",
        private: bool = False,
        sdk: str | None = None,
        message: str = "Upload folder",
        revision: str = "main",
    ) -> str:
        """Create the repo if needed and commit a local folder's files (and/or ``files``) in one commit,
        choosing LFS like the Hub does. Returns the new commit id."""
        self.store.create_repo(repo_type, repo_id, private=private, sdk=sdk, exist_ok=True)
        content: dict[str, bytes] = {}
        if folder is not None:
            base = Path(folder)
            for path in sorted(base.rglob("*")):
                rel = path.relative_to(base).as_posix()
                if path.is_file() and not any(part in (".git", ".cache") for part in rel.split("/")):
                    content[rel] = path.read_bytes()
        for rel, data in (files or {}).items():
            content[rel] = data.encode() if isinstance(data, str) else data
        ops = [("add_auto", rel, data) for rel, data in content.items()]
        return self.store.commit(repo_type, repo_id, ops, message, revision=revision, source="seed").oid

    def create_model_repo(self, repo_id: str, folder: str | os.PathLike | None = None, **kwargs: Any) -> str:
        return self.seed_repo(repo_id, folder, repo_type="model", **kwargs)

    def create_space_repo(
        self, repo_id: str, folder: str | os.PathLike | None = None, *, sdk: str = "gradio", **kwargs: Any
    ) -> str:
        return self.seed_repo(repo_id, folder, repo_type="space", sdk=sdk, **kwargs)

    def create_dataset_repo(self, repo_id: str, folder: str | os.PathLike | None = None, **kwargs: Any) -> str:
        return self.seed_repo(repo_id, folder, repo_type="dataset", **kwargs)

    def repo_exists(self, repo_id: str, repo_type: str = "model") -> bool:
        return self.store.load_repo(repo_type, repo_id) is not None

    def repo_meta(self, repo_id: str, repo_type: str = "model") -> dict:
        """``repo.json``: visibility, sdk, refs (``refs.heads``, ``refs.tags``, ``refs.pulls``)."""
        return self.store.get_repo(repo_type, repo_id)

    def head(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> str:
        repo = self.store.get_repo(repo_type, repo_id)
        return self.store.resolve_or_raise(repo, revision)

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict[str, bytes]:
        """All files of a revision, path -> content."""
        repo = self.store.get_repo(repo_type, repo_id)
        manifest = self.store.manifest(repo, self.store.resolve_or_raise(repo, revision))
        return {path: self.store.read_entry(entry) for path, entry in sorted(manifest.items())}

    def file_entries(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict[str, dict]:
        """Path -> {"oid", "size", "lfs": None | {"sha256", "size", "pointerSize"}} for a revision."""
        repo = self.store.get_repo(repo_type, repo_id)
        return self.store.manifest(repo, self.store.resolve_or_raise(repo, revision))

    def read_file(self, repo_id: str, path: str, revision: str = "main", repo_type: str = "model") -> bytes:
        return self.files(repo_id, revision, repo_type)[path]

    @property
    def commits(self) -> list[CommitRecord]:
        """Every commit made since this stand-in started (all repos, all sources), oldest first."""
        return list(self.store.commit_log)

    def commits_for(self, repo_id: str, repo_type: str = "model", source: str | None = "api") -> list[CommitRecord]:
        """Commits to one repo; by default only those made through the commit API (not repo creation/seeding)."""
        return [
            c for c in self.store.commit_log
            if c.repo_id == repo_id and c.repo_type == repo_type and (source is None or c.source == source)
        ]  # fmt: skip

    def history(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> list[dict]:
        """The full history on disk (newest first): id, parents, title, message, date, files."""
        repo = self.store.get_repo(repo_type, repo_id)
        return self.store.history(repo, self.store.resolve_or_raise(repo, revision))

    def requests_matching(self, method: str | None = None, path_contains: str = "", server: str | None = None):
        return [
            r for r in self.requests
            if (method is None or r.method == method) and path_contains in r.path
            and (server is None or r.server == server)
        ]  # fmt: skip

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()


def _main() -> None:  # pragma: no cover - manual use: python tests/support/hub_standin.py ROOT
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Serve a local stand-in of the Hub HTTP API.")
    parser.add_argument("root", help="folder where repos are kept")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args()
    with HubStandin(args.root, token=args.token) as hub:
        print(f"HF_ENDPOINT={hub.endpoint} HF_TOKEN={hub.token} HF_HUB_DISABLE_XET=1", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    _main()
