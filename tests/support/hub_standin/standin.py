"""The stand-in Hub: its store, its two servers, failure injection and what tests inspect."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .common import (
    _PAGE_SIZE,
    DEFAULT_TOKEN,
    DEFAULT_USERNAME,
    URL_PREFIXES,
    CommitRecord,
    Fault,
    RequestRecord,
    StandinError,
)
from .server import _Handler, _Server
from .store import HubStore


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
