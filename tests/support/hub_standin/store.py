"""Repos, commits and objects of the stand-in Hub, on disk."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cards import validate_card_metadata
from .common import (
    _NAME_RE,
    _PR_REF_RE,
    _SHA256_RE,
    DEFAULT_GITATTRIBUTES,
    DEFAULT_USERNAME,
    LFS_SIZE_THRESHOLD,
    REPO_TYPES,
    SPACE_SDKS,
    CommitRecord,
    StandinError,
    _check_path,
    _gitattr_match,
    _is_binary,
    _lfs_patterns,
    _now,
    git_blob_oid,
    lfs_pointer,
)


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
