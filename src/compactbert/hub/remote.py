"""What a Hub repository already holds of a local folder, by hashes alone (nothing is downloaded): what lets
`compactbert publish` skip a repository that holds these files and push only what changed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .validate import upload_files


def git_blob_id(path: Path | bytes) -> str:
    """The git object id of a file's content (what the Hub lists as a regular file's `blob_id`)."""
    data = path if isinstance(path, bytes) else path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256_file(path: str | os.PathLike | bytes) -> str:
    """The SHA-256 of a file's content (what the Hub lists as an LFS file's `sha256`)."""
    if isinstance(path, bytes):
        return hashlib.sha256(path).hexdigest()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remote_differences(
    api, repo_id: str, repo_type: str, folder: Path, replaced: dict[str, bytes] | None = None
) -> tuple[str | None, list[str]]:
    """(the repository's head commit or `None` when it does not exist, the files of `folder` to upload that the
    repository does not hold as they would go up). `replaced`: files that go up with other content than the local
    one (`PushPlan.replaced`: the card rendered for the repository, records naming this machine's paths by run)."""
    from huggingface_hub.errors import RepositoryNotFoundError

    replaced = replaced or {}
    paths = [rel.as_posix() for rel in upload_files(folder)]
    paths += sorted(set(replaced) - set(paths))
    try:
        head = api.repo_info(repo_id, repo_type=repo_type).sha
    except RepositoryNotFoundError:
        return None, paths
    tree = api.list_repo_tree(repo_id, repo_type=repo_type, revision=head, recursive=True)
    remote = {item.path: item for item in tree if hasattr(item, "blob_id")}
    differ = []
    for path in paths:
        there, here = remote.get(path), replaced.get(path, folder / path)
        if there is None:
            differ.append(path)
        elif there.lfs is not None:
            if there.lfs.sha256 != sha256_file(here):
                differ.append(path)
        elif there.blob_id != git_blob_id(here):
            differ.append(path)
    return head, differ
