"""compactbert.checkpoints: what a model source that is not there is called (a local folder with a typo, or a Hub id)."""

import pytest

from compactbert.checkpoints import resolve_model_folder


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A working folder with `runs/teacher/` and `runs/distilled/`, as the user's current directory."""
    for name in ("teacher", "distilled"):
        (tmp_path / "runs" / name).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def test_a_typo_in_a_local_folder_names_the_folders_beside_it(runs, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline, a two-part path is also looked up as a Hub id, and not found
    with pytest.raises(FileNotFoundError) as err:
        resolve_model_folder("runs/teachr")
    message = str(err.value)
    assert message.startswith("model folder runs/teachr does not exist (did you mean runs/teacher?); runs holds: ")
    assert "teacher, distilled" in message and "As a Hub repo id it could not be fetched either" in message
    assert "HF_HUB_OFFLINE=0" not in message  # the network is not the problem
    with pytest.raises(FileNotFoundError, match=r"runs/teacher/modle does not exist; runs/teacher holds: no folders"):
        resolve_model_folder("runs/teacher/modle")  # three parts: not a Hub id at all


def test_a_hub_id_whose_namespace_is_no_local_folder_is_still_a_hub_question(runs, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        FileNotFoundError, match="'some-org/model' is not a local folder, and fetching it from the Hub"
    ):
        resolve_model_folder("some-org/model")


def test_online_a_typo_in_a_local_folder_is_named_as_such_not_as_a_missing_hub_repo(runs, hub):
    with pytest.raises(FileNotFoundError) as err:
        resolve_model_folder("runs/teachr")
    assert str(err.value).startswith("model folder runs/teachr does not exist (did you mean runs/teacher?)")
    assert str(err.value).endswith("(Nor is it a model repo on the Hub.)")
    assert hub.requests_matching(None, "runs/teachr")  # it was looked up on the (stand-in) Hub first
