"""The stand-in Hub's constants, records and error, and its path / .gitattributes / .gitignore rules."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

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
