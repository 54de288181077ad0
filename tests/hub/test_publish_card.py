"""`compactbert publish` renders each card again for the repository it goes to: a built entry keeps everything its
build put in the card (recipe fields, the comparison with its source, the plot); only the repository changes."""

from compactbert.hub.card import render_card_for_repo, written_unedited

from support.zoo import REPO_ID


def test_a_built_entry_keeps_its_card_and_names_the_repository_it_is_published_to(built):
    original = (built / "README.md").read_text()
    card = render_card_for_repo(built, "my-org/renamed")
    assert 'from_pretrained("my-org/renamed"' in card and "my-org/renamed" not in original
    assert "## Latency" in card and "accuracy_latency.png" in card and "tiny sentiment" in card
    renamed_back = card.replace("my-org/renamed", REPO_ID).replace("renamed", REPO_ID.split("/")[1])
    assert unmarked(renamed_back) == unmarked(original)  # all but the hash of what was written, which names the repo
    assert written_unedited(card) and written_unedited(original)


def unmarked(card: str) -> str:
    """A card without the last line that says compactbert wrote it (and the hash of what it wrote)."""
    return card.rsplit("\n<!-- written by compactbert; sha256 ", 1)[0]
