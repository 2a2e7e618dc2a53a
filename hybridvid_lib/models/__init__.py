"""Video models, one family per file, all reachable by name through the registry.

::

    from hybridvid_lib.models import build_model, list_models, model_info
    list_models()                                   # ['cnn_lstm', 'single_frame_cnn', ...]
    model = build_model("cnn_lstm", settings, num_classes=12)

==================  =========  ==============================================================
name                family     module
==================  =========  ==============================================================
``single_frame_cnn``  frame    :mod:`.frame_models` (2D CNN per frame, predictions averaged)
``cnn_lstm``          frame    :mod:`.frame_models` (2D CNN per frame -> LSTM)
==================  =========  ==============================================================

Importing this package registers every model and custom layer, so
``keras.saving.load_model("model.keras")`` works after ``import hybridvid_lib.models``.
"""

from hybridvid_lib.models import frame_models  # noqa: F401 - registers the frame models
from hybridvid_lib.models.frame_models import build_frame_encoder
from hybridvid_lib.models.registry import build_model, list_models, model_info, register_model

__all__ = ["build_frame_encoder", "build_model", "list_models", "model_info", "register_model"]
