"""The launched app through `gradio_client`: the named `compare` endpoint, its errors, and a load test."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from compactbert.demo import FINE_TUNED_CHOICE, NOT_RETRAINED
from compactbert.demo.compare import MAX_TEXT_CHARS

from support.demo import LABELS


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
    assert list(info["named_endpoints"]) == ["/compare"]  # the drawing step and the slider update are private
    check_result(client.predict("the team win the game", api_name="/compare"), "top", 3, NOT_RETRAINED)


def test_compare_endpoint_with_every_input(app_url):
    client = Client(app_url, verbose=False)
    result = client.predict(
        text="a boring film",
        strategy="bottom",
        num_drop=2,
        model=FINE_TUNED_CHOICE,
        repeats=3,
        api_name="/compare",
    )
    check_result(result, "bottom", 2, FINE_TUNED_CHOICE)
    assert result["compact"]["name"] == "shrunk-bottom-2" and result["repeats"] == 3


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
