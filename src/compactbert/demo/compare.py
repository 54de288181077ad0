"""The comparison behind the demo: one text, the teacher against a compact model, predictions and latency.

`Comparer` holds a zoo and the models loaded from it. Every model it runs comes from the zoo (or is the zoo's
teacher with layers dropped), so nothing a page sends can name a path, a Hub id or remote code. Inputs are
checked and bounded here, not in the UI, so the named API endpoint gets the same limits as the page.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch

from ..export.formats import FORMATS, INT8_RUNTIME, INT8_RUNTIMES, RUNTIME_EXPORTS
from ..shrinking import STRATEGIES, select_layers, shrink
from .describe import droppable
from .manifest import FINE_TUNED, Zoo, ZooEntry

NOT_RETRAINED = "dropped, not retrained"
FINE_TUNED_CHOICE = "fine-tuned (zoo)"
MAX_TEXT_CHARS = 5000  # the models read 128 tokens (~600 characters) anyway; this bounds tokenizer work
MAX_REPEATS = 30
MAX_LENGTH = 128


def first_use(name: str, runtime: str) -> str | None:
    """What the page says while `name` is made ready for `runtime` on its first use in this process (an export made
    before, by this demo or another, is loaded from the cache instead); None on PyTorch, where that is quick."""
    if runtime == INT8_RUNTIME:  # NNCF's calibration: tens of seconds a model
        return (
            f"{name}: preparing it for {runtime} (exported and quantized to int8 the first time, which takes a while; "
            "cached after)"
        )
    if runtime in INT8_RUNTIMES:
        return (
            f"{name}: preparing it for {runtime} (exported and its weights quantized to int8 the first time; cached "
            "after)"
        )
    if runtime in RUNTIME_EXPORTS:
        return f"{name}: preparing it for {runtime} (exported the first time; cached after)"
    return None


def visible(text: str) -> bool:
    """Whether `text` holds anything to read: a character that is neither white space nor an invisible format
    character (a zero-width space, a soft hyphen), which a tokenizer reduces to nothing."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)


def installed_runtimes() -> list[str]:
    """What can run the demo's models here: `"torch"`, then each runtime backend whose packages are installed, then
    each int8 runtime whose quantizer is installed too (`"openvino-int8"`: NNCF beside OpenVINO; `"onnxruntime-int8"`:
    onnx beside ONNX Runtime)."""
    from ..export.backends import RUNTIME_ORDER
    from ..export.formats import RUNTIMES, kind_needs, missing_modules

    runtimes = ["torch", *(r for r in RUNTIME_ORDER if not missing_modules(RUNTIMES[r].export_needs))]
    return runtimes + [r for r in INT8_RUNTIMES if not missing_modules(kind_needs(*RUNTIME_EXPORTS[r]))]


