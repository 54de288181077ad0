"""A zoo in words, the same on the demo's page and on its published Space's card: the title, what a visitor can
choose, the teacher's line and each student's (size, test accuracy and the share of the teacher's it keeps).
Plain strings (Markdown), without gradio, so publishing a Space needs no UI."""

from __future__ import annotations

from .manifest import Zoo, ZooEntry

DROP_TITLE = "compactbert: drop layers of a BERT, compare with the teacher"
COMPARE_TITLE = "compactbert: compact models compared with their teacher"


def droppable(model_type: str, num_layers: int | None) -> bool:
    """Whether the demo can drop layers of a teacher of this type and depth (a BERT or a ShrunkBert of 2+ layers)."""
    from ..shrinking.shrink import SUPPORTED_MODEL_TYPES

    return model_type in SUPPORTED_MODEL_TYPES and (num_layers or 0) > 1


def title(can_drop: bool) -> str:
    return DROP_TITLE if can_drop else COMPARE_TITLE


def count(n: int) -> str:
    """`22.7M` for a model's parameters, `4,352` for a tiny one."""
    return f"{n / 1e6:.1f}M" if n >= 100_000 else f"{n:,}"


def entry_facts(entry: ZooEntry, teacher_accuracy: float | None = None) -> list[str]:
    """An entry's layers, parameters and test accuracy, with the share of `teacher_accuracy` (the teacher's on the
    same texts) it keeps; what the entry does not record is left out."""
    facts = [f"{entry.num_layers} layers"] if entry.num_layers else []
    facts += [f"{count(entry.num_parameters)} parameters"] if entry.num_parameters else []
    if "test_accuracy" in entry.metrics:
        accuracy = entry.metrics["test_accuracy"]
        kept = f", {accuracy / teacher_accuracy:.1%} of the teacher's" if teacher_accuracy else ""
        facts.append(f"test accuracy {accuracy:.1%}{kept}")
    return facts


def entry_line(
    entry: ZooEntry, teacher_accuracy: float | None = None, label: str | None = None, plain: bool = False
) -> str:
    """One zoo entry as a Markdown line: `label` (its name in bold unless given, e.g. a link to its repository),
    its kind and family, how it was made and its facts; `plain`: as text (for a terminal), without Markdown."""
    about = f": {entry.description}" if entry.description else ""
    facts = entry_facts(entry, teacher_accuracy)
    family = entry.family if plain else f"`{entry.family}`"
    name = entry.name if plain else f"**{entry.name}**"
    return f"{label or name} ({entry.kind}, {family}){about}" + (f" ({', '.join(facts)})" if facts else "")


def teacher_sentence(zoo: Zoo, num_layers: int | None) -> str:
    """`Teacher: **its description** (6 layers, test accuracy 97.7%, labels: a, b).` (what is not known left out)"""
    accuracy = zoo.teacher.metrics.get("test_accuracy")
    return (
        f"Teacher: **{zoo.teacher.description or zoo.teacher.name}** ("
        + (f"{num_layers} layers, " if num_layers else "")
        + (f"test accuracy {accuracy:.1%}, " if accuracy else "")
        + f"labels: {', '.join(zoo.label_names)})."
    )
