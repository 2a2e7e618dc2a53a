"""Which optical-flow methods the kit knows, and which this OpenCV build offers.

Import-light on purpose: the command line (``--method``) and the settings (:mod:`hybridvid_lib.config`)
read :data:`FLOW_METHODS` without loading OpenCV, so that ``hybridvid`` starts, and ``hybridvid doctor``
can say what to fix, even when ``import cv2`` is broken.
"""

from __future__ import annotations

FLOW_METHODS = ("dis", "farneback", "tvl1")


def available_flow_methods() -> list[str]:
    """``dis`` and ``farneback`` always; ``tvl1`` only with the contrib build (``cv2.optflow``)."""
    import cv2

    methods = ["dis", "farneback"]
    if hasattr(cv2, "optflow") and hasattr(cv2.optflow, "DualTVL1OpticalFlow_create"):
        methods.append("tvl1")
    return methods
