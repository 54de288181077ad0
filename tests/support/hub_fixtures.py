"""The ``hub`` pytest fixture: a local stand-in of the Hub HTTP API, with the environment pointed at it.

Enable it with ``pytest_plugins = ["support.hub_fixtures"]`` in a test module (or once in ``tests/conftest.py``;
``tests/`` is on ``sys.path`` there), then::

    def test_push(hub, tmp_path):
        hub.create_model_repo("org/tiny", folder)                # seed a repo (no HTTP)
        path = hf_hub_download("org/tiny", "config.json")         # the real client, against the stand-in
        HfApi().upload_folder(repo_id="org/tiny", folder_path=tmp_path)
        assert len(hub.commits_for("org/tiny")) == 1              # commits made through the commit API
        assert hub.requests_matching("POST", "/preupload/")       # every request is recorded

Why patching the environment is not enough: ``huggingface_hub.constants`` reads ``HF_ENDPOINT``,
``HF_HUB_OFFLINE``, ``HF_HOME``/``HF_HUB_CACHE``, ``HF_HUB_DISABLE_XET``, ``HF_HUB_DISABLE_TELEMETRY``, the
token paths ... once, at import time; a few modules copy them (``from ..constants import ENDPOINT``); the
module-level ``huggingface_hub.hf_api.api`` (behind ``huggingface_hub.model_info`` & co.) captured the endpoint
when it was built, so did ``utils._http._HUB_ORIGINS``; ``transformers.utils.hub`` keeps a shared ``HfApi``
(``_hf_api``); ``datasets.config`` copies the endpoint, the offline flag and its cache folders (derived from
``HF_HOME`` at import); fsspec caches ``HfFileSystem`` instances; and the shared HTTP client was built with the
proxy settings of its time. :func:`point_hf_at` sets the environment variables *and* patches all of those
(through ``monkeypatch``, so everything is restored after the test), whatever order the modules were imported in.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from support.hub_standin import DEFAULT_TOKEN, HubStandin

__all__ = ["HubFixture", "hub", "point_hf_at"]

# Environment variables that would point the clients elsewhere or switch them offline.
_UNSET = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_OIDC_RESOURCE",
    "HF_OIDC_ID_TOKEN",
    "HUGGINGFACE_CO_STAGING",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN",
    "HF_TOKEN_PATH",
    "HUGGINGFACE_HUB_CACHE",
    "HUGGINGFACE_ASSETS_CACHE",
    "TRANSFORMERS_CACHE",
    "HF_HUB_ENABLE_HF_TRANSFER",
    "HF_MODULES_CACHE",
    "HF_DATASETS_DOWNLOADED_DATASETS_PATH",
    "HF_DATASETS_EXTRACTED_DATASETS_PATH",
)

# Modules that copy constants at import time: import them *before* patching so that they hold the values
# of the outer environment (which monkeypatch restores), never ours.
_EAGER_MODULES = (
    "huggingface_hub",
    "huggingface_hub.constants",
    "huggingface_hub.hf_api",
    "huggingface_hub.file_download",
    "huggingface_hub.utils._http",
    "huggingface_hub.utils._git_credential",
    "huggingface_hub.utils._cache_manager",
    "huggingface_hub.utils._cache_assets",
)


def point_hf_at(monkeypatch: pytest.MonkeyPatch, endpoint: str, token: str | None, hf_home: Path) -> None:
    """Point ``huggingface_hub`` (and ``transformers`` / ``datasets`` when installed) at ``endpoint``, online,
    with ``token`` (or none), Xet off, telemetry off, and every cache under ``hf_home`` (``datasets``' too:
    ``hf_home / "datasets"``)."""
    endpoint = endpoint.rstrip("/")
    hf_home = Path(hf_home)
    hub_cache = hf_home / "hub"
    assets_cache = hf_home / "assets"
    xet_cache = hf_home / "xet"
    for path in (hub_cache, assets_cache, xet_cache):
        path.mkdir(parents=True, exist_ok=True)

    for module in _EAGER_MODULES:
        importlib.import_module(module)
    if importlib.util.find_spec("transformers") is not None:
        importlib.import_module("transformers.utils.hub")  # its HF_MODULES_CACHE must not point at our tmp dir

    # 1. The environment, for whatever reads it later (and for subprocesses).
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)
    env = {
        "HF_ENDPOINT": endpoint,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "HF_HOME": str(hf_home),
        "HF_HUB_CACHE": str(hub_cache),
        "HF_ASSETS_CACHE": str(assets_cache),
        "HF_XET_CACHE": str(xet_cache),
        "HF_DATASETS_CACHE": str(hf_home / "datasets"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if token is None:
        monkeypatch.delenv("HF_TOKEN", raising=False)
    else:
        monkeypatch.setenv("HF_TOKEN", token)
    host = urlsplit(endpoint).hostname or "127.0.0.1"
    for name in ("NO_PROXY", "no_proxy"):
        current = [h for h in os.environ.get(name, "").split(",") if h]
        monkeypatch.setenv(name, ",".join([*current, host, "localhost"]))

    # 2. huggingface_hub.constants, read once at import time.
    from huggingface_hub import constants

    values: dict[str, Any] = {
        "ENDPOINT": endpoint,
        "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_URL_HOSTS": frozenset({*constants.HF_URL_HOSTS, host}),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HUB_DISABLE_UPDATE_CHECK": True,
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": False,
        "HF_HOME": str(hf_home),
        "HF_HUB_CACHE": str(hub_cache),
        "HUGGINGFACE_HUB_CACHE": str(hub_cache),
        "HF_ASSETS_CACHE": str(assets_cache),
        "HUGGINGFACE_ASSETS_CACHE": str(assets_cache),
        "HF_XET_CACHE": str(xet_cache),
        "HF_TOKEN_PATH": str(hf_home / "token"),
        "HF_STORED_TOKENS_PATH": str(hf_home / "stored_tokens"),
        "CHECK_FOR_UPDATE_DONE_PATH": str(hf_home / ".check_for_update_done"),
        "CHECK_FOR_SKILL_UPDATE_DONE_PATH": str(hf_home / ".check_for_skill_update_done"),
        "AGENT_HARNESSES_PATH": str(hf_home / ".agent_harnesses.json"),
    }
    for name, value in values.items():
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, value)

    # 3. Copies made at import time elsewhere in huggingface_hub.
    copies = {
        ("huggingface_hub.utils._git_credential", "ENDPOINT"): endpoint,
        ("huggingface_hub.utils._cache_manager", "HF_HUB_CACHE"): str(hub_cache),
        ("huggingface_hub.utils._cache_assets", "HF_ASSETS_CACHE"): str(assets_cache),
    }
    for (module_name, attr), value in copies.items():
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attr):
            monkeypatch.setattr(module, attr, value)
    http = sys.modules["huggingface_hub.utils._http"]
    if hasattr(http, "_HUB_ORIGINS") and hasattr(http, "_url_origin"):
        monkeypatch.setattr(http, "_HUB_ORIGINS", frozenset({*http._HUB_ORIGINS, http._url_origin(endpoint)}))
    hf_api = sys.modules["huggingface_hub.hf_api"]
    if hasattr(hf_api, "api"):  # behind huggingface_hub.model_info, .upload_folder, ...
        monkeypatch.setattr(hf_api.api, "endpoint", endpoint)
    _clear_fs_instances()
    # the shared httpx client: rebuild it so it sees the proxy settings above, and drop pooled connections
    http.close_session()

    # 4. transformers keeps one shared HfApi, built lazily with the endpoint of its time.
    transformers_hub = sys.modules.get("transformers.utils.hub")
    if transformers_hub is not None and hasattr(transformers_hub, "_hf_api"):
        monkeypatch.setattr(transformers_hub, "_hf_api", None)

    # 5. datasets copies the endpoint, the offline flags and its cache folders (from HF_HOME) into datasets.config
    #    (only if already imported: importing datasets is slow, and a later import reads the environment set above).
    datasets_cache = Path(os.environ["HF_DATASETS_CACHE"])
    datasets_config = sys.modules.get("datasets.config")
    if datasets_config is not None:
        for name, value in {
            "HF_ENDPOINT": endpoint,
            "HUB_DATASETS_URL": endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}",
            "HF_HUB_OFFLINE": False,
            "HF_DATASETS_OFFLINE": False,
            "HF_CACHE_HOME": str(hf_home),
            "HF_DATASETS_CACHE": datasets_cache,
            "HF_MODULES_CACHE": hf_home / "modules",
            "DOWNLOADED_DATASETS_PATH": datasets_cache / "downloads",
            "EXTRACTED_DATASETS_PATH": datasets_cache / "downloads" / "extracted",
        }.items():
            if hasattr(datasets_config, name):
                monkeypatch.setattr(datasets_config, name, value)


def _clear_fs_instances() -> None:
    fs_module = sys.modules.get("huggingface_hub.hf_file_system")
    if fs_module is not None:
        fs_module.HfFileSystem.clear_instance_cache()


class HubFixture:
    """What the ``hub`` fixture yields: the running :class:`HubStandin` (every attribute and helper of it is
    available here: ``endpoint``, ``token``, ``seed_repo``/``create_model_repo``/``create_space_repo``,
    ``files``, ``commits``/``commits_for``, ``requests``/``requests_matching``, ...) plus ``api`` (an ``HfApi``
    bound to it), ``hf_home``, ``cache_dir`` (the ``HF_HUB_CACHE`` of this test) and ``datasets_cache`` (its
    ``HF_DATASETS_CACHE``)."""

    def __init__(self, standin: HubStandin, hf_home: Path):
        self.standin = standin
        self.hf_home = hf_home
        self.cache_dir = hf_home / "hub"
        self.datasets_cache = hf_home / "datasets"

    _OWN = ("standin", "hf_home", "cache_dir", "datasets_cache")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.standin, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # settings such as `hub.multipart_threshold = ...` go to the running stand-in
        if name in self._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.standin, name, value)

    @property
    def api(self):
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.standin.endpoint, token=self.standin.token)

    def anonymous_api(self):
        """An ``HfApi`` that sends no token at all."""
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.standin.endpoint, token=False)


@pytest.fixture
def hub(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubFixture]:
    """A fresh stand-in Hub on 127.0.0.1 (ephemeral ports), repos in a temporary folder; the environment
    (``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HOME``/``HF_HUB_CACHE``/``HF_DATASETS_CACHE``, ``HF_HUB_DISABLE_XET=1``, no
    ``HF_HUB_OFFLINE``) and the already-imported constants point at it for the duration of the test."""
    base = tmp_path_factory.mktemp("hub")
    standin = HubStandin(base / "server", token=DEFAULT_TOKEN).start()
    try:
        point_hf_at(monkeypatch, standin.endpoint, standin.token, base / "hf_home")
        yield HubFixture(standin, base / "hf_home")
    finally:
        standin.stop()
        _clear_fs_instances()
        http = sys.modules.get("huggingface_hub.utils._http")
        if http is not None:
            http.close_session()  # pooled keep-alive connections point at the stopped server
    if standin.errors:
        pytest.fail("hub stand-in internal errors:\n" + "\n".join(standin.errors), pytrace=False)
