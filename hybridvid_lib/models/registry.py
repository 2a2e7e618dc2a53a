"""The model registry: the names used in ``metrics.json`` mapped to the functions that build the models.

A builder is registered once, where its family is defined::

    @register_model("cnn_lstm", family="frame", description="2D CNN per frame -> LSTM -> softmax",
                    inputs=("rgb",), outputs=("probs",))
    def build_cnn_lstm(settings, num_classes, **kwargs) -> keras.Model: ...

and used everywhere by name::

    model = build_model("cnn_lstm", settings, num_classes=12)

Inputs and outputs. A registration names the modalities the model takes (``rgb``, ``flow``,
``joints``, ``features``: the keys of a pipeline element, see
:mod:`hybridvid_lib.data.pipeline`) and what it returns: ``("probs",)`` for a model whose
output is the class probabilities, or more names (``attention``, ``embedding``, ``logits``)
for a model returning a dict with a ``probs`` key. :func:`build_model` checks the built
model against its registration, so training, evaluation and ``metrics.json`` can rely on
``probs`` and never guess probabilities from values.

An unknown name raises :class:`~hybridvid_lib.errors.ModelError` listing the known ones,
so ``hybridvid train --model cnn_lsmt`` tells the user what to type instead.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

from hybridvid_lib.config import Settings
from hybridvid_lib.data.records import MODALITIES
from hybridvid_lib.errors import ModelError

Builder = Callable[..., Any]  # (settings, num_classes, **kwargs) -> keras.Model


@dataclass(frozen=True)
class _Entry:
    name: str
    family: str
    description: str
    builder: Builder
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


_REGISTRY: dict[str, _Entry] = {}


def register_model(name: str, *, family: str, description: str, inputs: tuple[str, ...] = ("rgb",),
                   outputs: tuple[str, ...] = ("probs",)) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder(settings, num_classes, **kwargs) -> keras.Model`` under ``name``.

    Args:
        name: the model's name in metrics.json and on the command line (lower case, ``_``).
        family: the chapter family it belongs to (``frame``, ``two_stream``, ``3d``, ...).
        description: one line a learner can read in a list of models.
        inputs: the modalities the model takes, named as pipeline features (``rgb``, ``flow``, ...).
        outputs: ``("probs",)`` when the model returns probabilities; otherwise the keys of its
            dict output, ``probs`` among them.

    Raises:
        ValueError: ``name`` is empty or already registered to another builder, an input is
            not a modality, or ``outputs`` has no ``probs``.
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"A model name must be a non-empty string; got {name!r}.")
    inputs, outputs = tuple(inputs), tuple(outputs)
    if not inputs or any(i not in MODALITIES for i in inputs):
        raise ValueError(f"Model {name!r}: inputs must be names from {', '.join(MODALITIES)}; got {inputs!r}.")
    if "probs" not in outputs or len(set(outputs)) != len(outputs):
        raise ValueError(f"Model {name!r}: outputs must name 'probs' once (and any extra outputs); got {outputs!r}.")

    def decorator(builder: Builder) -> Builder:
        known = _REGISTRY.get(name)
        # Re-importing a module (autoreload in a notebook) registers the same function again: allow it.
        if known is not None and known.builder.__qualname__ != builder.__qualname__:
            raise ValueError(f"Model name {name!r} is already registered by {known.builder.__qualname__}.")
        _REGISTRY[name] = _Entry(name, family, description, builder, inputs, outputs)
        return builder

    return decorator


def list_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_REGISTRY)


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY:
        known = ", ".join(list_models()) or "(none registered)"
        raise ModelError(f"Unknown model {name!r}; known models: {known}.")
    return _REGISTRY[name]


def model_info(name: str) -> dict[str, Any]:
    """``{"name", "family", "description", "inputs", "outputs", "options"}`` of a registered model.

    ``options`` maps the builder's keyword arguments (what ``build_model(..., **kwargs)``
    accepts) to their defaults.

    Raises:
        ModelError: unknown name (the message lists the known ones).
    """
    entry = _entry(name)
    params = inspect.signature(entry.builder).parameters
    options = {p.name: p.default for p in params.values()
               if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return {"name": entry.name, "family": entry.family, "description": entry.description,
            "inputs": entry.inputs, "outputs": entry.outputs, "options": options}


def build_model(name: str, settings: Settings, num_classes: int, **kwargs: Any):
    """Build the registered model ``name`` for clips of ``settings`` and ``num_classes`` classes.

    Args:
        name: a name from :func:`list_models`.
        settings: resolved settings; the input shape is
            ``(settings.num_frames, settings.frame_size, settings.frame_size, 3)``.
        num_classes: size of the softmax output.
        **kwargs: the builder's options (see ``model_info(name)["options"]``).

    Returns:
        An uncompiled ``keras.Model`` named ``name`` whose inputs are named after its registered
        modalities (a dict input, e.g. ``{"rgb": (B, T, S, S, 3)}``) and whose output is
        ``(B, num_classes)`` probabilities, or a dict with them under ``probs``.

    Raises:
        ModelError: unknown name, an option the builder does not have, or a built model that
            does not match its registration (a bug in the builder).
        ValueError: ``num_classes`` below 2.
    """
    entry = _entry(name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be a whole number of at least 2; got {num_classes!r}.")
    options = model_info(name)["options"]
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise ModelError(f"Model {name!r} has no option {', '.join(unknown)}; its options: "
                         f"{', '.join(options) or '(none)'}.")
    model = entry.builder(settings, num_classes, **kwargs)
    _check_built(entry, model)
    return model


def _check_built(entry: _Entry, model: Any) -> None:
    names = {tensor.name for tensor in model.inputs}
    missing = [i for i in entry.inputs if i not in names]
    if missing:
        raise ModelError(f"The {entry.name} builder made a model without the input(s) {', '.join(missing)} "
                         f"it is registered with (it has {', '.join(sorted(names))}).")
    output = model.output
    keys = tuple(sorted(output)) if isinstance(output, dict) else ("probs",)
    if keys != tuple(sorted(entry.outputs)):
        raise ModelError(f"The {entry.name} builder made a model with outputs {keys}; it is registered with "
                         f"{entry.outputs}.")


def output_probs(outputs: Any) -> Any:
    """The probabilities in a model's outputs: the ``probs`` entry of a dict, or the outputs themselves."""
    if isinstance(outputs, dict):
        if "probs" not in outputs:
            raise ModelError(f"A model's dict output must hold 'probs'; it has {', '.join(sorted(outputs))}.")
        return outputs["probs"]
    return outputs
