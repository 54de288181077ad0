"""The machine description that every timing names, and the bf16 units it reads."""

from __future__ import annotations

import pytest

from compactbert.hardware import cpu_description, cpu_has_native_bf16, describe_cpu, machine_description

AMX = "model name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"
EPYC = "model name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
AVX2 = "model name\t: Intel(R) Core(TM) i7\nflags\t\t: fpu sse4_2 avx2\n"


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [
        (AMX, "Intel(R) Xeon(R) Platinum 8480+ (AMX-BF16, AVX512-BF16)"),
        (EPYC, "AMD EPYC (AVX512-BF16)"),
        (AVX2, "Intel(R) Core(TM) i7 (AVX2, no bf16 units)"),
        ("", "unknown CPU (no bf16 units)"),
    ],
)
def test_the_description_names_the_model_and_its_bf16_units(cpuinfo, expected):
    assert describe_cpu(cpuinfo) == expected


def test_only_the_first_processor_is_read():
    second = "model name\t: Other\nflags\t\t: amx_bf16\n"
    assert describe_cpu(AVX2 + "\n" + second) == "Intel(R) Core(TM) i7 (AVX2, no bf16 units)"


def test_this_machine_is_described():
    assert cpu_description().endswith(")") and "(" in cpu_description()


@pytest.mark.parametrize(("cpuinfo", "native"), [(AMX, True), (EPYC, True), (AVX2, False), ("", False)])
def test_native_bf16_is_read_from_the_flags(monkeypatch, cpuinfo, native):
    monkeypatch.setattr("compactbert.hardware.read_cpuinfo", lambda: cpuinfo)
    assert cpu_has_native_bf16() is native


def test_the_machine_is_its_usable_cores_and_its_cpu(monkeypatch):
    """What results record (`machine`) and cards and scripts print: the cores this process may use, not the total."""
    monkeypatch.setattr("compactbert.hardware.read_cpuinfo", lambda: AVX2)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert machine_description() == "3-core Intel(R) Core(TM) i7 (AVX2, no bf16 units)"
