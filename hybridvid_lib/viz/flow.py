"""What a temporal stream sees: a stack of ``L`` optical-flow fields drawn as colour images (chapter 02).

:func:`show_flow_stack` draws the ``2L`` channels of one stacked-flow input, ``(S, S, 2L)`` in the order
``dx_1, dy_1, ..., dx_L, dy_L`` (the pipeline's ``flow_stack=L``), as ``L`` colour images with one shared
speed scale (hue = direction, brightness = speed, as :func:`~hybridvid_lib.data.flow.flow_to_hsv_image`
draws them in chapter 00), followed by the colour wheel that reads them.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from hybridvid_lib.viz.common import new_figure


def unstack_flow(stack: Any) -> np.ndarray:
    """``(S, S, 2L)`` channels ``dx_1, dy_1, ..., dx_L, dy_L`` -> ``(L, S, S, 2)`` fields (the inverse of stacking)."""
    arr = np.asarray(stack, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[-1] % 2 or arr.shape[-1] == 0:
        raise ValueError(f"a flow stack has shape (S, S, 2L) with an even number of channels; got {arr.shape}.")
    height, width, channels = arr.shape
    return np.transpose(arr.reshape(height, width, channels // 2, 2), (2, 0, 1, 3))


def show_flow_stack(
    stack: Any,
    *,
    max_magnitude: float | None = None,
    fields: Sequence[int] | None = None,
    title: str | None = None,
    wheel: bool = True,
) -> Figure:
    """A row of the flow fields of one temporal-stream input, one shared speed scale, and the colour wheel.

    Args:
        stack: ``(S, S, 2L)`` float flow in the kit's unit (1.0 = 20 px), channels ``dx_1, dy_1, ..., dy_L``.
        max_magnitude: speed drawn at full brightness; ``None``: the fastest pixel of the whole stack, so one
            brightness means one speed in every panel.
        fields: which fields to draw (0-based); ``None``: all ``L``.
        title: the figure's title.
        wheel: draw the colour wheel (the legend of direction and speed) after the fields.
    """
    from hybridvid_lib.data.flow import flow_colour_wheel, flow_to_hsv_image

    unstacked = unstack_flow(stack)
    length = unstacked.shape[0]
    chosen = list(range(length)) if fields is None else [int(f) for f in fields]
    if not chosen or min(chosen) < 0 or max(chosen) >= length:
        raise ValueError(f"fields must be field numbers in [0, {length}); got {chosen}.")
    speed = np.hypot(unstacked[..., 0], unstacked[..., 1])
    top = float(speed.max()) if max_magnitude is None else float(max_magnitude)
    top = top if top > 0 else 1.0
    panels = len(chosen) + (1 if wheel else 0)
    fig = new_figure((min(18.0, 1.25 * panels + 0.3), 1.9 if title else 1.6))
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for ax, k in zip(axes, chosen):
        ax.imshow(flow_to_hsv_image(unstacked[k], max_magnitude=top), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"field {k + 1}", fontsize="small")
    if wheel:
        axes[-1].imshow(flow_colour_wheel(65))
        axes[-1].set_axis_off()
        axes[-1].set_title(f"{top * 20:.1f} px/frame", fontsize="x-small")
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig
