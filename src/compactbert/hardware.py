"""What the machine can do fast: native bf16 matrix units."""

from __future__ import annotations

import functools

import torch


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 matrix instructions (Intel AMX-BF16 or AVX512-BF16), read from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def native_bf16() -> bool:
    """True when training here in bf16 autocast is fast: a CUDA GPU with bf16, or a CPU with native bf16 units."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return cpu_has_native_bf16()


def describe_cpu(cpuinfo: str) -> str:
    """The CPU's model name and its matrix units, from the text of /proc/cpuinfo: e.g. "AMD EPYC (AVX512-BF16)",
    "Intel Xeon (AMX-BF16, AVX512-BF16)", or "Intel Core (AVX2, no bf16 units)". Figures name it: speed and training
    time depend on these units."""
    model, flags = "", []
    for line in cpuinfo.splitlines():
        if line.startswith("model name") and not model:
            model = line.split(":", 1)[1].strip()
        elif line.startswith("flags") and not flags:
            flags = line.split(":", 1)[1].split()
    units = [name for flag, name in (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX512-BF16")) if flag in flags]
    if not units:
        units = [*(["AVX2"] if "avx2" in flags else []), "no bf16 units"]
    return f"{model or 'unknown CPU'} ({', '.join(units)})"


@functools.cache
def cpu_description() -> str:
    """`describe_cpu` of this machine ("unknown CPU (no bf16 units)" where /proc/cpuinfo cannot be read)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return describe_cpu(f.read())
    except OSError:
        return describe_cpu("")
