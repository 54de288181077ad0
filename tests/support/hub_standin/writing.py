"""The handler's routes that write: preupload, commit, the git-LFS batch API, and the CDN's uploads and downloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote

from .common import _SHA256_RE, StandinError, _check_path, _gitignored


class WriteRoutes:
    """Mixed into the request handler (server.py), whose plumbing (``_json``, ``_send``, the repo checks) these use."""

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
