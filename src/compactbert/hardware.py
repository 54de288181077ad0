"""What the machine is and can do fast: its cores, its CPU and the CPU's native bf16 matrix units.

Every figure names the machine it was measured on with `machine_description()`, e.g. "2-core AMD EPYC (AVX512-BF16)".
"""

from __future__ import annotations

import functools
import os

import torch

BF16_UNITS = (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX512-BF16"))  # /proc/cpuinfo flag, the name figures use


@functools.cache
def read_cpuinfo() -> str:
    """The text of /proc/cpuinfo ("" where it cannot be read: not Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


def cpu_model_and_flags(cpuinfo: str) -> tuple[str, list[str]]:
    """The first processor's model name and flags in the text of /proc/cpuinfo ("" and [] where absent)."""
    model, flags = "", []
    for line in cpuinfo.splitlines():
        if line.startswith("model name") and not model:
            model = line.split(":", 1)[1].strip()
        elif line.startswith("flags") and not flags:
            flags = line.split(":", 1)[1].split()
    return model, flags


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 matrix instructions (Intel AMX-BF16 or AVX512-BF16), read from /proc/cpuinfo."""
    flags = cpu_model_and_flags(read_cpuinfo())[1]
    return any(flag in flags for flag, _ in BF16_UNITS)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def native_bf16() -> bool:
    """True when training here in bf16 autocast is fast: a CUDA GPU with bf16, or a CPU with native bf16 units."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return cpu_has_native_bf16()


def describe_cpu(cpuinfo: str) -> str:
    """The CPU's model name and its matrix units, from the text of /proc/cpuinfo: e.g. "AMD EPYC (AVX512-BF16)",
    "Intel Xeon (AMX-BF16, AVX512-BF16)", or "Intel Core (AVX2, no bf16 units)". Figures name it: speed and training
    time depend on these units."""
    model, flags = cpu_model_and_flags(cpuinfo)
    units = [name for flag, name in BF16_UNITS if flag in flags]
    if not units:
        units = [*(["AVX2"] if "avx2" in flags else []), "no bf16 units"]
    return f"{model or 'unknown CPU'} ({', '.join(units)})"


def cpu_description() -> str:
    """`describe_cpu` of this machine ("unknown CPU (no bf16 units)" where /proc/cpuinfo cannot be read)."""
    return describe_cpu(read_cpuinfo())


def machine_description() -> str:
    """The machine as every result records it: the cores this process may use and `cpu_description()`, e.g.
    "2-core AMD EPYC (AVX512-BF16)"."""
    return f"{available_cores()}-core {cpu_description()}"
