"""HybridVid: the shared library of the video action recognition course kit.

Data flows one way through the package:

    files on disk -> ``data`` (datasets, video, flow, skeletons, tf.data pipelines)
                  -> models -> training -> evaluation -> report

Importing this package is cheap: TensorFlow is only imported by the modules that
need it, through :func:`hybridvid_lib.tf_setup.import_tensorflow`.
"""

__version__ = "0.1.0"
