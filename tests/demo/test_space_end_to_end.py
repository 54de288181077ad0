"""From a zoo to a running Space, end to end: `compactbert publish` to the local Hub stand-in, then the Space as the
Spaces build makes it, in a fresh virtual environment that installs only what the Space's `requirements.txt` names
(pip run on that file alone, in a folder holding nothing else, as the Spaces build does), plus the gradio version its
card asks for. The app starts from the downloaded Space with `HF_ENDPOINT` at the stand-in: it becomes ready without
training anything, `/compare` answers through `gradio_client` with the published models, and a headless Chromium
sees and uses the page.

Slow: a virtual environment with torch, transformers and gradio. pip installs from a local wheelhouse kept between
runs (filled from the package indexes on the first run, or when the requirements change), with the versions
constrained to this environment's own (so the Space is tested with the stack the rest of the suite runs); neither adds
a package to what the requirements name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from importlib.metadata import distributions
from pathlib import Path

import gradio
import httpx
import pytest
from gradio_client import Client

from compactbert.cli import main
from compactbert.demo import FINE_TUNED_CHOICE

from support.demo import LABELS, free_port

pytestmark = pytest.mark.slow

SPACE = "org/demo"
MODELS = ["org/teacher", "org/shrunk-top-2", "org/shrunk-bottom-2"]


def constraints(path):
    """This environment's package versions as pip constraints (compactbert itself left out: the Space has its own).

    One pin per package, the first on `sys.path` (what `import` finds): once something has imported setuptools (NNCF
    does, when it quantizes), `setuptools/_vendor` is on `sys.path` too, and its vendored copies (an older
    `packaging`, ...) would pin a second version of the same package, which no install can satisfy."""
    pins: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != "compactbert":
            pins.setdefault(re.sub(r"[-_.]+", "-", name).lower(), f"{name}=={dist.version}")
    path.write_text("\n".join(sorted(pins.values())) + "\n")
    return path


def wheelhouse() -> Path:
    """Where this test keeps the wheels the Space installs, between runs (`$COMPACTBERT_TEST_WHEELHOUSE`)."""
    default = Path.home() / ".cache" / "compactbert" / "test-wheelhouse"
    return Path(os.environ.get("COMPACTBERT_TEST_WHEELHOUSE") or default)


def install_space_requirements(python: str, build: Path, env: dict, pins: Path) -> None:
    """`pip install -r requirements.txt gradio==<sdk_version>` in `build` (which holds nothing but that file), from
    the local wheelhouse only (`--no-index`: the install then needs no index at all, and an index named by
    `--torch-index-url` would be retried for every package; the compactbert wheel still comes from its URL on the
    stand-in Hub).

    When the wheelhouse lacks a package, it is filled first with `pip download` of the same requirements (from the
    package indexes this machine reaches; the CPU torch wheel is among its local wheels), then the install runs again.
    """
    house = wheelhouse()
    house.mkdir(parents=True, exist_ok=True)
    wanted = ["-r", "requirements.txt", f"gradio=={gradio.__version__}", "-c", str(pins)]
    pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    offline = pip + ["install", "--no-index", "--find-links", str(house), *wanted]
    if subprocess.run(offline, cwd=build, env=env, capture_output=True, text=True, timeout=1200).returncode == 0:
        return
    lines = (build / "requirements.txt").read_text().splitlines()
    (build / "download.txt").write_text("\n".join(line for line in lines if not line.startswith("--")) + "\n")
    run(pip + ["download", "-d", str(house), "-r", "download.txt", *wanted[2:]], cwd=build, env=env, timeout=1800)
    for stale in house.glob("compactbert-*.whl"):  # the Space's own wheel is never taken from here
        stale.unlink()
    (build / "download.txt").unlink()
    run(offline, cwd=build, env=env, timeout=1200)


def run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_a_published_space_installs_from_its_own_requirements_and_answers(zoo, hub, tmp_path, page):
    from huggingface_hub import snapshot_download

    # 1. publish: the models, then the Space with a wheel built from this checkout
    assert main(["publish", str(zoo), "--org", "org", "--space", SPACE]) == 0
    space = tmp_path / "space"
    snapshot_download(SPACE, repo_type="space", local_dir=space)
    assert {"app.py", "README.md", "requirements.txt", "zoo.json"} <= {p.name for p in space.iterdir()}

    # 2. the Spaces build: pip on requirements.txt alone, in a folder with nothing else, in a fresh environment
    venv, build = tmp_path / "venv", tmp_path / "build"
    run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    build.mkdir()
    shutil.copy(space / "requirements.txt", build / "requirements.txt")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HF_HUB_OFFLINE", "HF_TOKEN")}
    started = time.time()
    install_space_requirements(python, build, env, constraints(tmp_path / "constraints.txt"))
    print(f"installing the Space's requirements took {time.time() - started:.0f} s")
    where = run([python, "-c", "import compactbert; print(compactbert.__file__)"], cwd=build, env=env).stdout
    assert where.startswith(str(venv)), where  # the wheel from the Space, not this checkout

    # 3. the app, from the downloaded Space, against the stand-in, with empty caches
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app_env = env | {
        "HF_ENDPOINT": hub.endpoint,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HOME": str(tmp_path / "app-hf-home"),
        "COMPACTBERT_DEMO_CACHE": str(tmp_path / "app-zoo-cache"),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    for name in ("HF_HUB_CACHE", "HF_ASSETS_CACHE", "HF_XET_CACHE", "HF_DATASETS_CACHE"):
        app_env.pop(name, None)
    log = open(tmp_path / "app.log", "w")  # noqa: SIM115 - the process writes to it until the end of the test
    hub.clear_requests()
    app = subprocess.Popen(
        [python, "app.py", "--host", "127.0.0.1", "--port", str(port), "--dtype", "fp32"],
        cwd=space, env=app_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        started = time.time()
        while True:
            assert app.poll() is None, (tmp_path / "app.log").read_text()[-3000:]
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() - started < 300, (tmp_path / "app.log").read_text()[-3000:]
            time.sleep(1)
        print(f"the app was ready {time.time() - started:.0f} s after it started")

        result = Client(url, verbose=False).predict(
            "the team win the game", "top", 2, FINE_TUNED_CHOICE, 3, api_name="/compare"
        )
        assert result["teacher"]["name"] == "teacher" and result["compact"]["name"] == "shrunk-top-2"
        assert set(result["compact"]["probabilities"]) == set(LABELS)
        for repo in MODELS:  # the published models, from the stand-in
            assert hub.requests_matching("GET", f"/{repo}/resolve/"), repo
        assert not (tmp_path / "app-zoo-cache").exists()  # nothing was built or trained
        assert "building" not in (tmp_path / "app.log").read_text().lower()

        page.goto(url)
        page.locator("#text textarea").fill("a boring film")
        page.locator("#compare-button").click()
        summary = page.locator("#summary")
        summary.get_by_text("the compact model is").wait_for(timeout=60_000)
        assert "Teacher (6 layers" in summary.inner_text()
    finally:
        app.terminate()
        app.wait(30)
        log.close()
