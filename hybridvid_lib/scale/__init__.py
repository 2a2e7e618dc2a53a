"""Scale: number formats, XLA, batch size and several devices or machines, all chosen by settings.

Four settings of :class:`~hybridvid_lib.config.Settings` (the ``gpu`` profile turns the first and the
last on; every profile takes them as overrides, e.g. ``resolve_settings("cpu", strategy="mirrored")``,
``hybridvid train --strategy mirrored``, or a notebook's ``STRATEGY`` parameter):

===============  ============================================================================
``precision``    ``float32``; ``mixed_float16`` (GPUs); ``mixed_bfloat16`` (GPUs; on a CPU 2D and
                 sequence models only: float16 3D pooling has no CPU kernel and bfloat16 3D
                 convolutions get wrong gradients there); ``auto`` picks ``mixed_float16`` on a
                 GPU, else ``float32`` (:func:`.precision.resolve_precision`)
``jit_compile``  XLA for the training step: ``auto`` (Keras' choice: on with a GPU, off on a
                 CPU), ``on``, ``off``
``strategy``     ``default`` (one device), ``mirrored`` (every local GPU, or every logical CPU
                 device when there is no GPU: ``HYBRIDVID_CPU_DEVICES=2`` splits the CPU in
                 two), ``multiworker`` (processes or machines named in ``TF_CONFIG``, see
                 :mod:`.distribution`)
``auto_batch``   scale ``batch_size`` with the GPU's memory (:func:`.precision.device_batch_size`)
===============  ============================================================================

This module holds only the names, so that the settings module stays free of TensorFlow.
"""

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", "auto")
JIT_COMPILE = ("auto", "on", "off")
STRATEGIES = ("default", "mirrored", "multiworker")
