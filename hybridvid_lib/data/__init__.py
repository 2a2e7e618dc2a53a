"""Files on disk -> datasets -> clips.

- :mod:`~hybridvid_lib.data.records`: ``Record`` and ``DatasetSplit``, what every reader returns.
- :mod:`~hybridvid_lib.data.datasets`: readers for StickActions, UCF101, HMDB51 and plain class folders.
- :mod:`~hybridvid_lib.data.synth`: the StickActions generator.
- :mod:`~hybridvid_lib.data.video`: decoding and writing video files with OpenCV.
- :mod:`~hybridvid_lib.data.sampling`, :mod:`~hybridvid_lib.data.transforms`: frame sampling, resizing, cropping, flips.
- :mod:`~hybridvid_lib.data.flow`: optical flow and its on-disk cache.
- :mod:`~hybridvid_lib.data.pipeline`: ``tf.data`` pipelines for RGB clips, (RGB, flow) pairs and skeletons.
"""
