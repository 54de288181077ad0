"""The loss components are one list: each has a weight field (`alpha_<name>`), belongs to a stage, and has the name a
model card gives it; a component added to `COMPONENTS` without the others fails here."""

from dataclasses import fields

from compactbert.distillation import COMPONENTS, STAGES, DistillationTrainingArguments
from compactbert.hub.card import LOSS_NAMES


def test_every_component_has_a_weight_a_stage_and_a_card_name():
    weights = {
        f.name.removeprefix("alpha_") for f in fields(DistillationTrainingArguments) if f.name.startswith("alpha_")
    }
    assert weights == set(COMPONENTS)
    assert set(LOSS_NAMES) == set(COMPONENTS)
    assert set().union(*(STAGES[s] for s in STAGES if s != "all")) == set(COMPONENTS) == set(STAGES["all"])
