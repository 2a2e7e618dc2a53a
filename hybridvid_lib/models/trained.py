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


def load_run_model(run_dir: str | Path, *, expect: str | None = None):
    """The trained model of a run folder (``RUN/model.keras``, loaded in safe mode).

    Args:
        run_dir: a folder written by :func:`~hybridvid_lib.training.train_model`.
        expect: the registered model name the run must hold (``None``: any).

    Raises:
        ModelError: no finished model there, or a model of another name.
    """
    import keras

    import hybridvid_lib.models  # noqa: F401 - registers the kit's layers before loading

    path = Path(run_dir) / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{run_dir} holds no trained model ({MODEL_FILE} is missing); train it first "
                         "(its training writes that file when it finishes).")
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
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
