"""Which optical-flow methods this OpenCV build offers (kept import-light for ``hybridvid doctor``)."""

from __future__ import annotations

import cv2

FLOW_METHODS = ("dis", "farneback", "tvl1")


def available_flow_methods() -> list[str]:
    """``dis`` and ``farneback`` always; ``tvl1`` only with the contrib build (``cv2.optflow``)."""
    methods = ["dis", "farneback"]
    if hasattr(cv2, "optflow") and hasattr(cv2.optflow, "DualTVL1OpticalFlow_create"):
        methods.append("tvl1")
    return methods
