"""A real headless browser (Debian chromium through Playwright, no browser download; the `page` fixture is in
conftest.py) drives the page."""

from __future__ import annotations

import json
import re

import pytest

from support.scripts import load_script


def test_pick_a_strategy_type_click_and_see_both_predictions_and_the_latency_chart(app_url, page, tmp_path):
    page.goto(app_url)
    page.locator("#strategy input").click()
    page.get_by_role("option", name="bottom", exact=True).click()
    assert page.locator("#strategy input").input_value() == "bottom"
    page.locator("#text textarea").fill("the team win the game")
    page.locator("#compare-button").click()

    summary = page.locator("#summary")
    summary.get_by_text("the compact model is").wait_for(timeout=60_000)
    # K starts at the zoo's fine-tuned K (2 here): bottom drops layers 0 and 1
    assert (
        "Teacher (6 layers" in summary.inner_text()
        and "compact: teacher minus 2 layers (bottom), not retrained (4 layers, kept [2, 3, 4, 5]"
        in summary.inner_text()
    )
    for side in ("#teacher-label", "#compact-label"):
        text = page.locator(side).inner_text()
        assert any(label in text for label in ("sport", "music", "news")), text
    chart = page.locator("#latency-plot img")
    chart.wait_for(timeout=30_000)
    assert chart.bounding_box()["height"] > 100
    screenshot = tmp_path / "demo.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000

    # scripts/demo_screenshot.py records the figures of this very line, as the browser shows it, for the docs' caption
    shot = load_script("demo_screenshot")
    choice = {"strategy": "bottom", "drop": 3, "model": "dropped, not retrained", "example": 0}
    recorded = shot.record(tmp_path / "record", "a-zoo", 7.31, summary.inner_text(), choice, str(screenshot))
    on_page = re.search(r"Latency ([\d.]+) ms vs ([\d.]+) ms", summary.inner_text())
    assert recorded["latency_ms"] == {"teacher": float(on_page[1]), "compact": float(on_page[2])}
    assert recorded["repeats"] >= 1 and recorded["speedup"] > 0 and recorded["runtime"].startswith("PyTorch")
    assert recorded["ready_seconds"] == 7.3 and recorded["choice"] == choice and "(" in recorded["machine"]
    assert json.loads((tmp_path / "record" / "results.json").read_text()) == recorded
    assert summary.inner_text() in (tmp_path / "record" / "README.md").read_text()
    with pytest.raises(ValueError, match="no latency figures"):
        shot.summary_figures("Teacher (6 layers): sport")


def test_an_entry_of_its_own_greys_out_strategy_and_k_and_is_listed(app_url, page):
    page.goto(app_url)
    header = page.get_by_text("Other students in this zoo")
    header.wait_for(timeout=30_000)
    assert "tinybert-2-pruned" in page.content() and "a stand-in distilled student" in page.content()
    assert "albert-sop-e8-share-all (converted, albert_sop): a stand-in converted student" in page.inner_text("body")
    strategy, slider = page.locator("#strategy input"), page.get_by_role("spinbutton").first
    assert strategy.is_enabled() and slider.is_enabled()
    page.get_by_label("tinybert-2-pruned").check()
    page.wait_for_function("document.querySelector('#strategy input').disabled", timeout=30_000)
    assert strategy.is_disabled() and slider.is_disabled()
    page.locator("#text textarea").fill("the team win the game")
    page.locator("#compare-button").click()
    summary = page.locator("#summary")
    summary.get_by_text("the compact model is").wait_for(timeout=60_000)
    assert "compact: tinybert-2-pruned (2 layers, kept [0, 3], hidden 16," in summary.inner_text()
    page.get_by_label("dropped, not retrained").check()  # back to a drop strategy: both apply again
    page.wait_for_function("!document.querySelector('#strategy input').disabled", timeout=30_000)
    assert slider.is_enabled()


def test_the_page_says_what_a_first_use_waits_for(tiny_zoo_dir, page, tmp_path, monkeypatch):
    """A model exported on its first use (here slowed down to a few seconds, as an int8 quantization is) is said in a
    notice while the page waits."""
    import time

    from compactbert.demo import create_demo, launch
    from compactbert.demo.compare import Comparer

    from support.demo import free_port

    make = Comparer._make
    monkeypatch.setattr(Comparer, "_make", lambda self, key: time.sleep(4) or make(self, key))
    monkeypatch.setenv("COMPACTBERT_CACHE", str(tmp_path / "cache"))
    demo = create_demo(str(tiny_zoo_dir), dtype="fp32")
    _, url, _ = launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        page.goto(url)
        page.locator("#text textarea").fill("the team win the game")
        page.get_by_label("onnxruntime", exact=True).check()  # not onnxruntime-int8
        page.locator("#compare-button").click()
        notice = "teacher minus 2 layers (top), not retrained: preparing it for onnxruntime (exported the first time"
        page.get_by_text(notice).wait_for(timeout=60_000)
        page.locator("#summary").get_by_text("the compact model is").wait_for(timeout=60_000)
    finally:
        demo.close()


def test_the_page_shows_which_student_for_which_speed(app_url, page):
    page.goto(app_url)
    page.get_by_text("Which student for which speed").wait_for(timeout=30_000)
    plot = page.locator("#frontier-plot img")
    plot.wait_for(timeout=30_000)
    assert plot.bounding_box()["height"] > 100  # the pruning study's frontier, shipped with the package


def test_another_picture_must_not_overwrite_the_docs_record(monkeypatch, capsys):
    """The committed record describes the committed screenshot: a picture elsewhere needs a --record of its own."""
    shot = load_script("demo_screenshot")
    monkeypatch.setattr("sys.argv", ["demo_screenshot.py", "--output", "/tmp/other.png"])
    with pytest.raises(SystemExit) as exit_:
        shot.main()
    assert exit_.value.code == 2
    assert "--output /tmp/other.png needs a --record folder of its own" in capsys.readouterr().err
