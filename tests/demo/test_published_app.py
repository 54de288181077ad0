"""The app over a published zoo (its manifest names Hub repositories at pinned commits), in this process, against
the local Hub stand-in: it loads the published models; a repository missing from the Hub is named on the page (seen
in a real browser); a missing teacher gives a page that says why; with no manifest and no built zoo, the page says the
app is building until the demo replaces it on the same address."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import httpx
import pytest
from gradio_client import Client

from compactbert.cli import main
from compactbert.demo import FINE_TUNED_CHOICE, create_demo, launch
from compactbert.demo.zoo import FIRST_BUILD

from support.demo import LABELS, free_port

SPACE = "org/demo"


@pytest.fixture
def manifest(zoo, wheel, hub, tmp_path):
    """The published Space's `zoo.json` (the tiny zoo published to `org/...`), downloaded next to nowhere else."""
    assert main(["publish", str(zoo), "--org", "org", "--space", SPACE, "--wheel", str(wheel)]) == 0
    path = tmp_path / "space" / "zoo.json"
    path.parent.mkdir()
    path.write_bytes(hub.files(SPACE, repo_type="space")["zoo.json"])
    return path


def serve(demo):
    _, url, _ = launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    return url


def page_text(url: str) -> str:
    """Every text the page's components hold (gradio's /config), as one string."""
    config = httpx.get(f"{url.rstrip('/')}/config", timeout=30).json()
    return json.dumps([c.get("props", {}).get("value") for c in config["components"]])


def test_the_app_loads_the_published_models_from_the_hub(manifest, hub, zoo):
    hub.clear_requests()
    demo = create_demo(str(manifest), dtype="fp32")
    try:
        url = serve(demo)
        result = Client(url, verbose=False).predict(
            "the team win the game",
            strategy="top",
            num_drop=2,
            model=FINE_TUNED_CHOICE,
            repeats=2,
            api_name="/compare",
        )
        text = page_text(url)
    finally:
        demo.close()
    assert "Not every model" not in text and "top K=2, bottom K=2" in text  # every model loaded; no notice
    assert result["compact"]["name"] == "shrunk-top-2" and result["teacher"]["name"] == "teacher"
    assert set(result["teacher"]["probabilities"]) == set(LABELS)
    data = json.loads(manifest.read_text())
    models = [data["teacher"], *data["entries"]]
    for entry in models:  # each model came from the stand-in, at its pinned commit
        assert hub.requests_matching("HEAD", f"/{entry['source']}/resolve/{entry['revision']}/model.safetensors")
        assert hub.requests_matching("GET", f"/{entry['source']}/resolve/{entry['revision']}/config.json")
    assert len(hub.requests_matching("GET", "/lfs/", server="cdn")) == len(models)  # each one's weights, via the CDN


def test_a_repository_missing_from_the_hub_is_named_on_the_page(manifest, hub, page):
    hub.api.delete_repo("org/shrunk-top-2")
    demo = create_demo(str(manifest), dtype="fp32")
    try:
        url = serve(demo)
        page.goto(url)
        notice = page.locator("#zoo-problems")
        notice.wait_for(timeout=60_000)
        text = notice.inner_text()
        assert "shrunk-top-2" in text and "org/shrunk-top-2" in text and "could not be loaded" in text
        assert "shrunk-bottom-2" not in text and "teacher" not in text
        client = Client(url, verbose=False)  # the rest of the zoo still answers
        result = client.predict("a boring film", "bottom", 2, FINE_TUNED_CHOICE, 2, api_name="/compare")
        assert result["compact"]["name"] == "shrunk-bottom-2"
        with pytest.raises(Exception, match="no fine-tuned model for top K=2"):
            client.predict("a boring film", "top", 2, FINE_TUNED_CHOICE, 2, api_name="/compare")
    finally:
        demo.close()


def test_a_missing_teacher_gives_a_page_that_says_why(manifest, hub):
    data = json.loads(manifest.read_text())
    data["teacher"]["revision"] = "0" * 40  # a commit the repository never had
    manifest.write_text(json.dumps(data))
    demo = create_demo(str(manifest), dtype="fp32")
    try:
        url = serve(demo)
        text = page_text(url)
        status = Client(url, verbose=False).predict(api_name="/status")  # a client polling it learns why
    finally:
        demo.close()
    assert "the demo cannot start" in text and "**teacher**: org/teacher at revision 000000000000" in text
    assert status["ready"] is False and list(status["problems"]) == ["teacher"]
    assert status["message"].startswith("the demo cannot start: teacher: org/teacher at revision 000000000000")


@contextlib.contextmanager
def building_app(monkeypatch, tmp_path, zoo_dir, state: dict, **serve_options):
    """`serve` with no manifest and an empty cache, whose build of the default zoo stands in for minutes of training:
    it sets its progress to `state` (done, total, current) and waits for `release`; yields (url, release, thread, the
    progress objects the build was handed, once it runs). Everything is stopped afterwards."""
    import gradio

    import compactbert.demo as demo_module

    release, seen = threading.Event(), []

    def slow_build(cache_dir=None, settings=None, log=print, progress=None):
        for name, value in state.items():
            setattr(progress, name, value)
        seen.append(progress)
        assert release.wait(120)
        return zoo_dir

    monkeypatch.setattr(demo_module, "ensure_default_zoo", slow_build)
    port = free_port()
    options = dict(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    thread = threading.Thread(
        target=demo_module.serve,
        kwargs=dict(cache_dir=tmp_path / "empty-cache", dtype="fp32", manifest=tmp_path / "none.json")
        | serve_options
        | options,
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/", release, thread, seen
    finally:
        release.set()
        thread.join(120)
        gradio.close_all()


def test_without_a_manifest_the_page_says_it_is_building_until_the_demo_replaces_it(
    tiny_zoo_dir, tmp_path, monkeypatch, page
):
    with building_app(monkeypatch, tmp_path, tiny_zoo_dir, {"done": 3, "total": 10}, reload_seconds=2) as (
        url,
        release,
        thread,
        _,
    ):
        _wait_for(lambda: page_text(url))
        page.goto(url)  # a visitor arrives while the zoo builds
        building = page.locator("#building")
        building.wait_for(timeout=60_000)
        assert "building the model zoo" in building.inner_text() and FIRST_BUILD in building.inner_text()
        assert "Building for" in page.locator("#building-status").inner_text()
        page.get_by_text("3 of 10 models done").wait_for(timeout=30_000)  # how far the build is, as it goes
        release.set()
        thread.join(120)
        assert not thread.is_alive()
        # the same page, never navigated by hand, turns into the demo (it reloads itself)
        page.locator("#compare-button").wait_for(timeout=60_000)
        assert page.locator("#building").count() == 0
        result = Client(url, verbose=False).predict("the team win the game", api_name="/compare")
        assert result["teacher"]["name"] == "teacher"


def test_while_the_zoo_builds_the_api_says_so_instead_of_not_knowing_compare(tiny_zoo_dir, tmp_path, monkeypatch):
    """A `gradio_client` user calling `/compare` during the first build is told the models are still building, how
    far and since when (not "Cannot find a function with api_name"); `/status` says the same as data, and says ready
    once the demo has replaced the building app (a new `Client`: one keeps the endpoints of the app it met)."""
    progress = {"done": 2, "total": 10, "current": "shrunk-bottom-3"}  # 2 of 10 models trained so far
    with building_app(monkeypatch, tmp_path, tiny_zoo_dir, progress) as (url, release, thread, seen):
        client = _wait_for(lambda: Client(url, verbose=False))
        _wait_for(lambda: seen[0])
        with pytest.raises(Exception, match=r"models are still building \(2 of 10 models done; since \d\d:\d\d UTC"):
            client.predict("the team win the game", api_name="/compare")
        with pytest.raises(Exception, match="still building"):  # the demo's parameters, by name
            client.predict("a film", strategy="bottom", num_drop=2, model=FINE_TUNED_CHOICE, api_name="/compare")
        status = client.predict(api_name="/status")
        assert status["ready"] is False and (status["models_done"], status["models_total"]) == (2, 10)
        assert status["building"] == "shrunk-bottom-3" and status["since"].endswith("Z") and status["seconds"] >= 0
        release.set()
        thread.join(120)
        assert not thread.is_alive()
        ready = Client(url, verbose=False)
        assert ready.predict(api_name="/status")["ready"] is True
        assert ready.predict("the team win the game", api_name="/compare")["teacher"]["name"] == "teacher"


def _wait_for(read, seconds: float = 60):
    deadline = time.time() + seconds
    while True:
        try:
            return read()
        except (httpx.HTTPError, ValueError, KeyError, IndexError):
            if time.time() > deadline:
                raise
            time.sleep(0.2)
