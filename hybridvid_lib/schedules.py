"""Learning-rate schedules by name: the ``lr_schedule`` setting of every profile.

A schedule is a function of the epoch alone, so a resumed run gets the rate an uninterrupted run
has at the same epoch (the optimizer's saved rate is overwritten when each epoch begins).

- ``constant``: the profile's ``learning_rate`` for every epoch.
- ``cosine``: half a cosine from ``learning_rate`` at the first epoch towards 0 after the last
  (Loshchilov & Hutter, SGDR, without restarts): epoch ``e`` of ``E`` trains at
  ``learning_rate * (1 + cos(pi * e / E)) / 2``. The last epochs take small steps, so the weights a
  run ends with do not depend on where the last few large steps happened to land.

Measured (``hybridvid train --model c3d --val``, cpu profile, StickActions default preset, 144 test
videos, seeds 0, 1, 2, one 2-core machine): constant 0.868 / 0.743 / 0.938 (mean 0.850, sd 0.099),
cosine 0.910 / 0.944 / 0.986 (mean 0.947, sd 0.038), higher on every seed. With the constant rate
C3D's validation accuracy swung by up to 0.1 from one epoch to the next over the last epochs
(0.71-0.88 for seed 0); with cosine it settled (0.92-0.96). The CNN + LSTM, whose validation
accuracy swung less, kept its mean: constant 0.938 / 0.931 / 0.875 (0.914), cosine 0.931 / 0.903 /
0.903 (0.912).
The schedule settles the last epochs; it does not cure a slow start. In a course run on StickActions version 2
(``make course``, one thread per notebook) C3D scored 0.917 / 0.486 / 0.965: seed 1's training accuracy stayed at
chance for its first 14 epochs, and the shrinking steps came too late for it. In the run that rendered the notebooks
(version 3) the same seed stayed near chance for 10 epochs and ended at 0.812 (0.958 / 0.812 / 0.979).
The I3D streams of chapters 06-08 follow the cosine with 40 epochs on ``cpu``
(``models.i3d.STREAM_LR_SCHEDULE``): at 20 epochs, still learning at their last epoch, they gained nothing
measurable from it (chapter 06's RGB stream, seed 0: 79 of 144 test videos with each); with 40 the RGB stream
scored 0.778 against 0.632 after 20 constant epochs (from scratch, seed 0, 144 test videos).
"""

from __future__ import annotations

import math

LR_SCHEDULES = ("constant", "cosine")


def epoch_learning_rate(base: float, epoch: int, epochs: int, schedule: str) -> float:
    """The learning rate of epoch ``epoch`` (0-based) of a run of ``epochs`` epochs.

    This module stays free of TensorFlow (the settings check imports it);
    ``hybridvid_lib.training`` applies it through Keras' ``LearningRateScheduler``.

    Raises:
        ValueError: ``schedule`` is not one of :data:`LR_SCHEDULES`.
    """
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"Unknown learning-rate schedule {schedule!r}; expected one of: {', '.join(LR_SCHEDULES)}.")
    if schedule == "constant" or epochs <= 1:
        return float(base)
    return float(base) * 0.5 * (1.0 + math.cos(math.pi * min(max(epoch, 0), epochs) / epochs))
