"""C3D (chapter 03): 3D convolutions over space and time, 3 x 3 x 3 kernels throughout.

Tran, Bourdev, Fergus, Torresani, Paluri, *Learning Spatiotemporal Features with 3D Convolutional
Networks*, ICCV 2015: eight 3 x 3 x 3 convolutions (64, 128, 256, 256, 512, 512, 512, 512
channels) in five groups, each group followed by max pooling; the **first pooling is spatial
only** (1 x 2 x 2) so that time is not merged too early, the others pool 2 x 2 x 2; then two
fully connected layers (4096) with dropout and the classifier. The published net takes 16 frames
of 112 x 112.

One deviation from the 2015 net, which predates it: batch normalisation after every
convolution. Without it the narrow versions the kit trains on 2 cores did not learn at all from
scratch (the loss stayed at ``log(C)`` on a tiny batch), as deep plain ReLU stacks often do.

The kit scales every width by ``width`` (the profile picks it: 0.125 on ``cpu``, 8 to 64
channels and 512 units, about 0.5 M parameters, so it trains in minutes on 2 cores; 1.0 is
the published size). Pooling uses ``padding="same"``, so short clips (8 frames in ``smoke``)
keep at least one step. Convolutions stay ``channels_last``: on CPU ``channels_first`` 3D
convolutions are about 20 times slower (``PITFALLS.md``).
"""

from __future__ import annotations

from hybridvid_lib.config import Settings
from hybridvid_lib.layers import FusedBatchNormalization
from hybridvid_lib.models.registry import register_model
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

# (channels, convolutions) of the five groups, and the fully connected width, as published.
PUBLISHED_GROUPS = ((64, 1), (128, 1), (256, 2), (512, 2), (512, 2))
PUBLISHED_FC = 4096
DEFAULT_WIDTH = {"smoke": 0.0625, "cpu": 0.125, "gpu": 0.5}


def c3d_width(settings: Settings, width: float | None) -> float:
    """The width multiplier: the option, else the profile's (``DEFAULT_WIDTH``)."""
    value = DEFAULT_WIDTH.get(settings.profile, 0.125) if width is None else float(width)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"width must be in (0, 1], a fraction of the published C3D; got {width!r}.")
    return value


def build_c3d_backbone(settings: Settings, *, width: float | None = None) -> keras.Model:
    """The convolutional part: ``{"rgb": (B, T, S, S, 3)}`` -> ``(B, T', S', S', C)`` feature maps."""
    scale = c3d_width(settings, width)
    t, s = settings.num_frames, settings.frame_size
    rgb = keras.Input((t, s, s, 3), name="rgb", dtype="float32")
    x = rgb
    for group, (channels, convolutions) in enumerate(PUBLISHED_GROUPS, start=1):
        for k in range(convolutions):
            suffix = "" if convolutions == 1 else "ab"[k]
            x = layers.Conv3D(max(4, round(channels * scale)), 3, padding="same", use_bias=False,
                              name=f"conv{group}{suffix}")(x)
            x = FusedBatchNormalization(name=f"bn{group}{suffix}")(x)
            x = layers.ReLU(name=f"relu{group}{suffix}")(x)
        pool = (1, 2, 2) if group == 1 else (2, 2, 2)  # the first pooling keeps every frame
        x = layers.MaxPooling3D(pool, strides=pool, padding="same", name=f"pool{group}")(x)
    return keras.Model({"rgb": rgb}, x, name="backbone")


@register_model("c3d", family="3d", inputs=("rgb",),
                description="3D CNN, 3x3x3 kernels, first pooling spatial only (Tran et al. 2015)")
def build_c3d(settings: Settings, num_classes: int, *, width: float | None = None, dropout: float = 0.5) -> keras.Model:
    """C3D: ``{"rgb": (B, T, S, S, 3)}`` float32 in [-1, 1] -> ``(B, C)`` probabilities.

    Args:
        width: fraction of the published channel and unit counts (default: the profile's).
        dropout: after each fully connected layer (0.5 as published).
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}.")
    backbone = build_c3d_backbone(settings, width=width)
    rgb = keras.Input(backbone.input["rgb"].shape[1:], name="rgb")
    x = layers.Flatten(name="flatten")(backbone({"rgb": rgb}))
    units = max(16, round(PUBLISHED_FC * c3d_width(settings, width)))
    for name in ("fc6", "fc7"):
        x = layers.Dense(units, activation="relu", name=name)(x)
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    probs = layers.Dense(num_classes, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model({"rgb": rgb}, probs, name="c3d")
