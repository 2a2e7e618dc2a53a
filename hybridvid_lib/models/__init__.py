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
``two_stream_rgb``    two_stream  :mod:`.two_stream` (spatial stream: RGB frames)
``two_stream_flow``   two_stream  :mod:`.two_stream` (temporal stream: stacked optical flow)
``two_stream``        two_stream  :mod:`.two_stream` (both streams, average / learned / conv fusion)
``c3d``               3d       :mod:`.c3d` (3x3x3 convolutions, Tran et al. 2015)
``cnn_transformer``   transformer  :mod:`.transformer_models` (frame features -> Transformer over time)
``stgcn``             skeleton  :mod:`.skeleton_models` (ST-GCN: graph + temporal convolutions on the joints)
``i3d_rgb``           3d       :mod:`.i3d` (Inception-v1 inflated to 3D on RGB, Carreira & Zisserman 2017)
``i3d_flow``          3d       :mod:`.i3d` (the same on 2-channel optical flow)
``i3d_two_stream``    3d       :mod:`.i3d` (both streams, logits averaged)
``i3d_lstm``          hybrid   :mod:`.sequence_heads` (cached I3D features -> LSTM)
``i3d_bilstm``        hybrid   :mod:`.sequence_heads` (-> stacked BiLSTM, mean over time)
``i3d_bilstm_attention``  hybrid  :mod:`.sequence_heads` (-> stacked BiLSTM -> temporal attention)
``hybrid``            hybrid   :mod:`.sequence_heads` (the same, trained with center loss: the seed paper's system)
``hybrid_end_to_end``  hybrid  :mod:`.sequence_heads` (the hybrid on video and flow, the I3D streams trained too)
==================  =========  ==============================================================

Importing this package registers every model and custom layer, so
``keras.saving.load_model("model.keras")`` works after ``import hybridvid_lib.models``.
"""

from hybridvid_lib.models import c3d, frame_models, i3d, transformer_models, two_stream  # noqa: F401 - registers them
from hybridvid_lib.models import sequence_heads, skeleton_models  # noqa: F401 - registers them
from hybridvid_lib.models.frame_models import build_frame_encoder
from hybridvid_lib.models.registry import build_model, list_models, model_info, register_model

__all__ = ["build_frame_encoder", "build_model", "list_models", "model_info", "register_model"]
