"""What a horizontal flip may do to a clip whose class a mirror turns into another class.

========  =====================================================================================
``swap``   flip, and give a mirror class its partner's label (``PointLeft`` -> ``PointRight``)
``skip``   never flip a clip of a class that has a mirror partner; flip the others
``off``    never flip
========  =====================================================================================

The numpy flip (:func:`hybridvid_lib.data.transforms.flip_clip`), the ``tf.data`` flip and the
``flip_policy`` setting of :mod:`hybridvid_lib.config` all check against :data:`FLIP_POLICIES`.
This module imports nothing, so the settings can use the list without loading OpenCV or TensorFlow.
"""

FLIP_POLICIES: tuple[str, ...] = ("swap", "skip", "off")
