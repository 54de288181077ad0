"""Smoke test against the real Hub: push a tiny ShrunkBert to a private repository, load it back, delete it.

Skipped unless a token and the network are there (the one skip of the publishing tests): run it with
`HF_HUB_OFFLINE=0 HF_TOKEN=<a write token> pytest -m real_hub tests/hub/test_hub_real.py`. It exercises what the
stand-in cannot: Xet storage, the Hub's own card and commit checks, and its permissions.
"""

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from compactbert.hub.push import push

from support.helpers import TEXTS
from support.zoo import tiny_shrunk_folder


def _why_not() -> str | None:
    from huggingface_hub import constants, get_token

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return "HF_HUB_OFFLINE is set (the test suite defaults to offline): run with HF_HUB_OFFLINE=0"
    if not get_token():
        return "no Hugging Face token (set HF_TOKEN to a token with write access)"
    host = urlsplit(constants.ENDPOINT).hostname
    try:
        socket.create_connection((host, 443), timeout=5).close()
    except OSError as err:
        return f"no network route to the Hub ({host}: {err})"
    return None


@pytest.mark.real_hub
def test_push_and_load_on_the_real_hub(tmp_path):
    reason = _why_not()
    if reason:
        pytest.skip(f"real-Hub smoke test: {reason}")
    from huggingface_hub import HfApi

    api = HfApi()
    repo_id = f"{api.whoami()['name']}/compactbert-smoke-{uuid.uuid4().hex[:8]}"
    folder = tiny_shrunk_folder(tmp_path / "m")
    try:
        result = push(folder, repo_id, private=True, force=True)  # never evaluated: the quality gate refuses it
        assert result.created_repo
        assert len(api.list_repo_commits(repo_id)) == 2  # the Hub's initial commit + ours
        model = AutoModelForSequenceClassification.from_pretrained(repo_id, trust_remote_code=True).eval()
        local = AutoModelForSequenceClassification.from_pretrained(folder).eval()
        batch = AutoTokenizer.from_pretrained(folder)(TEXTS, padding=True, return_tensors="pt")
        with torch.no_grad():
            assert torch.equal(model(**batch).logits, local(**batch).logits)
    finally:
        api.delete_repo(repo_id, missing_ok=True)
