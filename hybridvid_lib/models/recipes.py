"""Published training recipes by name: what ``hybridvid train --recipe NAME`` sets over the profile.

``i3d_finetune`` is I3D's fine-tuning on UCF101 and HMDB51 (Carreira & Zisserman 2017, section 3 "Implementation
details"): 64-frame clips, 224 x 224 crops of frames resized to 256 on the short side, SGD with momentum 0.9,
dropout 0.5 before the classifier (the I3D builders' default), short videos looped to fill the clip (the kit's
sampling default, ``short="loop"``). The paper tunes the learning rate on validation and does not state it for
the fine-tuning; the recipe starts at 0.01, the profile's batch and epochs apply. It is meant for the ``gpu``
profile (a 64 x 224 x 224 clip is about 50 times a ``cpu`` clip) and for ``i3d_rgb`` / ``i3d_flow`` started from
imported Kinetics weights (``--init-from``)::

    hybridvid train --model i3d_rgb --init-from rgb_kinetics.keras --recipe i3d_finetune --profile gpu \
        --format ucf101 --root data/ucf101 --split 1 --out runs/i3d_rgb_ucf101
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hybridvid_lib.config import Settings
from hybridvid_lib.errors import SettingsError


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A named set of training choices: settings over the profile's, and the optimizer."""

    name: str
    description: str
    settings: dict[str, Any]
    optimizer: str  # "sgd" (with momentum) or "adam"
    learning_rate: float
    momentum: float = 0.0
    models: tuple[str, ...] = ()  # the registered models it is published for

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the recipe's clip and learning rate."""
        return settings.replace(**self.settings, learning_rate=self.learning_rate)

    def make_optimizer(self):
        """A fresh Keras optimizer of the recipe."""
        import keras

        if self.optimizer == "sgd":
            return keras.optimizers.SGD(learning_rate=self.learning_rate, momentum=self.momentum)
        return keras.optimizers.Adam(learning_rate=self.learning_rate)


RECIPES: dict[str, Recipe] = {
    "i3d_finetune": Recipe(
        name="i3d_finetune",
        description="I3D fine-tuning as published: 64 frames at 224 px (short side 256), SGD momentum 0.9, "
                    "dropout 0.5, short videos looped",
        settings={"num_frames": 64, "frame_size": 224, "short_side": 256, "cache_short_side": 256,
                  "flow_size": 224},
        optimizer="sgd", learning_rate=0.01, momentum=0.9, models=("i3d_rgb", "i3d_flow", "i3d_two_stream"),
    ),
}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``.

    Raises:
        SettingsError: unknown name (the message lists the known ones).
    """
    try:
        return RECIPES[name]
    except KeyError:
        raise SettingsError(f"Unknown recipe {name!r}; expected one of: {', '.join(RECIPES)}.") from None
