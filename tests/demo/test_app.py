"""The launched app through `gradio_client`: the named `compare` endpoint, its errors, and a load test."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from compactbert.demo import FINE_TUNED_CHOICE, NOT_RETRAINED
from compactbert.demo.compare import MAX_TEXT_CHARS

from support.demo import LABELS, OTHER_ENTRIES, free_port
from support.scripts import load_script


def check_result(result: dict, strategy: str, num_drop: int, model: str) -> None:
    for side in ("teacher", "compact"):
        assert set(result[side]["probabilities"]) == set(LABELS)
        assert sum(result[side]["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert result[side]["label"] == max(result[side]["probabilities"], key=result[side]["probabilities"].get)
        assert result[side]["latency_ms"]["median"] > 0
    assert result["compact"]["strategy"] == strategy
    assert result["compact"]["num_layers"] == 6 - num_drop and result["compact"]["model"] == model


def test_compare_endpoint_takes_just_a_text(app_url):
    client = Client(app_url, verbose=False)
    info = client.view_api(print_info=False, return_format="dict")
    parameters = info["named_endpoints"]["/compare"]["parameters"]
    assert parameters[0]["parameter_name"] == "text" and not parameters[0]["parameter_has_default"]
    assert all(p["parameter_has_default"] for p in parameters[1:])
    names = ["text", "strategy", "num_drop", "model", "repeats", "runtime"]
    assert [p["parameter_name"] for p in parameters] == names
    assert list(info["named_endpoints"]) == ["/compare", "/status"]  # drawing and the slider update are private
    assert client.predict(api_name="/status")["ready"] is True  # what the building app's `status` turns into
    result = client.predict("the team win the game", api_name="/compare")
    check_result(result, "top", 2, NOT_RETRAINED)  # the defaults: the zoo's first fine-tuned strategy and K
    assert result["runtime"] == "torch"  # the demo's backend unless the request names another


def test_compare_endpoint_with_every_input(app_url):
    client = Client(app_url, verbose=False)
    result = client.predict(
        text="a boring film",
        strategy="bottom",
        num_drop=2,
        model=FINE_TUNED_CHOICE,
        repeats=3,
        runtime="onnxruntime",
        api_name="/compare",
    )
    check_result(result, "bottom", 2, FINE_TUNED_CHOICE)
    assert result["compact"]["name"] == "shrunk-bottom-2" and result["repeats"] == 3
    assert (result["runtime"], result["dtype"]) == ("onnxruntime", "float32")  # both models exported, then run


def test_compare_endpoint_runs_entries_of_other_families(app_url):
    """A pruned TinyBert, a distilled student and a converted Albert-SOP are choices of their own: no strategy or K,
    their own layers."""
    client = Client(app_url, verbose=False)
    for name, (_, _, kept, hidden) in OTHER_ENTRIES.items():
        result = client.predict(text="the team win the game", model=name, repeats=2, api_name="/compare")
        check_result(result, None, 6 - len(kept), name)
        # an Albert-SOP keeps no teacher layers: one shared layer runs once per teacher layer
        assert result["compact"]["name"] == name
        assert result["compact"]["kept_layers"] == (None if name.startswith("albert-sop") else kept)
        assert result["compact"]["hidden_size"] == hidden and result["compact"]["num_drop"] is None


def test_summary_names_an_entry_of_its_own_and_its_width(tiny_zoo_dir):
    from compactbert.demo import Comparer, load_zoo
    from compactbert.demo.describe import entry_line
    from compactbert.demo.ui import summary_markdown

    comparer = Comparer(load_zoo(tiny_zoo_dir), dtype="fp32")
    comparer.zoo.teacher.metrics["test_accuracy"] = 0.8  # the tiny zoo's teacher records none
    pruned = comparer.compare("the team win the game", model="tinybert-2-pruned", repeats=1)
    assert "· compact: tinybert-2-pruned (2 layers, kept [0, 3], hidden 16, " in summary_markdown(pruned)
    # the test accuracies the zoo records, and the share kept: what the compact model costs, beside what it saves
    assert (pruned["teacher"]["test_accuracy"], pruned["compact"]["test_accuracy"]) == (0.8, 0.5)
    assert summary_markdown(pruned).endswith(
        " Test accuracy as the zoo records it: 50.0% vs the teacher's 80.0%, **62.5% kept**."
    )
    dropped = comparer.compare("the team win the game", "bottom", 2, repeats=1)
    shown = "· compact: teacher minus 2 layers (bottom), not retrained (4 layers, kept [2, 3, 4, 5], "
    assert shown in summary_markdown(dropped)  # as wide as the teacher
    assert dropped["compact"]["test_accuracy"] is None and "Test accuracy" not in summary_markdown(dropped)
    tuned = comparer.compare("the team win the game", "bottom", 2, FINE_TUNED_CHOICE, repeats=1)
    assert "· compact: shrunk-bottom-2 (4 layers, kept [2, 3, 4, 5], " in summary_markdown(tuned)  # told apart
    assert tuned["compact"]["test_accuracy"] is None  # this zoo records none for it: nothing is said
    entry = comparer.other_entries()[0]
    assert entry_line(entry) == (
        f"**tinybert-2-pruned** (pruned, `tiny_bert`): a stand-in pruned student (2 layers, "
        f"{entry.num_parameters:,} parameters, test accuracy 50.0%)"
    )
    # a converted Albert-SOP: E and what its layers share instead of kept teacher layers, as wide as the teacher
    albert = comparer.compare("the team win the game", model="albert-sop-e8-share-all", repeats=1)
    assert "· compact: albert-sop-e8-share-all (6 layers, sharing all, E 8, " in summary_markdown(albert)
    assert "kept" not in summary_markdown(albert).split("·")[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, f"at most {MAX_TEXT_CHARS:,}"),
        ({"text": "ok", "model": "/etc/passwd"}, "not in the list of choices"),  # refused by the Radio itself
        ({"text": "ok", "repeats": 1000}, "greater than maximum value 30"),  # refused by the Slider
        ({"text": "ok", "strategy": "even-alternate", "num_drop": 4}, "can drop 1 to 3"),
    ],
)
def test_bad_input_comes_back_as_a_clear_error(app_url, kwargs, message):
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match=message):
        client.predict(**kwargs, api_name="/compare")


def test_twenty_concurrent_clients_five_requests_each_all_answered(app_url):
    strategies = ["top", "bottom", "symmetric", "even-alternate", "odd-alternate", "contribution"]

    def session(i: int) -> list[dict]:
        client = Client(app_url, verbose=False)
        answers = []
        for j in range(5):
            strategy = strategies[(i + j) % len(strategies)]
            answers.append(
                client.predict(f"the team win the game {i} {j}", strategy, 2, NOT_RETRAINED, 2, api_name="/compare")
            )
        return answers

    with ThreadPoolExecutor(max_workers=20) as pool:
        sessions = list(pool.map(session, range(20)))
    answers = [a for s in sessions for a in s]
    assert len(answers) == 100
    for i, session_answers in enumerate(sessions):
        for j, answer in enumerate(session_answers):
            check_result(answer, strategies[(i + j) % len(strategies)], 2, NOT_RETRAINED)


def test_the_page_names_the_runtime_that_timed_both_models():
    from compactbert.demo.ui import runtime_name

    assert runtime_name({"runtime": "openvino-int8", "dtype": "int8 + bfloat16"}) == "OpenVINO, int8 + bfloat16"
    assert runtime_name({"runtime": "onnxruntime", "dtype": "float32"}) == "ONNX Runtime, float32"
    assert runtime_name({"dtype": "bfloat16"}) == "PyTorch, bfloat16"  # saved before runtimes were recorded
    assert runtime_name({"runtime": None, "dtype": "float32"}) == "PyTorch, float32"


def test_a_compact_model_slower_than_its_teacher_is_called_slower():
    from compactbert.demo.ui import latency_figure, speed_words, summary_markdown

    assert (speed_words(1.85), speed_words(1.0), speed_words(0.84)) == ("1.85x faster", "1.00x faster", "1.19x slower")
    side = {"num_layers": 6, "num_parameters": 10, "hidden_size": 32, "label": "a", "name": "x", "kept_layers": [0]}
    result = {
        "teacher": side | {"latency_ms": {"median": 8.1, "min": 8.0, "max": 8.3}},
        "compact": side | {"latency_ms": {"median": 9.7, "min": 9.5, "max": 9.9}, "strategy": None},
        "speedup": 8.1 / 9.7, "repeats": 3, "agree": True, "runtime": "torch", "dtype": "float32",
    }  # fmt: skip
    assert "the compact model is **1.20x slower**." in summary_markdown(result)
    assert latency_figure(result).axes[0].get_title().startswith("1.20x slower, 3 interleaved runs")
    # the screenshot script reads the line as the page shows it (no Markdown): a slower model's speedup is under 1
    shown = load_script("demo_screenshot").summary_figures(summary_markdown(result).replace("**", ""))
    assert shown["speedup"] == 0.83 and shown["latency_ms"] == {"teacher": 8.1, "compact": 9.7}


def test_the_page_says_what_a_first_use_waits_for(tiny_zoo_dir, tmp_path, monkeypatch):
    """The endpoint says a model's first use (an export, an int8 quantization: the wording of each is tested with
    `Comparer`) in a gradio notice while it runs; gradio_client sees it in the job's log."""
    import gradio as gr

    from compactbert.demo import Comparer, load_zoo
    from compactbert.demo.ui import build_demo

    shown = []
    monkeypatch.setattr(gr, "Info", shown.append)
    monkeypatch.setenv("COMPACTBERT_CACHE", str(tmp_path / "cache"))
    demo = build_demo(Comparer(load_zoo(tiny_zoo_dir), dtype="fp32"))
    compare = next(f.fn for f in demo.fns.values() if f.api_name == "compare")
    compare("the team win", "top", 2, FINE_TUNED_CHOICE, 1, "onnxruntime")
    exporting = "preparing it for onnxruntime (exported the first time; cached after)"
    assert shown == [f"teacher: {exporting}", f"shrunk-top-2: {exporting}"]


def test_a_model_folder_gone_while_serving_is_said_on_the_page(zoo):
    """A cache cleared under a serving demo: the next compare says which entry is missing, as a page error."""
    import shutil

    from compactbert.demo import create_demo, launch

    demo = create_demo(str(zoo), dtype="fp32")
    _, url, _ = launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        shutil.rmtree(zoo / "distilled-3")
        with pytest.raises(Exception, match="zoo entry 'distilled-3': .* is neither a folder of the zoo nor a Hub id"):
            Client(url, verbose=False).predict(text="the team win", model="distilled-3", api_name="/compare")
    finally:
        demo.close()
