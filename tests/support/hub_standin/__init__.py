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

from .cards import validate_card_metadata
from .common import (
    DEFAULT_GITATTRIBUTES,
    DEFAULT_TOKEN,
    CommitRecord,
    Fault,
    RequestRecord,
    StandinError,
    git_blob_oid,
    lfs_pointer,
)
from .standin import HubStandin

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
    "validate_card_metadata",
]
