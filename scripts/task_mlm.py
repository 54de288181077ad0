"""A masked language model for TinyBERT's data augmentation where no pre-trained MLM head is at hand: the MiniLM
encoder (the built-in all-MiniLM-L6-v2, which ships without its MLM head) with BERT's MLM head, its decoder tied to
the word embeddings, trained on a task's training texts (1 epoch, 15% of the tokens masked, the whole model).

The paper augments with BERT-base's MLM; none is reachable offline here, so this is a stand-in, and its quality is
measured, not assumed: held-out masked-token accuracy (top-1 and top-15, the K the augmentation samples from) on the
task's validation texts, before (the random head) and after training, with one fixed mask per text.

    python scripts/task_mlm.py --task rotten-tomatoes --output /work/study/mlm-rotten-tomatoes \
        --out docs/results/augment_mlm
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch
from transformers import (
    BertForMaskedLM,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainingArguments,
)

from compactbert.assets import builtin_model_path
from compactbert.checkpoints import load_tokenizer
from compactbert.data import load_task
from compactbert.hardware import cpu_description, native_bf16

MASK_RATE = 0.15
TRAINING = {"num_train_epochs": 1, "learning_rate": 2e-4, "batch_size": 32, "max_length": 128, "warmup": 0.1}


def masked_accuracy(model, tokenizer, texts: list[str], k: int = 15, seed: int = 0, batch_size: int = 64) -> dict:
    """Top-1 and top-`k` accuracy at masked positions: 15% of each text's non-special tokens (at least one) replaced
    by [MASK], drawn with `seed` so every model is scored on the same masks."""
    generator = torch.Generator().manual_seed(seed)
    hits1 = hitsk = total = 0
    model.eval()
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(
            texts[start : start + batch_size],
            truncation=True,
            max_length=TRAINING["max_length"],
            padding=True,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )
        special = enc.pop("special_tokens_mask").bool() | ~enc["attention_mask"].bool()
        chosen = (torch.rand(enc["input_ids"].shape, generator=generator) < MASK_RATE) & ~special
        for row in range(chosen.shape[0]):  # at least one masked token per text
            if not chosen[row].any():
                candidates = (~special[row]).nonzero().flatten()
                if len(candidates):
                    chosen[row, candidates[torch.randint(len(candidates), (1,), generator=generator)]] = True
        targets = enc["input_ids"][chosen]
        enc["input_ids"] = enc["input_ids"].masked_fill(chosen, tokenizer.mask_token_id)
        with torch.inference_mode():
            logits = model(**enc).logits[chosen]
        top = logits.topk(k, dim=-1).indices
        hits1 += int((top[:, 0] == targets).sum())
        hitsk += int((top == targets[:, None]).any(-1).sum())
        total += len(targets)
    return {"masked_tokens": total, "top1": hits1 / total, f"top{k}": hitsk / total}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="rotten-tomatoes")
    parser.add_argument("--output", required=True, help="where the trained BertForMaskedLM and its tokenizer go")
    parser.add_argument("--out", default="docs/results/augment_mlm", help="where results.json goes")
    parser.add_argument("--limit", type=int, help="only the first N training and validation texts (a quick check)")
    args = parser.parse_args(argv)

    source = builtin_model_path("minilm")
    tokenizer = load_tokenizer(source)
    torch.manual_seed(0)
    model = BertForMaskedLM.from_pretrained(source)  # the encoder's weights; the MLM head starts random
    dataset, _ = load_task(args.task)
    if args.limit:
        dataset = {name: split.select(range(min(args.limit, len(split)))) for name, split in dataset.items()}
    validation = list(dataset["validation"]["text"])
    before = masked_accuracy(model, tokenizer, validation)
    print(f"untrained head: {before}", flush=True)

    train = dataset["train"].map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=TRAINING["max_length"]),
        batched=True,
        remove_columns=dataset["train"].column_names,
    )
    bf16 = native_bf16()
    training_args = TrainingArguments(
        output_dir=str(Path(args.output).with_name(Path(args.output).name + "-run")),
        num_train_epochs=TRAINING["num_train_epochs"],
        learning_rate=TRAINING["learning_rate"],
        per_device_train_batch_size=TRAINING["batch_size"],
        warmup_steps=TRAINING["warmup"],
        weight_decay=0.01,
        bf16=bf16,
        use_cpu=not torch.cuda.is_available(),
        logging_steps=50,
        save_strategy="no",
        report_to="none",
        seed=0,
    )
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=MASK_RATE)
    started = time.perf_counter()
    Trainer(model=model, args=training_args, train_dataset=train, data_collator=collator).train()
    seconds = time.perf_counter() - started
    after = masked_accuracy(model, tokenizer, validation)
    print(f"trained: {after} ({seconds:.0f} s)", flush=True)

    model.save_pretrained(args.output)
    tokenizer.save_pretrained(args.output)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "command": "python scripts/task_mlm.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "task": args.task,
        "source": "minilm (all-MiniLM-L6-v2, built in)",
        "training": TRAINING | {"mask_rate": MASK_RATE, "examples": len(train), "bf16_autocast": bf16},
        "train_seconds": seconds,
        "machine": f"{torch.get_num_threads()} threads, {cpu_description()}",
        "validation_masked_accuracy": {"untrained_head": before, "trained": after},
    }
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output} and {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
