"""Number formats and batch size by device: mixed precision, and a batch that fills the GPU.

::

    from hybridvid_lib.scale.precision import precision_policy
    with precision_policy(settings):          # the policy is Keras' global one inside the block only
        model = build_model("c3d", settings, num_classes)
        train_model(model, ...)

Mixed precision computes in 16 bits and keeps the weights in float32 (Micikevicius et al. 2018).
``mixed_float16`` needs loss scaling, which Keras adds when it compiles a model under that
policy; ``mixed_bfloat16`` has float32's range and needs none. Which one a device can run:

- GPUs: ``mixed_float16`` (tensor cores); bfloat16 too on recent ones.
- CPUs: never ``mixed_float16``: TensorFlow has no half-precision kernel for 3D max / average
  pooling on CPU, so C3D and I3D would fail. ``auto`` keeps float32 on every CPU. ``mixed_bfloat16``
  runs 2D and sequence models (fastest where the CPU has bfloat16 instructions, ``avx512_bf16`` or
  ``amx_bf16``), but TensorFlow 2.21's bfloat16 gradient of a 3D convolution's kernel on CPU is wrong
  when the input is 2 steps long and the kernel 3 (measured: 95-144% relative error, or NaN, against
  float32, where 3, 4 or 5 steps give 0.4%). I3D's last blocks and C3D's conv5 see 2 steps at the
  course's clip lengths, and I3D's training turned to NaN in its second step; so a model with a 3D
  convolution is refused under ``mixed_bfloat16`` without a GPU (:func:`check_policy_for_model`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

from hybridvid_lib.config import Settings
from hybridvid_lib.errors import SettingsError
from hybridvid_lib.tf_setup import gpu_devices

# The gpu profile's batch of 32 clips of 32 x 112 x 112 fits a 16 GiB GPU for the course's models;
# auto_batch scales it with the memory of the GPU found.
REFERENCE_GPU_GIB = 16
MAX_AUTO_BATCH = 256
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bfloat16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """Whether the CPU has bfloat16 instructions (read from ``/proc/cpuinfo``; ``False`` where it is absent)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def resolve_precision(precision: str, *, has_gpu: bool | None = None) -> str:
    """The Keras policy name for a ``precision`` setting on this machine.

    ``auto`` -> ``mixed_float16`` with a GPU, else ``float32`` (see the module docstring for why not
    ``mixed_bfloat16`` on a CPU). An explicit ``mixed_float16`` without a GPU is refused:
    3D pooling has no float16 CPU kernel.

    Raises:
        SettingsError: an unknown name, or ``mixed_float16`` on a machine without a GPU.
    """
    from hybridvid_lib.scale import PRECISIONS

    if precision not in PRECISIONS:
        raise SettingsError(f"Setting 'precision' must be one of {', '.join(PRECISIONS)}; got {precision!r}.")
    has_gpu = bool(gpu_devices()) if has_gpu is None else has_gpu
    if precision == "auto":
        if has_gpu:
            return "mixed_float16"
        return "float32"
    if precision == "mixed_float16" and not has_gpu:
        raise SettingsError("precision 'mixed_float16' needs a GPU: TensorFlow has no float16 kernel for 3D "
                            "pooling on CPU. Use 'float32' ('mixed_bfloat16' only for models without 3D convolutions).")
    return precision


def check_policy_for_model(model, policy: str, *, has_gpu: bool | None = None) -> None:
    """Refuse ``mixed_bfloat16`` on a machine without a GPU for a model with a 3D convolution.

    Raises:
        SettingsError: one sentence naming the first such layer (its kernel gradient would be wrong
            there; module docstring).
    """
    import keras

    if policy != "mixed_bfloat16" or (bool(gpu_devices()) if has_gpu is None else has_gpu):
        return
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Conv3D):
            raise SettingsError(
                f"precision 'mixed_bfloat16' without a GPU cannot train {model.name}: TensorFlow's bfloat16 "
                f"gradient of a 3D convolution ({layer.name}) is wrong on a CPU for inputs 2 steps long. Use "
                "'float32' (or 'auto') on a CPU.")


@contextlib.contextmanager
def precision_policy(settings: Settings | str) -> Iterator[str]:
    """Make the resolved policy Keras' global dtype policy inside the block; yields its name.

    Models built inside compute in the policy's format; the previous global policy comes back
    after the block, so that one notebook can train a float32 model after a mixed one.
    """
    import keras

    name = resolve_precision(settings if isinstance(settings, str) else settings.precision)
    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield name
    finally:
        keras.mixed_precision.set_global_policy(before)


def jit_compile_option(settings: Settings) -> bool | str:
    """``Model.compile(jit_compile=...)`` for the ``jit_compile`` setting: ``"auto"``, ``True`` or ``False``."""
    return {"auto": "auto", "on": True, "off": False}[settings.jit_compile]


def gpu_memory_gib() -> float | None:
    """Total memory of the first GPU in GiB, from ``nvidia-smi``; ``None`` without a GPU or the tool."""
    if not gpu_devices() or shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        return float(out.splitlines()[0]) / 1024  # MiB
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def device_batch_size(settings: Settings, memory_gib: float | None = None) -> int:
    """``settings.batch_size`` scaled with the GPU's memory when ``auto_batch`` is on, else unchanged.

    The profile's batch is sized for a :data:`REFERENCE_GPU_GIB` GiB GPU; a GPU with ``m`` GiB
    gets the profile's batch doubled or halved to the largest size not above ``batch_size * m / 16``,
    and at most :data:`MAX_AUTO_BATCH` (a larger batch also wants a larger learning rate, which
    the kit does not change: past that the gain in speed costs accuracy). Without a GPU, or
    ``auto_batch`` off, the batch is unchanged.

    Example: gpu profile (32) on an 80 GiB GPU -> 128; on a 141 GiB GPU -> 256; on 8 GiB -> 16.
    """
    if not settings.auto_batch:
        return settings.batch_size
    memory = gpu_memory_gib() if memory_gib is None else memory_gib
    if not memory:
        return settings.batch_size
    scaled = settings.batch_size * memory / REFERENCE_GPU_GIB
    batch = settings.batch_size
    while batch * 2 <= min(scaled, MAX_AUTO_BATCH):
        batch *= 2
    while batch > max(scaled, 1):
        batch //= 2
    return max(batch, 1)
