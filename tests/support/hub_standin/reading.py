"""The handler's routes that manage accounts and repos and read them (info, tree, commits, refs, files)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from .cards import _card_data
from .common import URL_PREFIXES, StandinError


class ReadRoutes:
    """Mixed into the request handler (server.py), whose plumbing (``_json``, ``_send``, the repo checks) these use."""

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