class Comparer:
    """Runs comparisons over one zoo. Thread-safe: the page and the API may call it from several workers.

    Args:
        zoo: the loaded zoo (see `compactbert.demo.zoo`).
        dtype: passed to `compactbert.inference.load_for_inference` (`"auto"`: bf16 where the CPU has it natively).
        max_cached: how many compact models stay loaded (not-retrained ones are made on demand and cached).
        backend: what runs the models by default: `"torch"`, `"openvino"`, `"onnxruntime"` (exported on first use,
            see `compactbert.export`), or `"auto"`: the fastest installed one on the teacher whose predictions match
            PyTorch's (`load_for_inference(..., backend="auto")`; `backend_choice` says why). The teacher and the
            compact model of a comparison always run on the same one; `compare(..., runtime=...)` picks another of
            `runtime_choices` for one comparison, the int8 runtimes included (each model's graph quantized on first
            use: `load_for_inference(..., backend="openvino" or "onnxruntime", quantize="int8")`).
    """

    def __init__(self, zoo: Zoo, dtype: str = "auto", max_cached: int = 8, backend: str = "torch"):
        from ..inference import BACKENDS, load_for_inference

        if backend not in (*BACKENDS, *INT8_RUNTIMES):
            raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join([*BACKENDS, *INT8_RUNTIMES])}")
        self.zoo = zoo
        self.dtype = dtype
        self.max_cached = max_cached
        self._load = load_for_inference
        self.runtime_choices = installed_runtimes()
        if backend not in ("auto", *self.runtime_choices):
            hint = FORMATS[RUNTIME_EXPORTS[backend][0]].install_hint  # an int8 runtime: its format's extra
            raise ValueError(
                f"backend {backend!r} is not installed here (the runtimes available are "
                f"{', '.join(self.runtime_choices)}): {hint}"
            )
        self.teacher = self._load_on(backend, zoo.resolve(zoo.teacher), dtype=dtype)
        self.teacher.name = zoo.teacher.name
        self.backend = backend if backend in INT8_RUNTIMES else self.teacher.backend  # what `auto` chose
        self.backend_choice = self.teacher.backend_choice
        self._teachers = {self.backend: self.teacher}
        self.num_layers = int(self.teacher.config.num_hidden_layers)
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._teacher_fp32 = None
        self._lock = threading.Lock()
        # the teacher with layers dropped on demand: for a teacher `shrink` takes (a BERT or a ShrunkBert)
        self.can_drop = droppable(self.teacher.config.model_type, self.num_layers)
        # the strategies a choice may name: `contribution` needs the teacher's scores, which a zoo may not have
        self.strategies = [s for s in STRATEGIES if zoo.contributions or not STRATEGIES[s].needs_scores]
        others = [e.name for e in zoo.entries if e.kind != FINE_TUNED]  # other families: chosen by name
        fine_tuned = [FINE_TUNED_CHOICE] if self.fine_tuned_entries() else []
        self.model_choices = [*([NOT_RETRAINED] if self.can_drop else []), *fine_tuned, *others]
        if not self.model_choices:
            raise ValueError(
                f"the zoo has no compact model, and its teacher {zoo.teacher.name} (a "
                f"{self.teacher.config.model_type}) is not a model whose layers the demo can drop: add entries to "
                "compare with it"
            )
        # what the page shows first: a zoo's first fine-tuned strategy and K; a zoo of its own students (no
        # fine-tuned ones), its first student; else the teacher with the layers of that strategy dropped
        first = self.fine_tuned_entries()[0] if self.fine_tuned_entries() else None
        self.default_strategy = first.strategy if first else "top"
        self.default_drop = first.num_drop if first else min(3, self.max_drop("top"))
        own_first = others and not fine_tuned
        self.default_model = others[0] if own_first or not self.can_drop else NOT_RETRAINED
        if not self.can_drop and fine_tuned:
            self.default_model = FINE_TUNED_CHOICE

    def fine_tuned_entries(self) -> list[ZooEntry]:
        return [e for e in self.zoo.entries if e.kind == FINE_TUNED]

    def other_entries(self) -> list[ZooEntry]:
        """The zoo's other students (pruned, distilled, other families): chosen by name; no strategy or K applies."""
        return [e for e in self.zoo.entries if e.kind != FINE_TUNED]

    def max_drop(self, strategy: str) -> int:
        """The most layers `strategy` can drop from the teacher (always keeping one layer)."""
        return min(STRATEGIES[strategy].max_drop(self.num_layers), self.num_layers - 1)

    def check(self, text: str, strategy: str, num_drop: int, model: str, repeats: int) -> tuple[str, int, int]:
        """Validate the inputs; returns the stripped text, `num_drop` and `repeats` as ints. Raises ValueError."""
        if not isinstance(text, str) or not visible(text):
            raise ValueError("enter a text to classify (or pick one of the examples)")
        text = text.strip()
        if len(text) > MAX_TEXT_CHARS:
            raise ValueError(
                f"the text has {len(text):,} characters; the demo takes at most {MAX_TEXT_CHARS:,} "
                f"(the models read only the first {MAX_LENGTH} tokens, about 600 characters)"
            )
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; choose one of: {', '.join(self.strategies)}")
        if model == NOT_RETRAINED and strategy not in self.strategies:
            raise ValueError(
                f"the {strategy!r} strategy drops layers by the teacher's layer contribution scores, and this zoo has "
                f"none (`compactbert demo --teacher ... --task ...` scores them on the task's texts); choose one of: "
                f"{', '.join(self.strategies)}"
            )
        if model not in self.model_choices:
            raise ValueError(f"unknown model choice {model!r}; choose one of: {', '.join(self.model_choices)}")
        try:
            whole = int(num_drop) == num_drop and int(repeats) == repeats
        except (TypeError, ValueError, OverflowError):
            whole = False
        if not whole or isinstance(num_drop, bool) or isinstance(repeats, bool):
            raise ValueError(f"layers to drop and repeats must be whole numbers, got {num_drop!r}, {repeats!r}")
        num_drop, repeats = int(num_drop), int(repeats)
        if not 1 <= repeats <= MAX_REPEATS:
            raise ValueError(f"repeats must be between 1 and {MAX_REPEATS}, got {repeats}")
        if model == NOT_RETRAINED and not 1 <= num_drop <= self.max_drop(strategy):
            raise ValueError(
                f"strategy {strategy!r} can drop 1 to {self.max_drop(strategy)} of the teacher's {self.num_layers} "
                f"layers, got {num_drop}"
            )
        if model == FINE_TUNED_CHOICE and self.zoo.fine_tuned(strategy, num_drop) is None:
            have = ", ".join(f"{e.strategy} K={e.num_drop}" for e in self.fine_tuned_entries())
            raise ValueError(
                f"the zoo has no fine-tuned model for {strategy} K={num_drop}; it has: {have} "
                f"(or choose '{NOT_RETRAINED}', which works for any strategy and K)"
            )
        return text, num_drop, repeats

    def teacher_on(self, runtime: str, announce: Callable[[str], None] | None = None):
        """The teacher run by `runtime` (one of `runtime_choices`), loaded (and exported) on first use, which
        `announce` (when given) is told of first."""
        with self._lock:
            if runtime not in self._teachers:
                if announce and (message := first_use(self.zoo.teacher.name, runtime)):
                    announce(message)
                loaded = self._load_on(runtime, self.zoo.resolve(self.zoo.teacher), dtype=self.dtype)
                loaded.name = self.zoo.teacher.name
                self._teachers[runtime] = loaded
            return self._teachers[runtime]

    def compact_model(
        self,
        strategy: str,
        num_drop: int,
        model: str,
        runtime: str | None = None,
        announce: Callable[[str], None] | None = None,
    ):
        """The loaded compact model for a (checked) choice on `runtime` (default: `backend`), loading, shrinking or
        exporting it on first use, which `announce` (when given) is told of first."""
        runtime = runtime or self.backend
        if model == NOT_RETRAINED:
            key: tuple = (NOT_RETRAINED, strategy, num_drop, runtime)
        elif model == FINE_TUNED_CHOICE:
            key = (FINE_TUNED, self.zoo.fine_tuned(strategy, num_drop).name, runtime)
        else:
            key = ("entry", model, runtime)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            name = key[1] if key[0] != NOT_RETRAINED else self.dropped_name(strategy, num_drop)
            if announce and (message := first_use(name, runtime)):
                announce(message)
            loaded = self._make(key)
            self._cache[key] = loaded
            while len(self._cache) > self.max_cached:
                self._cache.popitem(last=False)
            return loaded

    def dropped_name(self, strategy: str, num_drop: int) -> str:
        """How the page names the teacher with `num_drop` layers dropped by `strategy`, not retrained."""
        layers = "layer" if num_drop == 1 else "layers"
        return f"{self.zoo.teacher.name} minus {num_drop} {layers} ({strategy}), not retrained"

    def entry_for(self, strategy: str, num_drop: int, model: str) -> ZooEntry | None:
        """The zoo entry a (checked) choice runs: the fine-tuned model for the strategy and K, or the entry of that
        name; None for the teacher with layers dropped and not retrained (not a model of the zoo)."""
        if model == NOT_RETRAINED:
            return None
        if model == FINE_TUNED_CHOICE:
            return self.zoo.fine_tuned(strategy, num_drop)
        return self._entry_named(model)

    def _entry_named(self, name: str) -> ZooEntry:
        entry = next((e for e in self.zoo.entries if e.name == name), None)
        if entry is None:
            raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(self.model_choices)}")
        return entry

    def _fp32_teacher(self):
        """The teacher's PyTorch model in fp32 (what a runtime's not-retrained models are shrunk from)."""
        model = self.teacher.model
        if model is None or next(model.parameters()).dtype != torch.float32:
            if self._teacher_fp32 is None:
                self._teacher_fp32 = self._load(self.zoo.resolve(self.zoo.teacher), dtype="fp32").model
            model = self._teacher_fp32
        return model

    def _make(self, key: tuple):
        runtime = key[-1]
        if key[0] == NOT_RETRAINED:
            _, strategy, num_drop, _ = key
            scores = self.zoo.contributions if STRATEGIES[strategy].needs_scores else None
            kept = select_layers(self.num_layers, strategy, num_drop, scores)
            # a runtime exports the shrunk model from the teacher's fp32 weights, not from a bf16 copy
            teacher = self.teacher.model if runtime == "torch" else self._fp32_teacher()
            small = shrink(teacher, keep=kept)
            small.config.drop_strategy = strategy  # layers chosen by the strategy (with the zoo's teacher scores)
            loaded = self._load_on(runtime, small, tokenizer=self.teacher.tokenizer, dtype=self.dtype)
            loaded.name = self.dropped_name(strategy, num_drop)
            return loaded
        entry = self._entry_named(key[1])
        loaded = self._load_on(runtime, self.zoo.resolve(entry), dtype=self.dtype)
        loaded.name = entry.name
        return loaded

    def _load_on(self, runtime: str, source, **kwargs):
        """`load_for_inference` on one of `runtime_choices` (an int8 runtime: its format's runtime, quantized)."""
        if runtime in INT8_RUNTIMES:
            return self._load(source, backend=FORMATS[RUNTIME_EXPORTS[runtime][0]].runtime, quantize="int8", **kwargs)
        return self._load(source, backend=runtime, **kwargs)

    def compare(
        self,
        text: str,
        strategy: str | None = None,
        num_drop: int | None = None,
        model: str | None = None,
        repeats: int = 10,
        runtime: str | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Classify `text` with the teacher and the chosen compact model, both run by `runtime` (one of
        `runtime_choices`; default: `backend`); time both side by side. `strategy`, `num_drop` and `model` default to
        `default_strategy`, `default_drop` and `default_model` (what the page shows first). `announce`, when given, is
        told of each model exported (or quantized) for `runtime` on its first use, before it is (the page shows it:
        OpenVINO's int8 quantization of a model takes tens of seconds).

        Returns plain data: for `teacher` and `compact`, the label, the probabilities per label, the parameter
        count, the kept layers, E and the sharing (an Albert-SOP's; None for the other families), the test accuracy
        the zoo records for it (None where it records none: a model not retrained) and the latency (median / min /
        max ms over `repeats` interleaved runs after warm-up, one text, batch 1); plus `agree`,
        `speedup` (teacher median / compact median), `runtime` and `dtype` (what ran both).
        """
        from ..distillation.layer_map import kept_teacher_layers
        from ..inference import time_side_by_side

        strategy = self.default_strategy if strategy is None else strategy
        num_drop = self.default_drop if num_drop is None else num_drop
        model = self.default_model if model is None else model
        text, num_drop, repeats = self.check(text, strategy, num_drop, model, repeats)
        runtime = runtime or self.backend
        if runtime not in self.runtime_choices:
            raise ValueError(f"unknown runtime {runtime!r}; choose one of: {', '.join(self.runtime_choices)}")
        teacher = self.teacher_on(runtime, announce)
        compact = self.compact_model(strategy, num_drop, model, runtime, announce)
        with self._lock:  # one timing at a time: concurrent runs would time each other
            probs = {"teacher": teacher.predict_proba([text], MAX_LENGTH)[0]}
            probs["compact"] = compact.predict_proba([text], MAX_LENGTH)[0]
            timings = time_side_by_side(
                {
                    "teacher": teacher.runner([text], max_length=MAX_LENGTH),
                    "compact": compact.runner([text], max_length=MAX_LENGTH),
                },
                repeats=repeats,
                warmup=2,
            )
        result: dict[str, Any] = {}
        entries = {"teacher": self.zoo.teacher, "compact": self.entry_for(strategy, num_drop, model)}
        for side, loaded in (("teacher", teacher), ("compact", compact)):
            labels = list(loaded.label_names)
            p = [float(x) for x in probs[side]]
            best = max(range(len(p)), key=p.__getitem__)
            config = loaded.config
            result[side] = {
                "name": loaded.name,
                "label": labels[best],
                "probabilities": dict(zip(labels, p, strict=True)),
                "num_parameters": int(loaded.num_parameters),
                "num_layers": int(config.num_hidden_layers),
                "hidden_size": int(config.hidden_size),
                # the teacher layers it kept: a ShrunkBert's `kept_layers`, a pruned TinyBert's `pruning` record; an
                # Albert-SOP's layers are one shared layer applied again, no teacher layers kept (None)
                "kept_layers": None
                if config.model_type == "albert_sop"
                else kept_teacher_layers(config) or list(range(config.num_hidden_layers)),
                # an Albert-SOP's factorised embedding size E and what its layers share; None for the other families
                "embedding_size": config.embedding_size if config.model_type == "albert_sop" else None,
                "sharing": config.sharing if config.model_type == "albert_sop" else None,
                "test_accuracy": entries[side].metrics.get("test_accuracy") if entries[side] else None,
                "latency_ms": {
                    "median": timings[side].median_ms,
                    "min": timings[side].min_ms,
                    "max": timings[side].max_ms,
                },
            }
        dropped = model in (NOT_RETRAINED, FINE_TUNED_CHOICE)  # other families' entries have no strategy or K
        result["compact"] |= {
            "model": model,
            "strategy": strategy if dropped else None,
            "num_drop": num_drop if dropped else None,
        }
        result |= {
            "agree": result["teacher"]["label"] == result["compact"]["label"],
            "speedup": result["teacher"]["latency_ms"]["median"] / result["compact"]["latency_ms"]["median"],
            "repeats": repeats,
            "runtime": runtime,
            "dtype": ("int8 + " if teacher.quantized == "int8" else "") + str(teacher.dtype).removeprefix("torch."),
            "max_length": MAX_LENGTH,
        }
        return result
