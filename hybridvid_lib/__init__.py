"""HybridVid: the shared library of the video action recognition course kit.

Data flows one way through the package:

    files on disk -> ``data`` (datasets, video, flow, skeletons, tf.data pipelines)
                  -> models -> training -> evaluation -> report

Importing this package is cheap: TensorFlow is only imported by the modules that
need it, through :func:`hybridvid_lib.tf_setup.import_tensorflow`.
"""

import os as _os

# TensorFlow turns its oneDNN kernels on by itself only on some x86 CPUs; on others (AVX2 without AVX-512, as on
# many AMD machines) it leaves them off, and Conv3D training is then 3-4x slower (c3d: 8.7 against 31 training
# clips/s on a 2-core AMD EPYC). Every module of the kit that imports TensorFlow imports this package first, so
# setting it here comes before any TensorFlow import; a value the user set wins (0 turns them off).
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
