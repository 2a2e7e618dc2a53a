"""Kinetics I3D checkpoints, as released (TensorFlow 1 / Sonnet), read by their variable names into Keras.

The released checkpoints (``deepmind/kinetics-i3d``, ``data/checkpoints/<name>/model.ckpt``) hold, per
unit of :mod:`hybridvid_lib.models.i3d`::

    RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w                 (7, 7, 7, 3, 64)   the kernel
    RGB/inception_i3d/Conv3d_1a_7x7/batch_norm/beta           (64,)              no gamma: BatchNorm without scale
    RGB/inception_i3d/Conv3d_1a_7x7/batch_norm/moving_mean    (64,)
    RGB/inception_i3d/Conv3d_1a_7x7/batch_norm/moving_variance (64,)
    ...
    RGB/inception_i3d/Mixed_5b/Branch_2/Conv3d_0a_3x3/conv_3d/w   (the released irregular name)
    RGB/inception_i3d/Logits/Conv3d_0c_1x1/conv_3d/w, .../b   (1, 1, 1, 1024, 400), (400,)

``Flow/inception_i3d/...`` for the flow stream (input 2 channels). The Kinetics-600 RGB checkpoint stores
the same names without the ``RGB/inception_i3d/`` prefix; :func:`find_root` accepts both. Moving
statistics may be stored with a leading 1-sized axes (Sonnet keeps ``(1, 1, 1, 1, C)``); they are
flattened when their size matches.

Nothing is downloaded: the user points ``hybridvid models import-i3d --checkpoint PREFIX`` at a checkpoint
they have (``PREFIX`` is the path without ``.index`` / ``.data-*``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hybridvid_lib.errors import HybridVidError
from hybridvid_lib.models.i3d import LOGITS_SCOPE, build_i3d_stream, layer_name, unit_scopes
from hybridvid_lib.tf_setup import import_tensorflow

STREAMS = {"rgb": ("RGB", 3), "flow": ("Flow", 2)}
BN_VARIABLES = ("beta", "moving_mean", "moving_variance")  # the order of a Keras BatchNorm(scale=False)'s weights


class CheckpointError(HybridVidError, ValueError):
    """A checkpoint that is missing, of another stream, or lacks a variable or has one of the wrong shape."""


def _reader(prefix: str | Path):
    tf = import_tensorflow()
    prefix = str(prefix)
    if not Path(prefix + ".index").is_file():
        hint = " (give the prefix, without .index)" if prefix.endswith(".index") else ""
        raise CheckpointError(f"No TensorFlow checkpoint at {prefix}: expected {prefix}.index and "
                              f"{prefix}.data-00000-of-00001 beside it{hint}, as in the released "
                              "data/checkpoints/rgb_imagenet/model.ckpt.")
    return tf.train.load_checkpoint(prefix)


def find_root(names: set[str] | dict[str, Any], stream: str) -> str:
    """The scope prefix of ``stream``'s variables: ``"RGB/inception_i3d/"``, ``"Flow/inception_i3d/"`` or ``""``.

    Raises:
        CheckpointError: no first convolution under any known prefix (naming what the checkpoint holds).
    """
    if stream not in STREAMS:
        raise CheckpointError(f"stream must be one of {', '.join(STREAMS)}; got {stream!r}.")
    scope = STREAMS[stream][0]
    candidates = [f"{scope}/inception_i3d/"] + ([""] if stream == "rgb" else [])
    for root in candidates:
        if f"{root}Conv3d_1a_7x7/conv_3d/w" in names:
            return root
    other = [s for s, (name, _) in STREAMS.items()
             if s != stream and f"{name}/inception_i3d/Conv3d_1a_7x7/conv_3d/w" in names]
    found = sorted(names)[:3]
    raise CheckpointError(
        f"The checkpoint has no {candidates[0]}Conv3d_1a_7x7/conv_3d/w, so it is not an I3D {stream} stream"
        + (f" (it holds the {other[0]} stream: use --stream {other[0]})" if other else "")
        + f"; its first variables are {found}."
    )


def _tensor(reader, shapes: dict[str, list[int]], name: str, expected: tuple[int, ...]) -> np.ndarray:
    if name not in shapes:
        raise CheckpointError(f"The checkpoint has no variable {name} (expected shape {expected}).")
    value = np.asarray(reader.get_tensor(name), dtype=np.float32)
    if value.shape != expected:
        if value.size == int(np.prod(expected)) and value.ndim > len(expected) and len(expected) == 1:
            return value.reshape(expected)  # Sonnet's (1, 1, 1, 1, C) moving statistics
        raise CheckpointError(f"Variable {name} has shape {tuple(value.shape)} in the checkpoint, "
                              f"but the I3D layer needs {expected}.")
    return value


def import_i3d_checkpoint(prefix: str | Path, stream: str = "rgb"):
    """A released I3D checkpoint as a Keras model (full width, any number of frames of 224 x 224 pixels).

    Args:
        prefix: the checkpoint path without ``.index`` (``.../rgb_imagenet/model.ckpt``).
        stream: ``"rgb"`` (input ``{"rgb": (B, T, 224, 224, 3)}`` in [-1, 1]) or ``"flow"``
            (``{"flow": (B, T, 224, 224, 2)}`` in [-1, 1]).

    Returns:
        ``keras.Model`` with outputs ``probs``, ``logits`` (the time-averaged logits, as the released
        code returns them) and ``features`` ``(B, T', 1024)``; the number of classes is the checkpoint's.

    Raises:
        CheckpointError: no checkpoint there, another stream, a missing variable or one of the wrong shape
            (the message names the variable and both shapes).
    """
    reader = _reader(prefix)
    shapes = reader.get_variable_to_shape_map()
    root = find_root(shapes, stream)
    logits_w = f"{root}{LOGITS_SCOPE}/conv_3d/w"
    if logits_w not in shapes:
        raise CheckpointError(f"The checkpoint has no variable {logits_w} (the classifier).")
    num_classes = int(shapes[logits_w][-1])
    model = build_i3d_stream(num_classes, channels=STREAMS[stream][1], frames=None, size=None, width=1.0,
                             final_pool=(2, 7, 7), input_name=stream, name=f"i3d_{stream}")
    for scope in unit_scopes():
        name = layer_name(scope)
        conv, bn = model.get_layer(f"{name}.conv_3d"), model.get_layer(f"{name}.batch_norm")
        conv.set_weights([_tensor(reader, shapes, f"{root}{scope}/conv_3d/w", tuple(conv.kernel.shape))])
        bn.set_weights([_tensor(reader, shapes, f"{root}{scope}/batch_norm/{v}", tuple(w.shape))
                        for v, w in zip(BN_VARIABLES, bn.weights)])
    logits = model.get_layer(f"{layer_name(LOGITS_SCOPE)}.conv_3d")
    logits.set_weights([_tensor(reader, shapes, logits_w, tuple(logits.kernel.shape)),
                        _tensor(reader, shapes, f"{root}{LOGITS_SCOPE}/conv_3d/b", tuple(logits.bias.shape))])
    return model


def import_i3d_to_file(prefix: str | Path, stream: str, out: str | Path) -> dict[str, Any]:
    """:func:`import_i3d_checkpoint`, saved to ``out`` (a ``.keras`` file, written atomically); a summary."""
    from hybridvid_lib.io_utils import atomic_path

    out = Path(out)
    if out.suffix != ".keras":
        raise CheckpointError(f"--out must name a .keras file; got {out}.")
    model = import_i3d_checkpoint(prefix, stream)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, suffix=".keras") as tmp:
        model.save(tmp)
    return {"out": str(out), "stream": stream, "num_classes": int(model.output["logits"].shape[-1]),
            "params": int(model.count_params())}
