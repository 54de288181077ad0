"""Word vectors for TinyBERT augmentation: a GloVe-format file or a masked LM's input-embedding table, with a cosine
nearest-neighbour lookup (used for words of several word pieces, which a masked LM cannot predict in one piece)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm


def whole_word(token: str) -> bool:
    """A vocabulary entry that is a word by itself: alphabetic, not a continuation piece (`##ing`), not `[CLS]`."""
    return token.isalpha()


class WordVectors:
    """Unit-normalised word vectors with a cosine nearest-neighbour lookup.

    Build with [`from_glove`] (a GloVe-format text file) or [`from_embeddings`] (an MLM's input-embedding table).
    """

    def __init__(self, words: Sequence[str], vectors: torch.Tensor, source: str):
        if len(words) != vectors.shape[0] or len(words) < 2:
            raise ValueError(f"word vectors from {source}: need at least 2 words, one vector each")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.matrix = torch.nn.functional.normalize(vectors.float(), dim=-1)  # (words, dim)
        self.source = source
        self.fingerprint = hashlib.sha256(self.matrix.numpy().tobytes() + "\n".join(self.words).encode()).hexdigest()
        self._neighbours: dict[str, list[str]] = {}

    @classmethod
    def from_glove(cls, path: str | os.PathLike, lowercase: bool = True) -> WordVectors:
        """Read `word v1 v2 ... vd` lines (a word2vec-style `count dim` first line is skipped).

        Only alphabetic words are kept (the candidates must be words). With `lowercase`, words are lowercased and
        the first vector of each lowercased word wins, matching uncased tokenizers.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"GloVe file {path} does not exist")
        words, rows, seen, dim = [], [], set(), None
        with path.open(encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(tqdm(f, desc=f"reading {path.name}", unit=" words"), start=1):
                parts = line.rstrip().split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue  # word2vec header: "count dim"
                if len(parts) < 2:
                    continue
                if dim is None:
                    dim = len(parts) - 1
                if len(parts) - 1 != dim:
                    raise ValueError(
                        f"{path}:{number}: expected a word and {dim} numbers (as on the first line), got {len(parts) - 1}"
                    )
                word = parts[0].lower() if lowercase else parts[0]
                if not word.isalpha() or word in seen:
                    continue
                try:
                    rows.append(np.asarray(parts[1:], dtype=np.float32))
                except ValueError:
                    raise ValueError(f"{path}:{number}: not a GloVe line (a word followed by numbers)") from None
                words.append(word)
                seen.add(word)
        if len(words) < 2:
            raise ValueError(f"GloVe file {path} holds fewer than 2 alphabetic words; expected 'word v1 ... vd' lines")
        return cls(words, torch.from_numpy(np.stack(rows)), f"GloVe {path}")

    @classmethod
    def from_embeddings(cls, model, tokenizer) -> WordVectors:
        """The whole-word entries of the model's input-embedding table (alphabetic, no `##` pieces, no specials)."""
        table = model.get_input_embeddings().weight.detach().cpu()
        vocab = tokenizer.get_vocab()
        special = set(tokenizer.all_special_ids)
        ids = sorted(i for t, i in vocab.items() if whole_word(t) and i not in special and i < table.shape[0])
        id_to_token = {i: t for t, i in vocab.items()}
        return cls([id_to_token[i] for i in ids], table[ids], "the MLM's input embeddings")

    def neighbours(self, word: str, vector: torch.Tensor | None, k: int) -> list[str]:
        """The `k` nearest words to `word` by cosine (never the word itself), nearest first.

        `vector` is the query (e.g. the mean of the word's piece embeddings); when `None` the word's own vector in
        this table is used, and a word the table does not hold has no neighbours.
        """
        key = word if vector is not None else word.lower()  # a query vector is the word's own, case and all
        if key in self._neighbours:
            return self._neighbours[key]
        if vector is None:
            row = self.index.get(key, self.index.get(word))
            if row is None:
                self._neighbours[key] = []
                return []
            vector = self.matrix[row]
        scores = self.matrix @ torch.nn.functional.normalize(vector.float(), dim=-1)  # (words,)
        order = torch.topk(scores, min(k + 2, len(self.words))).indices.tolist()
        found = [self.words[i] for i in order if self.words[i].lower() != word.lower()][:k]
        self._neighbours[key] = found
        return found


__all__ = ["WordVectors", "whole_word"]
