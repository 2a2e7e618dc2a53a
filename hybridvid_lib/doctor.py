"""``hybridvid doctor``: is this environment the one the course expects?

Checks the Python version, the pinned TensorFlow / Keras, that exactly one OpenCV wheel
is installed (the four ``opencv-*`` wheels all install the same ``cv2`` module and
overwrite each other), which optical-flow methods OpenCV offers, and whether a GPU is
visible. Prints a short report; the exit status is 1 when something must be fixed.
"""

from __future__ import annotations

import importlib.metadata as md
import platform
import sys

OPENCV_WHEELS = (
    "opencv-python",
    "opencv-python-headless",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
)
EXPECTED_OPENCV = "opencv-contrib-python-headless"


def installed_opencv_wheels() -> list[str]:
    """Names of the OpenCV wheels installed in this environment."""
    found = []
    for name in OPENCV_WHEELS:
        try:
            md.version(name)
        except md.PackageNotFoundError:
            continue
        found.append(name)
    return found


def check_opencv_wheels(found: list[str] | None = None) -> str | None:
    """``None`` if the OpenCV install is sound, else one sentence saying what to do."""
    found = installed_opencv_wheels() if found is None else found
    if not found:
        return f"OpenCV is not installed; run: pip install {EXPECTED_OPENCV}."
    if len(found) > 1:
        return (
            f"Several OpenCV wheels are installed ({', '.join(found)}); they overwrite each other's cv2 "
            f"module. Keep only {EXPECTED_OPENCV}: pip uninstall -y {' '.join(found)} && "
            f"pip install {EXPECTED_OPENCV}"
        )
    return None


def _version(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "not installed"


def report() -> tuple[str, bool]:
    """The doctor's report and whether everything needed is in place."""
    lines = [f"python        {platform.python_version()} ({sys.executable})"]
    ok = sys.version_info[:2] == (3, 11)
    if not ok:
        lines.append("  ! the kit is tested on Python 3.11")
    for name in ("tensorflow", "keras", "numpy", "scikit-learn", "papermill", "nbval", "ipywidgets"):
        lines.append(f"{name:<13} {_version(name)}")
    problem = check_opencv_wheels()
    wheels = installed_opencv_wheels()
    lines.append(f"opencv        {', '.join(f'{w} {_version(w)}' for w in wheels) or 'not installed'}")
    if problem:
        ok = False
        lines.append(f"  ! {problem}")
    else:
        from hybridvid_lib.data.flow_methods import available_flow_methods

        lines.append(f"flow methods  {', '.join(available_flow_methods())}")
    from hybridvid_lib.tf_setup import gpu_devices, onednn_enabled

    onednn = onednn_enabled()
    lines.append("onednn        " + {True: "on", None: "unknown (this TensorFlow cannot say)"}.get(
        onednn, "off: 3D convolutions train 4-8x slower on a CPU (unset TF_ENABLE_ONEDNN_OPTS=0 to turn it on)"))
    gpus = gpu_devices()
    lines.append(f"gpu           {len(gpus)} visible" + (" (profile 'gpu' available)" if gpus else
                                                         " (profiles 'smoke' and 'cpu')"))
    lines.append("status        " + ("ready" if ok else "needs attention (see '!' lines)"))
    return "\n".join(lines), ok
