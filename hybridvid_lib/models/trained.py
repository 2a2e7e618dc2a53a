"""Models built from trained models: load a run folder's model, or reuse its backbone.

A finished training run (:func:`~hybridvid_lib.training.train_model`) leaves ``RUN/model.keras``
(the whole model, every output) beside ``RUN/state.json``. Chapters build on earlier ones
through these two functions: a fusion model takes its streams' run folders, an LSTM head
starts from a trained frame encoder (``backbone_from=RUN``), a feature cache is filled by a
trained backbone.
"""

from __future__ import annotations

import json
from pathlib import Path

from hybridvid_lib.errors import ModelError

MODEL_FILE = "model.keras"
BACKBONE_LAYER = "backbone"


def load_keras_file(path: str | Path, *, what: str = "model file"):
    """Load a ``.keras`` file in safe mode, without compiling it; every failure is one :class:`ModelError`.

    Safe mode refuses layers that carry Python code (a ``Lambda`` layer's function is pickled
    bytecode, and loading it runs whatever its author wrote); the kit's own layers are registered
    classes and load without it. Only the ``.keras`` format is read: legacy ``.h5`` files take
    another loader, so they are refused rather than opened.

    Args:
        path: the file.
        what: what the file is, for the messages (``"weights file"``, ``"model file"``).

    Raises:
        ModelError: no such file, another format, a layer with code, or not a Keras model at all.
    """
    import zipfile

    import keras

    import hybridvid_lib.models  # noqa: F401 - registers the kit's layers before loading

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"No {what} {path}; expected a .keras file (a run's model.keras, or one written by "
                         "`hybridvid models import-i3d`).")
    if path.suffix.lower() != ".keras":
        raise ModelError(f"The {what} {path} is not a .keras file; the kit loads only the .keras format "
                         "(re-save the model with model.save('NAME.keras')).")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except ValueError as err:
        if "safe_mode" in str(err) or "arbitrary code" in str(err):
            raise ModelError(f"The {what} {path} holds a layer with Python code (such as a Lambda layer), which "
                             "the kit never loads because loading it would run that code; expected a model made "
                             "of registered layers (rebuild it without Lambda layers).") from None
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    except (OSError, KeyError, TypeError, zipfile.BadZipFile) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    raise ModelError(f"The {what} {path} is not a Keras model the kit can load ({reason}); expected a .keras "
                     "file saved by Keras 3 from the kit's models.")


def load_run_model(run_dir: str | Path, *, expect: str | None = None):
    """The trained model of a run folder (``RUN/model.keras``, loaded in safe mode).

    Args:
        run_dir: a folder written by :func:`~hybridvid_lib.training.train_model`.
        expect: the registered model name the run must hold (``None``: any).

    Raises:
        ModelError: no finished model there, or a model of another name.
    """
    path = Path(run_dir) / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{run_dir} holds no trained model ({MODEL_FILE} is missing); train it first "
                         "(its training writes that file when it finishes).")
    model = load_keras_file(path, what="trained model")
    if expect is not None and model.name != expect:
        raise ModelError(f"{run_dir} holds a {model.name} model; expected {expect}.")
    return model


def copy_backbone_weights(run_dir: str | Path, backbone) -> None:
    """Set ``backbone``'s weights from the ``backbone`` layer of the model trained in ``run_dir``.

    Raises:
        ModelError: the trained model has no backbone, or one of another shape (other options
            or profile: the message names both).
    """
    trained = load_run_model(run_dir)
    try:
        source = trained.get_layer(BACKBONE_LAYER)
    except ValueError:
        raise ModelError(f"The {trained.name} model in {run_dir} has no '{BACKBONE_LAYER}' layer to reuse.") from None
    mine = [tuple(w.shape) for w in backbone.weights]
    theirs = [tuple(w.shape) for w in source.weights]
    if mine != theirs:
        raise ModelError(f"The backbone in {run_dir} does not fit: its weights have shapes {json.dumps(theirs)}, "
                         f"this one needs {json.dumps(mine)}; use a run made with the same sizes and profile.")
    backbone.set_weights(source.get_weights())


def init_from(model, path: str | Path) -> dict[str, list[str]]:
    """Start ``model`` from the weights of a saved model (``FILE.keras``), with a new classifier.

    Layers are paired by name (nested models, such as a two-stream model's streams, by their own layers).
    A layer whose weights have the same shapes is copied. A layer whose shapes differ only in the number of
    classes (its last axis is the saved model's class count and this model's) is left as initialised: the new
    classifier, sized to the dataset, as when Kinetics weights are fine-tuned on UCF101. Any other difference
    is refused: it means another width, input or architecture.

    Returns:
        ``{"copied": [...], "new": [...]}``: layer names copied, and classifier layers left new.

    Raises:
        ModelError: no such file, no layer in common, or a layer of another shape that is not the classifier.
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"No model file {path} to start from; expected a .keras file (a run's model.keras or one "
                         "written by `hybridvid models import-i3d`).")
    source = load_keras_file(path, what="model file to start from")

    def leaves(m):
        out = {}
        for layer in m.layers:
            if isinstance(layer, keras.Model):
                out.update(leaves(layer))
            elif layer.weights:
                out[layer.name] = layer
        return out

    mine, theirs = leaves(model), leaves(source)
    their_classes = _num_classes(source)
    my_classes = _num_classes(model)
    copied, new = [], []
    for name, layer in mine.items():
        other = theirs.get(name)
        if other is None:
            continue
        a, b = [tuple(w.shape) for w in layer.weights], [tuple(w.shape) for w in other.weights]
        if a == b:
            layer.set_weights(other.get_weights())
            copied.append(name)
        elif len(a) == len(b) and all(x[-1] == my_classes and y[-1] == their_classes and x[:-1] == y[:-1]
                                      for x, y in zip(a, b)):
            new.append(name)
        else:
            raise ModelError(f"Layer {name!r} of {path} has weights of shapes {b}; this {model.name} needs {a} "
                             "(another width, input or model): start from a model built with the same options.")
    if not copied:
        raise ModelError(f"{path} holds a {source.name} model with no layer in common with {model.name}.")
    return {"copied": copied, "new": new}


def _num_classes(model) -> int:
    from hybridvid_lib.models.registry import output_probs

    return int(output_probs(model.output).shape[-1])
