"""Checks for the exercises of chapter 06 (I3D by inflation): ``from hybridvid_lib.exercises.ch06 import q1, q2, q3``.

- ``q1``: ``inflate_model(model_2d, time) -> model_3d``: a whole small 2D network (:func:`tiny_2d_net`: two
  convolutions with batch norm, ReLU and a 2 x 2 max pool) inflated by hand, every kernel with chapter 03's
  ``inflate``. The check runs the boring-video test on the learner's network: a frame repeated along time must give,
  at every time step clear of the zero padding, the 2D network's maps of that frame. Kernels not divided by
  ``time``, batch-norm statistics left at their initial values, a pool that halves time, a kernel put on the
  middle slice only, each get their own message.
- ``q2``: ``receptive_fields(chain) -> [(name, frames, jump), ...]``: the temporal receptive field after each
  entry of a chain of layers whose Inception blocks have parallel branches (:data:`I3D_TIME_CHAIN`, I3D's layers
  along time). Checked on I3D (99 frames, a jump of 8, as
  :func:`hybridvid_lib.models.inflation.temporal_receptive_field` walks it from the model), on C3D's chain and on
  chains built to catch the usual slips (branches summed, the jump forgotten, the jump updated before the
  kernel).
- ``q3``: the measured experiment. A tiny 2D network is trained on still frames of four shapes
  (:func:`shape_frames`, standing in for ImageNet); it is inflated with the learner's ``inflate_model`` and
  fine-tuned on a few clips of the shapes moving (:func:`shape_clips`), against the same 3D network from a random
  initialisation trained the same way. The check measures both trained networks on clips of its own draw.

TensorFlow is imported only when a check of a model runs, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from hybridvid_lib.exercises.core import (
    IncorrectAnswer, Question, call_learner, compare_reported, describe, learner_probabilities, reported_accuracies,
)

__all__ = ["q1", "q2", "q3", "tiny_2d_net", "tiny_3d_net", "shape_frames", "shape_clips", "I3D_TIME_CHAIN",
           "C3D_TIME_CHAIN", "SHAPES", "SHAPE_SIZE", "SHAPE_FRAMES", "receptive_fields_reference"]

#: I3D's layers along time, in the order of the released endpoints: ``(name, (kernel, stride))`` for a layer,
#: ``(name, [branch, ...])`` for a Mixed block, each branch a list of ``(kernel, stride)`` (1x1x1, 1x1x1 -> 3x3x3,
#: 1x1x1 -> 3x3x3, 3x3x3 max pool -> 1x1x1; the branches run side by side and are concatenated).
_MIXED = [[(1, 1)], [(1, 1), (3, 1)], [(1, 1), (3, 1)], [(3, 1), (1, 1)]]
I3D_TIME_CHAIN: tuple = (
    ("Conv3d_1a_7x7", (7, 2)), ("MaxPool3d_2a_3x3", (1, 1)), ("Conv3d_2b_1x1", (1, 1)),
    ("Conv3d_2c_3x3", (3, 1)), ("MaxPool3d_3a_3x3", (1, 1)), ("Mixed_3b", _MIXED), ("Mixed_3c", _MIXED),
    ("MaxPool3d_4a_3x3", (3, 2)), ("Mixed_4b", _MIXED), ("Mixed_4c", _MIXED), ("Mixed_4d", _MIXED),
    ("Mixed_4e", _MIXED), ("Mixed_4f", _MIXED), ("MaxPool3d_5a_2x2", (2, 2)), ("Mixed_5b", _MIXED),
    ("Mixed_5c", _MIXED),
)
#: C3D's layers along time (chapter 03): no branches.
C3D_TIME_CHAIN: tuple = (
    ("conv1", (3, 1)), ("pool1", (1, 1)), ("conv2", (3, 1)), ("pool2", (2, 2)), ("conv3a", (3, 1)),
    ("conv3b", (3, 1)), ("pool3", (2, 2)), ("conv4a", (3, 1)), ("conv4b", (3, 1)), ("pool4", (2, 2)),
    ("conv5a", (3, 1)), ("conv5b", (3, 1)), ("pool5", (2, 2)),
)
#: The classes of q3's frames and clips (label = index).
SHAPES: tuple[str, ...] = ("square", "plus", "cross", "disk")
#: Pixels per side of q3's frames, and frames per clip.
SHAPE_SIZE = 16
SHAPE_FRAMES = 8
# Data draws (seeds) and sizes of q3's parts: many still frames, few training clips.
_SEEDS = {"train": 0, "test": 1, "check": 2}
_FRAMES_PER_CLASS = 100
_CLIPS_PER_CLASS = {"train": 6, "test": 40, "check": 40}


def _keras() -> Any:
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras  # noqa: PLC0415 - after TensorFlow's quiet import

    return keras


# ------------------------------------------------------------------------------ the tiny networks
def tiny_2d_net(channels: int = 1, size: int | None = SHAPE_SIZE, seed: int = 0):
    """A small 2D trunk, ``(B, S, S, channels)`` -> ``(B, S/2, S/2, 16)`` maps: the network q1 and q3 inflate.

    Layers, in order: ``conv1`` (Conv2D 8, 3 x 3, no bias), ``bn1``, ``relu1``, ``pool1`` (max 2 x 2),
    ``conv2`` (Conv2D 16, 3 x 3, with bias), ``bn2``, ``relu2``. Batch norm with momentum 0.9, epsilon 1e-3.
    """
    keras = _keras()
    keras.utils.set_random_seed(seed)
    L = keras.layers
    inputs = keras.Input((size, size, channels), name="frame")
    x = L.Conv2D(8, 3, padding="same", use_bias=False, name="conv1")(inputs)
    x = L.BatchNormalization(momentum=0.9, epsilon=1e-3, name="bn1")(x)
    x = L.ReLU(name="relu1")(x)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Conv2D(16, 3, padding="same", use_bias=True, name="conv2")(x)
    x = L.BatchNormalization(momentum=0.9, epsilon=1e-3, name="bn2")(x)
    x = L.ReLU(name="relu2")(x)
    return keras.Model(inputs, x, name="tiny_2d_net")


def tiny_3d_net(time: int = 3, channels: int = 1, size: int | None = SHAPE_SIZE, seed: int = 0):
    """The 3D shape of :func:`tiny_2d_net`, from a random initialisation: ``(B, T, S, S, C)`` -> ``(B, T, S/2, S/2, 16)``.

    Kernels ``time x 3 x 3`` (SAME padding), the pool ``1 x 2 x 2`` (every frame kept), the same layer names.
    """
    keras = _keras()
    keras.utils.set_random_seed(seed)
    L = keras.layers
    inputs = keras.Input((None, size, size, channels), name="clip")
    x = L.Conv3D(8, (time, 3, 3), padding="same", use_bias=False, name="conv1")(inputs)
    x = L.BatchNormalization(momentum=0.9, epsilon=1e-3, name="bn1")(x)
    x = L.ReLU(name="relu1")(x)
    x = L.MaxPooling3D((1, 2, 2), name="pool1")(x)
    x = L.Conv3D(16, (time, 3, 3), padding="same", use_bias=True, name="conv2")(x)
    x = L.BatchNormalization(momentum=0.9, epsilon=1e-3, name="bn2")(x)
    x = L.ReLU(name="relu2")(x)
    return keras.Model(inputs, x, name="tiny_3d_net")


def _layers_of(model: Any, kind: Any) -> list:
    found, stack = [], list(getattr(model, "layers", []))[::-1]
    while stack:
        layer = stack.pop()
        if isinstance(layer, kind):
            found.append(layer)
        inner = getattr(layer, "layers", None)
        if inner and layer is not model:
            stack.extend(list(inner)[::-1])
    return found


# ------------------------------------------------------------------------------ q1 inflate a whole network
class InflateModel(Question):
    """``inflate_model(model_2d, time)``: the whole :func:`tiny_2d_net` as a 3D network, passing the boring-video test."""

    title = "Inflate a whole 2D network, and pass the boring-video test"
    hints = (
        "Walk `model_2d.layers` in order and build the 3D twin of each: a Conv2D becomes a Conv3D whose kernel has a "
        "time axis of length `time` (padding SAME, stride 1 in time), a MaxPooling2D a MaxPooling3D that keeps every "
        "frame, batch norm and ReLU stay what they are. Then copy the weights: kernels through chapter 03's "
        "`inflate`, everything else as it is.",
        "`conv3d.set_weights([inflate(w[0], time)] + w[1:])` with `w = conv2d.get_weights()` (the bias, if any, "
        "is `w[1]`); `bn3d.set_weights(bn2d.get_weights())` (gamma, beta, moving mean, moving variance); "
        "`MaxPooling3D((1,) + pool.pool_size)`.",
    )
    solution_code = """
        def inflate(kernel_2d, time):                      # chapter 03's answer
            return np.repeat(kernel_2d[None], time, axis=0) / time

        def inflate_model(model_2d, time):
            L = keras.layers
            inputs = keras.Input((None,) + tuple(model_2d.input.shape[1:]))   # (T, S, S, C), any T
            x = inputs
            for layer in model_2d.layers[1:]:              # layers[0] is the input
                if isinstance(layer, L.Conv2D):
                    twin = L.Conv3D(layer.filters, (time,) + tuple(layer.kernel_size),
                                    strides=(1,) + tuple(layer.strides), padding="same",
                                    use_bias=layer.use_bias, name=layer.name)
                    x = twin(x)
                    w = layer.get_weights()
                    twin.set_weights([inflate(w[0], time)] + w[1:])
                elif isinstance(layer, L.BatchNormalization):
                    twin = L.BatchNormalization(momentum=layer.momentum, epsilon=layer.epsilon, name=layer.name)
                    x = twin(x)
                    twin.set_weights(layer.get_weights())
                elif isinstance(layer, L.MaxPooling2D):
                    x = L.MaxPooling3D((1,) + tuple(layer.pool_size), strides=(1,) + tuple(layer.strides),
                                       padding=layer.padding, name=layer.name)(x)
                elif isinstance(layer, L.ReLU):
                    x = L.ReLU(name=layer.name)(x)
                else:
                    raise ValueError(f"no 3D twin for {layer.name}")
            return keras.Model(inputs, x, name="inflated")
    """
    correct_note = (
        "on a still clip your 3D network gives the 2D network's maps at every step clear of the padding: I3D is "
        "started this way from ImageNet's Inception-v1, and the chapter's `inflate_from_2d` does the same for its "
        "57 units by pairing the layers by name."
    )

    SIZE = 12
    TIMES = (3, 5)

    def check_answer(self, inflate_model) -> None:
        keras = _keras()
        rng = np.random.default_rng(5)
        for time in self.TIMES:
            net_2d = tiny_2d_net(channels=3, size=self.SIZE, seed=time)
            for bn in _layers_of(net_2d, keras.layers.BatchNormalization):  # trained-looking statistics
                gamma, beta, mean, var = bn.get_weights()
                bn.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.2, beta.shape),
                                rng.normal(0, 0.2, mean.shape), rng.uniform(0.5, 2.0, var.shape)])
            conv2 = net_2d.get_layer("conv2")
            conv2.set_weights([conv2.get_weights()[0], rng.normal(0, 0.3, conv2.bias.shape)])
            call = f"inflate_model(tiny_2d_net(channels=3, size={self.SIZE}), time={time})"
            model = call_learner(inflate_model, net_2d, time, name="inflate_model")
            if not isinstance(model, keras.Model):
                raise IncorrectAnswer(f"`{call}` should return a keras.Model; got {describe(model)}.")
            convs = _layers_of(model, keras.layers.Conv3D)
            if len(convs) != 2:
                raise IncorrectAnswer(
                    f"`{call}` has {len(convs)} Conv3D layers; every Conv2D of the 2D network (`conv1`, `conv2`) "
                    "should become one Conv3D, in the same order."
                )
            for conv3d, name in zip(convs, ("conv1", "conv2")):
                k2 = net_2d.get_layer(name).kernel.numpy()
                k3 = conv3d.kernel.numpy()
                if k3.shape != (time,) + k2.shape:
                    raise IncorrectAnswer(
                        f"in `{call}` the Conv3D twin of `{name}` has a kernel of shape {k3.shape}; inflating "
                        f"{k2.shape} along time gives {(time,) + k2.shape}: (time, kH, kW, C_in, C_out)."
                    )
                total = k3.sum(axis=0)
                if np.allclose(total, time * k2, rtol=1e-4, atol=1e-6) and time > 1:
                    raise IncorrectAnswer(
                        f"the time slices of `{name}`'s 3D kernel add up to {time} times the 2D kernel: on a still "
                        f"clip the {time} copies each see the same frame, so divide by `time` (chapter 03's "
                        "`inflate`)."
                    )
                if not np.allclose(total, k2, rtol=1e-4, atol=1e-6):
                    raise IncorrectAnswer(
                        f"the kernel of `{name}`'s 3D twin is not the 2D kernel inflated (its time slices should add "
                        "up to the 2D kernel): copy the weights with `set_weights` after the layer is built, through "
                        "`inflate`."
                    )
            bns = _layers_of(model, keras.layers.BatchNormalization)
            if len(bns) != 2:
                raise IncorrectAnswer(f"`{call}` has {len(bns)} BatchNormalization layers; the 2D network has two "
                                      "(`bn1`, `bn2`), and each keeps its place after its convolution.")
            for bn3d, name in zip(bns, ("bn1", "bn2")):
                mine = [np.asarray(w) for w in net_2d.get_layer(name).get_weights()]
                theirs = [np.asarray(w) for w in bn3d.get_weights()]
                if len(mine) != len(theirs) or not all(a.shape == b.shape and np.allclose(a, b, rtol=1e-5)
                                                       for a, b in zip(mine, theirs)):
                    raise IncorrectAnswer(
                        f"the batch norm after the twin of `{name.replace('bn', 'conv')}` does not hold `{name}`'s "
                        "weights: copy all four (gamma, beta, moving mean, moving variance) with `set_weights`. A "
                        "fresh batch norm (mean 0, variance 1) normalises with statistics the 2D network never had."
                    )
            frames = 6 * time
            frame = rng.uniform(-1, 1, (1, self.SIZE, self.SIZE, 3)).astype(np.float32)
            boring = np.repeat(frame[:, None], frames, axis=1)
            out = call_learner(lambda x: model(x, training=False), boring, name="model_3d")
            maps = np.asarray(out, dtype=np.float64) if not isinstance(out, (dict, list, tuple)) else None
            expected = np.asarray(net_2d(frame, training=False), dtype=np.float64)  # (1, S/2, S/2, 16)
            want = (1, frames) + expected.shape[1:]
            if maps is None or maps.shape != want:
                got = describe(out) if maps is None else str(maps.shape)
                tip = (" Its time axis is shorter: a pool of 2 x 2 x 2 halves time; the 2D network's 2 x 2 pool "
                       "becomes 1 x 2 x 2 (every frame kept)."
                       if maps is not None and maps.ndim == 5 and maps.shape[1] < frames else "")
                raise IncorrectAnswer(f"on a clip of shape (1, {frames}, {self.SIZE}, {self.SIZE}, 3) the inflated "
                                      f"network should give maps of shape {want}; got {got}.{tip}")
            margin = 2 * (time // 2)  # two convolutions of `time` frames, SAME padding
            inside = maps[:, margin:frames - margin]
            gap = float(np.abs(inside - expected[:, None]).max())
            if gap > 1e-4 * max(1.0, float(np.abs(expected).max())):
                raise IncorrectAnswer(
                    f"boring-video test with `{call}`: one frame repeated {frames} times should give, at every step "
                    f"from {margin} to {frames - margin - 1} (clear of the zero padding), the 2D network's maps of "
                    f"the frame; the largest difference is {gap:.3g}. Check the padding (SAME), the strides "
                    "(1 in time) and the order of the layers."
                )
            for conv3d in convs:
                slices = conv3d.kernel.numpy().reshape(time, -1)
                if not np.allclose(slices, slices[:1], atol=1e-6):
                    raise IncorrectAnswer(
                        "your network passes the boring-video test, but the time slices of a kernel differ (e.g. "
                        "all the weight on the middle frame). That is a valid start too, yet not I3D's inflation, "
                        "which spreads the 2D weights evenly over time: every slice should be the same."
                    )


# ------------------------------------------------------------------------------ q2 receptive field with branches
def receptive_fields_reference(chain: Sequence) -> list[tuple[str, int, int]]:
    """``[(name, frames, jump), ...]`` after each entry of ``chain`` (the rule of q2)."""
    field, jump, rows = 1, 1, []
    for name, spec in chain:
        if isinstance(spec, list):  # a block: its branches side by side, the widest decides
            ends = []
            for branch in spec:
                f, j = field, jump
                for k, s in branch:
                    f, j = f + (k - 1) * j, j * s
                ends.append((f, j))
            field, jump = max(f for f, _ in ends), ends[0][1]
        else:
            k, s = spec
            field, jump = field + (k - 1) * jump, jump * s
        rows.append((name, field, jump))
    return rows


def _check_chains() -> list[tuple[str, tuple]]:
    uneven = (("stem", (3, 2)), ("block", [[(1, 1)], [(3, 1), (5, 1)], [(3, 1)]]), ("pool", (2, 2)),
              ("head", (3, 1)))
    stride_first = (("conv_a", (5, 2)), ("conv_b", (3, 2)), ("conv_c", (3, 1)))
    return [("I3D (I3D_TIME_CHAIN)", I3D_TIME_CHAIN), ("C3D (C3D_TIME_CHAIN)", C3D_TIME_CHAIN),
            ("a block with branches of unequal length", uneven), ("strided convolutions", stride_first)]


class ReceptiveFields(Question):
    """``receptive_fields(chain)``: ``[(name, frames, jump), ...]`` after each entry, branches side by side."""

    title = "Compute I3D's temporal receptive field, Inception branches included"
    hints = (
        "Keep two numbers while you walk the chain: the field `r` (frames one unit sees) and the jump `j` (input "
        "frames between two neighbouring units). A kernel `k` adds `(k - 1)` steps of the *current* jump; a stride "
        "`s` multiplies the jump for what comes after. A block's branches all start from the same `(r, j)` and run "
        "side by side: the block's output concatenates them, so a unit of it sees as far as its widest branch.",
        "For a plain entry: `r, j = r + (k - 1) * j, j * s`. For a block: compute `(r, j)` at the end of every branch "
        "from the block's input and keep `max` of the fields (not the sum: the branches are not stacked).",
    )
    solution_code = """
        def receptive_fields(chain):
            r, j, rows = 1, 1, []
            for name, spec in chain:
                if isinstance(spec, list):                 # a block: branches side by side
                    ends = []
                    for branch in spec:
                        rb, jb = r, j
                        for k, s in branch:
                            rb, jb = rb + (k - 1) * jb, jb * s
                        ends.append((rb, jb))
                    r, j = max(e[0] for e in ends), ends[0][1]
                else:
                    k, s = spec
                    r, j = r + (k - 1) * j, j * s
                rows.append((name, r, j))
            return rows
    """
    correct_note = (
        "one Mixed_5c step of I3D sees 99 frames and the steps are 8 frames apart: a 64-frame clip is inside the "
        "field of every step, so no step of such a clip is clear of the zero padding, which is why the chapter's "
        "boring-video test needs a longer still clip (`boring_video_steps`)."
    )

    def check_answer(self, receptive_fields) -> None:
        for what, chain in _check_chains():
            call = f"receptive_fields({what})"
            answer = call_learner(receptive_fields, chain, name="receptive_fields")
            expected = receptive_fields_reference(chain)
            try:
                rows = [(str(n), int(f), int(j)) for n, f, j in answer]
            except Exception:
                raise IncorrectAnswer(f"`{call}` should return a list of (name, frames, jump), one per entry of the "
                                      f"chain ({len(chain)} entries); got {describe(answer)}.") from None
            if len(rows) != len(expected):
                raise IncorrectAnswer(f"`{call}` returned {len(rows)} rows; the chain has {len(chain)} entries, one "
                                      "row after each (a block is one entry).")
            for (name, f, j), (_, ef, ej) in zip(rows, expected):
                if (f, j) == (ef, ej):
                    continue
                tip = ""
                summed = _variant(chain, "sum")
                if [(r[1], r[2]) for r in summed] == [(r[1], r[2]) for r in rows]:
                    tip = (" The branches of a block were added up: they run side by side on the same input, so the "
                           "block sees as far as its *widest* branch (max), not the sum.")
                elif [(r[1], r[2]) for r in _variant(chain, "no_jump")] == [(r[1], r[2]) for r in rows]:
                    tip = (" Each kernel added `k - 1` frames whatever came before: after a stride of 2, neighbouring "
                           "units are 2 input frames apart, so a kernel adds `(k - 1) * jump`.")
                elif [(r[1], r[2]) for r in _variant(chain, "stride_first")] == [(r[1], r[2]) for r in rows]:
                    tip = (" The jump was multiplied before the kernel was added: a layer's own stride spaces its "
                           "*outputs*; its kernel still steps over its input at the input's jump.")
                raise IncorrectAnswer(
                    f"`{call}`: after `{name}` the field should be {ef} frames with a jump of {ej}; got {f} and "
                    f"{j}.{tip}"
                )


def _variant(chain: Sequence, slip: str) -> list[tuple[str, int, int]]:
    """The rows a known slip gives (for the check's messages)."""
    field, jump, rows = 1, 1, []

    def step(f, j, k, s):
        if slip == "no_jump":
            return f + (k - 1), j * s
        if slip == "stride_first":
            return f + (k - 1) * j * s, j * s
        return f + (k - 1) * j, j * s

    for name, spec in chain:
        if isinstance(spec, list):
            adds, ends = [], []
            for branch in spec:
                f, j = field, jump
                for k, s in branch:
                    f, j = step(f, j, k, s)
                adds.append(f - field)
                ends.append((f, j))
            field = field + sum(adds) if slip == "sum" else max(e[0] for e in ends)
            jump = ends[0][1]
        else:
            field, jump = step(field, jump, *spec)
        rows.append((name, field, jump))
    return rows


# ------------------------------------------------------------------------------ q3 measured experiment
def _draw_shape(canvas: np.ndarray, shape: int, cy: float, cx: float, value: float) -> None:
    size = canvas.shape[0]
    yy, xx = np.mgrid[0:size, 0:size]
    dy, dx = yy - cy, xx - cx
    if shape == 0:  # square outline, 7 pixels
        mask = (np.maximum(np.abs(dy), np.abs(dx)) <= 3.2) & (np.maximum(np.abs(dy), np.abs(dx)) >= 2.4)
    elif shape == 1:  # plus
        mask = ((np.abs(dy) <= 0.6) & (np.abs(dx) <= 3.4)) | ((np.abs(dx) <= 0.6) & (np.abs(dy) <= 3.4))
    elif shape == 2:  # cross (x)
        mask = ((np.abs(dy - dx) <= 0.8) | (np.abs(dy + dx) <= 0.8)) & (np.maximum(np.abs(dy), np.abs(dx)) <= 3.2)
    else:  # filled disk
        mask = dy ** 2 + dx ** 2 <= 2.8 ** 2
    canvas[mask] = value


def _shape_data(part: str, clips: bool) -> tuple[np.ndarray, np.ndarray]:
    if part not in _SEEDS:
        raise ValueError(f"part must be one of {sorted(_SEEDS)}; got {part!r}.")
    rng = np.random.default_rng(_SEEDS[part] + (100 if clips else 0))
    per_class = _CLIPS_PER_CLASS[part] if clips else _FRAMES_PER_CLASS
    steps = SHAPE_FRAMES if clips else 1
    x = np.zeros((len(SHAPES) * per_class, steps, SHAPE_SIZE, SHAPE_SIZE, 1), np.float32)
    y = np.repeat(np.arange(len(SHAPES)), per_class)
    for n, label in enumerate(y):
        velocity = rng.uniform(-0.8, 0.8, 2) if clips else np.zeros(2)
        start = rng.uniform(4, SHAPE_SIZE - 5, 2)
        end = np.clip(start + velocity * (steps - 1), 4, SHAPE_SIZE - 5)
        value = rng.uniform(0.6, 1.0)
        for t in range(steps):
            cy, cx = start + (end - start) * (t / max(1, steps - 1))
            _draw_shape(x[n, t, :, :, 0], int(label), cy, cx, value)
        x[n] += rng.normal(0, 0.25, x[n].shape).astype(np.float32)
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    return (x if clips else x[:, 0]), y


def shape_frames(part: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Still frames of the four :data:`SHAPES` (q3's ImageNet): ``(N, 16, 16, 1)`` float32 and labels ``(N,)``."""
    return _shape_data(part, clips=False)


def shape_clips(part: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Clips of the shapes sliding across the frame: ``(N, 8, 16, 16, 1)`` float32 and labels ``(N,)``.

    ``"train"`` has 6 clips per class (few, on purpose), ``"test"`` and ``"check"`` 40 each, other draws.
    """
    return _shape_data(part, clips=True)


class InflationExperiment(Question):
    """``q3.check(inflated_model, random_model, measured)``: two trained 3D classifiers and their measured accuracies.

    ``measured`` is ``{"inflated": float, "random": float}``: each model's accuracy on ``shape_clips("test")``.
    The check measures both again on ``shape_clips("check")``: both must contain a Conv3D, the inflated one must
    beat the random one by at least 0.15, and the reported numbers must be within 0.15 of the check's.
    """

    title = "Measure it: inflated against random initialisation, with few training clips"
    hints = (
        "Train `tiny_2d_net` with a small head (global average pool, Dense softmax) on `shape_frames('train')` "
        "for a few epochs. Inflate its trunk with your `inflate_model`, put the same head on it (global average pool "
        "over time and space, a Dense that starts from the 2D head's weights), and train it on the few "
        "`shape_clips('train')` for a fixed number of steps. Train `tiny_3d_net` with the same head the same way. "
        "Measure both on `shape_clips('test')`.",
        "`head = keras.layers.Dense(4, activation='softmax')`; after building the 3D classifier, "
        "`dense3d.set_weights(dense2d.get_weights())`; the same `compile(Adam(1e-3), "
        "'sparse_categorical_crossentropy')` and `fit(x_clips, y_clips, epochs=10, batch_size=8)` for both.",
    )
    solution_code = """
        def classifier(trunk, rank, head_from=None):
            pool = keras.layers.GlobalAveragePooling3D() if rank == 3 else keras.layers.GlobalAveragePooling2D()
            head = keras.layers.Dense(len(SHAPES), activation="softmax", name="head")
            model = keras.Model(trunk.input, head(pool(trunk.output)))
            if head_from is not None:                  # start from the 2D classifier's head
                head.set_weights(head_from.get_layer("head").get_weights())
            return model

        def train(model, x, y, epochs):
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
            model.fit(x, y, epochs=epochs, batch_size=8, verbose=0)
            return model

        def accuracy(model, x, y):
            return float(np.mean(model.predict(x, verbose=0).argmax(axis=1) == y))

        x_frames, y_frames = shape_frames("train")     # 400 still frames: our "ImageNet"
        x_clips, y_clips = shape_clips("train")        # 24 clips: few, on purpose
        x_test, y_test = shape_clips("test")
        net_2d = tiny_2d_net(seed=0)
        image_model = train(classifier(net_2d, rank=2), x_frames, y_frames, epochs=5)
        inflated_model = train(classifier(inflate_model(net_2d, time=3), rank=3, head_from=image_model),
                               x_clips, y_clips, epochs=10)
        random_model = train(classifier(tiny_3d_net(time=3, seed=0), rank=3), x_clips, y_clips, epochs=10)
        measured = {"inflated": accuracy(inflated_model, x_test, y_test),
                    "random": accuracy(random_model, x_test, y_test)}
    """

    KEYS = ("inflated", "random")
    MIN_GAIN = 0.15
    TOLERANCE = 0.15

    def check_answer(self, inflated_model, random_model, measured) -> None:
        keras = _keras()
        reported = reported_accuracies(measured, self.KEYS)
        models = dict(zip(self.KEYS, (inflated_model, random_model)))
        for key, model in models.items():
            if not isinstance(model, keras.Model):
                raise IncorrectAnswer(f"`{key}_model` should be a trained keras.Model; got {describe(model)}.")
            if not _layers_of(model, keras.layers.Conv3D):
                raise IncorrectAnswer(f"`{key}_model` has no Conv3D layer: both models of the experiment are 3D "
                                      "networks of the same shape, one inflated, one from a random start.")
        x, y = shape_clips("check")
        where = f"on {len(x)} clips of the check's own draw ({len(SHAPES)} shapes, chance {1 / len(SHAPES):.2f})"
        scores = {}
        for key, model in models.items():
            p = learner_probabilities(model, x, name=f"{key}_model", num_classes=len(SHAPES),
                                      input_doc=f"(B, {SHAPE_FRAMES}, {SHAPE_SIZE}, {SHAPE_SIZE}, 1) clips")
            scores[key] = float(np.mean(p.argmax(axis=1) == y))
        gain = scores["inflated"] - scores["random"]
        if gain < self.MIN_GAIN:
            raise IncorrectAnswer(
                f"measured {where}, `inflated_model` scores {scores['inflated']:.2f} and `random_model` "
                f"{scores['random']:.2f}: with 24 training clips the inflated start should lead by at least "
                f"{self.MIN_GAIN}. Was the 2D network trained on the frames before you inflated it, did the inflated "
                "model keep the 2D head's weights, and did both train for the same few steps? The order is "
                "`q3.check(inflated_model, random_model, measured)`."
            )
        compare_reported(reported, scores, self.KEYS, tolerance=self.TOLERANCE, where=where,
                         data="`shape_clips('test')`")
        self.measured_note = (
            f"measured again {where}: inflated {scores['inflated']:.2f}, random {scores['random']:.2f} (you measured "
            f"{reported['inflated']:.2f} and {reported['random']:.2f}). With few clips, what the 2D network learned "
            "from many still frames carries over through inflation; the random 3D start has to learn the shapes "
            "from the clips alone. I3D starts from ImageNet for the same reason."
        )


q1 = InflateModel("q1")
q2 = ReceptiveFields("q2")
q3 = InflationExperiment("q3")
