"""The stand-in's HTTP servers: one handler class that reads a request, checks its token and routes it."""

from __future__ import annotations

import hmac
import json
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from .common import _LFS_ROUTE_RE, _REPO_ACTIONS, API_PLURALS, RequestRecord, StandinError
from .reading import ReadRoutes
from .writing import WriteRoutes

if TYPE_CHECKING:
    from .standin import HubStandin


# the repo routes that take a revision and nothing after it: (action, method) -> the handler's method
_REVISION_ROUTES = {
    ("revision", "GET"): "_repo_info",
    ("paths-info", "POST"): "_paths_info",
    ("preupload", "POST"): "_preupload",
    ("commit", "POST"): "_commit",
    ("commits", "GET"): "_list_commits",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, handler, standin: HubStandin, role: str):
        super().__init__(address, handler)
        self.standin = standin
        self.role = role


class _Handler(ReadRoutes, WriteRoutes, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "HubStandin/1.0"
    timeout = 120
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    # -- plumbing ---------------------------------------------------------------------------------

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

    # every method goes through one dispatcher (http.server looks up `do_<METHOD>`)
    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

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
        if (action, method) in _REVISION_ROUTES and tail:
            revision, _ = self._split_revision(tail)
            return getattr(self, _REVISION_ROUTES[action, method])(repo_type, repo_id, revision)
        if action == "tree" and method == "GET" and tail:
            revision, rest_path = self._split_revision(tail)
            return self._tree(repo_type, repo_id, revision, unquote("/".join(rest_path)))
        if action == "refs" and method == "GET":
            return self._refs(repo_type, repo_id)
        if action in ("branch", "tag") and tail and method in ("POST", "DELETE"):
            name, _ = self._split_revision(tail)
            return self._branch_or_tag(repo_type, repo_id, action, name)
        if action == "runtime" and method == "GET" and repo_type == "space":
            repo = self._get_readable_repo(repo_type, repo_id)
            return self._json(self._space_runtime(repo))
        return self._unhandled()
