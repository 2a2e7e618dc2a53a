"""Import TensorFlow without the C++ log lines that would spam every notebook.

TensorFlow prints oneDNN, CUDA and CPU-feature notices from C++ straight to file
descriptor 2 while it is imported. ``TF_CPP_MIN_LOG_LEVEL`` does not silence all of
them, and ``TF_ENABLE_ONEDNN_OPTS=0`` does but makes Conv3D training 4-8x slower on
CPU, so the package sets it to 1 instead (``hybridvid_lib/__init__.py``, before any import of
TensorFlow; :func:`onednn_enabled` says whether it took effect). The notices are silenced instead:
file descriptor 2 points at ``/dev/null`` during the import only and is restored right after, so
later errors still reach the user.
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import ModuleType
from typing import Iterator


@contextlib.contextmanager
def silenced_stderr_fd() -> Iterator[None]:
    """Point the process's file descriptor 2 at /dev/null inside the block, then restore it."""
    try:
        sys.stderr.flush()
    except Exception:  # a closed or unusual sys.stderr must not stop the import
        pass
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow() -> ModuleType:
    """Return the ``tensorflow`` module, importing it quietly the first time.

    Python-level logging is lowered to errors; oneDNN stays on (see module docstring).
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with silenced_stderr_fd():
        import tensorflow as tf  # noqa: PLC0415 - deliberately lazy and quiet

        # The first device query initialises CUDA, which prints "failed call to cuInit" on
        # machines without a GPU driver; do it here, while fd 2 is still pointed away.
        cpus = tf.config.list_physical_devices("CPU")
    _split_cpu(tf, cpus)
    tf.get_logger().setLevel("ERROR")
    return tf


def onednn_enabled() -> bool | None:
    """Whether TensorFlow runs its oneDNN CPU kernels in this process (``None``: this build cannot say)."""
    import_tensorflow()
    try:
        from tensorflow.python.util import _pywrap_util_port  # noqa: PLC0415 - TensorFlow's own switch
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


CPU_DEVICES_ENV = "HYBRIDVID_CPU_DEVICES"


def _split_cpu(tf: ModuleType, cpus: list) -> None:
    """Split the CPU into ``$HYBRIDVID_CPU_DEVICES`` logical devices (unset or 1: leave it whole).

    Lets ``strategy="mirrored"`` train on several replicas of one CPU: how the kit's tests compare
    a mirrored run with a one-device run on a machine without GPUs. Must run before TensorFlow
    makes its devices, so it happens here, at import.
    """
    text = os.environ.get(CPU_DEVICES_ENV, "").strip()
    if not text or not cpus:
        return
    try:
        count = int(text)
        if count < 1:
            raise ValueError
    except ValueError:
        from hybridvid_lib.errors import SettingsError

        raise SettingsError(f"{CPU_DEVICES_ENV} must be a whole number >= 1; got {text!r}.") from None
    if count > 1:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * count)


def gpu_devices() -> list:
    """Physical GPUs TensorFlow can use; an empty list on CPU-only machines."""
    return import_tensorflow().config.list_physical_devices("GPU")
