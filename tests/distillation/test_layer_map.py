"""Layer maps: TinyBERT's uniform g(m) = m*L/M (also when M does not divide L), top, bottom, kept, explicit."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compactbert import ShrunkBertConfig, TinyBertConfig
from compactbert.distillation import map_layers
from compactbert.distillation.layer_map import kept_teacher_layers


def test_named_maps():
    assert map_layers(4, 12) == [2, 5, 8, 11]  # TinyBERT-4 from BERT-base: teacher layers 3, 6, 9, 12
    assert map_layers(3, 6) == [1, 3, 5]
    assert map_layers(4, 6) == [0, 2, 3, 5]  # 6/4 does not divide: floor(1.5), 3, floor(4.5), 6 (1-based)
    assert map_layers(2, 6, "top") == [4, 5]
    assert map_layers(2, 6, "bottom") == [0, 1]
    assert map_layers(3, 6, [0, 2, 5]) == [0, 2, 5]


@given(st.integers(1, 24), st.integers(1, 24))
def test_uniform_is_increasing_in_range_and_ends_at_the_last_layer(m, extra):
    teacher = m + extra - 1
    mapped = map_layers(m, teacher)
    assert len(mapped) == m and mapped[-1] == teacher - 1 and mapped[0] >= 0
    assert all(b > a for a, b in zip(mapped, mapped[1:], strict=False))


def test_bad_maps_say_what_is_expected():
    with pytest.raises(ValueError, match="unknown layer_map 'middle'"):
        map_layers(2, 6, "middle")
    with pytest.raises(ValueError, match="no deeper than the teacher"):
        map_layers(7, 6)
    with pytest.raises(ValueError, match="lists 2 teacher layers but the student has 3"):
        map_layers(3, 6, [0, 1])
    with pytest.raises(ValueError, match=r"must lie in \[0, 5\]"):
        map_layers(2, 6, [0, 6])
    with pytest.raises(ValueError, match="must be increasing"):
        map_layers(2, 6, [3, 1])


def test_the_kept_map_follows_the_layers_a_student_was_cut_from():
    assert map_layers(4, 6, "kept", kept_layers=[0, 1, 2, 4]) == [0, 1, 2, 4]
    with pytest.raises(ValueError, match="layer_map lists 3 teacher layers but the student has 4"):
        map_layers(4, 6, "kept", kept_layers=[0, 1, 2])
    with pytest.raises(ValueError, match="this student records none"):
        map_layers(4, 6, "kept")
    pruned = TinyBertConfig(pruned_from="teacher", pruning={"kept_layers": [0, 1, 2, 4]})
    assert kept_teacher_layers(pruned) == [0, 1, 2, 4]
    assert kept_teacher_layers(
        ShrunkBertConfig(num_hidden_layers=2, kept_layers=[1, 3], source_num_hidden_layers=4)
    ) == [1, 3]
    assert kept_teacher_layers(TinyBertConfig()) is None


def test_a_shrunk_students_layers_are_looked_up_in_a_shrunk_teacher():
    # both record layers of the same 6-layer source: the student's [0, 3] are the teacher's layers 0 and 2
    teacher = ShrunkBertConfig(num_hidden_layers=4, kept_layers=[0, 2, 3, 5], source_num_hidden_layers=6)
    student = ShrunkBertConfig(num_hidden_layers=2, kept_layers=[0, 3], source_num_hidden_layers=6)
    assert kept_teacher_layers(student, teacher) == [0, 2]
    assert kept_teacher_layers(student) == [0, 3]  # without a teacher: the source's layers, as recorded
    elsewhere = ShrunkBertConfig(num_hidden_layers=2, kept_layers=[1, 3], source_num_hidden_layers=6)
    assert kept_teacher_layers(elsewhere, teacher) is None  # source layer 1 is not the teacher's: not cut from it
    with pytest.raises(ValueError, match="records none of this teacher's"):
        map_layers(2, 4, "kept", kept_teacher_layers(elsewhere, teacher))
    plain = ShrunkBertConfig(num_hidden_layers=6)  # a whole model, or a plain BERT teacher (no kept_layers)
    assert kept_teacher_layers(student, plain) == [0, 3]
    pruned = TinyBertConfig(pruned_from="t", pruning={"kept_layers": [0, 1]})  # the pruned model's own positions
    assert kept_teacher_layers(pruned, teacher) == [0, 1]
