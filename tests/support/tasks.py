"""A tiny labelled task that a tiny BERT learns in a few steps (fine-tuning and distillation tests)."""

import csv
import random
from pathlib import Path

from support.helpers import WORDS

POSITIVE, NEGATIVE = ["good", "great", "funny", "win"], ["bad", "awful", "boring", "lose"]
NEUTRAL = [w for w in WORDS if w not in POSITIVE + NEGATIVE]


def write_sentiment_csv(path: Path, n: int = 240, seed: int = 0) -> Path:
    """A keyword task a tiny BERT learns in a few steps: one sentiment word among neutral ones."""
    rng = random.Random(seed)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for i in range(n):
            label = i % 2
            words = rng.sample(NEUTRAL, 5) + [rng.choice(POSITIVE if label else NEGATIVE)]
            rng.shuffle(words)
            writer.writerow([" ".join(words), "positive" if label else "negative"])
    return path
