"""The profile table: every size, epoch count and batch of the course comes from here.

(One exception: the heads on cached I3D features take the paper's batch of 32 in every profile,
:func:`hybridvid_lib.models.sequence_heads.with_head_batch`.)

Three profiles, one purpose each:

========  =====================================================================
``smoke``  proves things run: tiny data, one epoch, seconds per notebook (tests)
``cpu``    teaches: real numbers on a 2-core laptop in minutes (the default)
``gpu``    the real sizes, for a researcher's GPU box
========  =====================================================================

A notebook resolves its settings in one call::

    from hybridvid_lib.config import resolve_settings
    settings = resolve_settings(PROFILE, epochs=EPOCHS)   # None means "profile default"

Any field can be overridden by keyword; an unknown name raises a
:class:`~hybridvid_lib.errors.SettingsError` that lists the known ones. The profile
defaults to the ``HYBRIDVID_PROFILE`` environment variable, then ``cpu``.

Before that call, every notebook checks its ``parameters`` cell's values, which papermill may
have replaced with anything (``-p EPOCHS ten``, ``-p SEED 1.5``)::

    check_parameters(globals())   # one SettingsError sentence naming the first bad parameter
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from hybridvid_lib.data.flip_policies import FLIP_POLICIES
from hybridvid_lib.data.flow_methods import FLOW_METHODS
from hybridvid_lib.data.sampling import TEST_TIME_STRATEGIES
from hybridvid_lib.errors import SettingsError, show_kit_errors_briefly

PROFILE_ENV = "HYBRIDVID_PROFILE"
DATA_ENV = "HYBRIDVID_DATA"
DEFAULT_PROFILE = "cpu"


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one run. Field names are the course's fixed vocabulary."""

    profile: str
    # --- data ---
    dataset_preset: str  # StickActions preset built for this profile (data.synth.presets.PRESETS)
    frame_size: int  # square crop fed to the models, pixels
    short_side: int  # frames are resized so their short side is this, then cropped
    num_frames: int  # frames per clip (T)
    sampling: str  # frame sampling, one of data.sampling.TEST_TIME_STRATEGIES (no random test clips)
    frame_stride: int  # stride of the "stride" and "random" sampling strategies
    cache_short_side: int  # short side of the decoded uint8 cache (>= short_side)
    flow_method: str  # one of data.flow_methods.FLOW_METHODS
    flow_size: int  # short side at which optical flow is computed and cached
    flip_policy: str  # horizontal flip augmentation, one of data.flip_policies.FLIP_POLICIES
    # --- training ---
    batch_size: int
    num_epochs: int
    learning_rate: float
    seeds: tuple[int, ...] = field(default=(0,))
    # Learning rate over the epochs, one of schedules.LR_SCHEDULES: "cosine" in the cpu and gpu profiles (C3D's
    # test accuracy, 3 seeds of `hybridvid train`: constant 0.850 +- 0.099, cosine 0.947 +- 0.038; in the course run
    # one seed still stalled at chance, see schedules.py), "constant" in
    # smoke, whose one epoch has the same rate under both. Override with resolve_settings(..., lr_schedule=...) or
    # `hybridvid train --lr-schedule constant`.
    lr_schedule: str = "constant"
    # --- scale (see hybridvid_lib.scale) ---
    precision: str = "float32"  # float32, mixed_float16, mixed_bfloat16, or auto (by device)
    jit_compile: str = "auto"  # XLA for the training step: auto (Keras: on with a GPU), on, off
    strategy: str = "default"  # default (one device), mirrored (local devices), multiworker (TF_CONFIG)
    auto_batch: bool = False  # scale batch_size with the GPU's memory (gpu profile)

    def replace(self, **overrides: Any) -> "Settings":
        """Return a copy with some fields changed (same checks as :func:`resolve_settings`)."""
        return _apply_overrides(self, overrides)

    def with_frame_size(self, frame_size: int) -> "Settings":
        """A copy whose clips are ``frame_size`` pixels square, everything that depends on that size with them.

        The resize and the decoded cache keep the profile's ratio to the crop (72 for 64 in ``cpu``, so the
        random crop moves as far in proportion), and the flow is computed at the crop's size, as in every
        profile. The same ``frame_size`` returns the settings unchanged.
        """
        if frame_size == self.frame_size:
            return self
        side = round(frame_size * self.short_side / self.frame_size)
        cache = round(frame_size * self.cache_short_side / self.frame_size)
        flow = round(frame_size * self.flow_size / self.frame_size)
        return self.replace(frame_size=frame_size, short_side=side, cache_short_side=cache, flow_size=flow)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, JSON-serialisable (tuples become lists)."""
        out = dataclasses.asdict(self)
        out["seeds"] = list(self.seeds)
        return out


PROFILES: dict[str, Settings] = {
    "smoke": Settings(
        profile="smoke",
        dataset_preset="smoke",
        frame_size=32,
        short_side=36,
        num_frames=8,
        sampling="uniform",
        frame_stride=2,
        cache_short_side=36,
        flow_method="dis",
        flow_size=32,
        flip_policy="swap",
        batch_size=4,
        num_epochs=1,
        learning_rate=1e-3,
        seeds=(0,),
    ),
    "cpu": Settings(
        profile="cpu",
        dataset_preset="default",
        frame_size=64,
        short_side=72,
        num_frames=16,
        sampling="uniform",
        frame_stride=2,
        cache_short_side=72,
        flow_method="dis",
        flow_size=64,
        flip_policy="swap",
        batch_size=8,
        # 30 epochs, chosen on the validation groups (20% of the training groups of split 1, never
        # the test set): the chapter 01 CNN + LSTM's validation accuracy, mean of seeds 0-2, was
        # 0.70 after 10 epochs, 0.81 after 15, 0.83 after 20, 0.93 after 25 and 0.95 after 30
        # (about 70 s of training per model on 2 cores).
        num_epochs=30,
        learning_rate=1e-3,
        seeds=(0, 1, 2),
        lr_schedule="cosine",
    ),
    "gpu": Settings(
        profile="gpu",
        dataset_preset="default",
        frame_size=112,
        short_side=128,
        num_frames=32,
        sampling="uniform",
        frame_stride=2,
        cache_short_side=128,
        flow_method="tvl1",
        flow_size=112,
        flip_policy="swap",
        batch_size=32,
        num_epochs=40,
        learning_rate=1e-3,
        seeds=(0, 1, 2, 3, 4),
        lr_schedule="cosine",
        precision="auto",
        auto_batch=True,
    ),
}


def setting_choices() -> dict[str, tuple[str, ...]]:
    """The allowed values of each setting that takes a name, read from the module each list belongs to.

    ``sampling`` takes the strategies whose test-time frames are fixed
    (:data:`~hybridvid_lib.data.sampling.TEST_TIME_STRATEGIES`: not ``random``), ``flow_method``
    the kit's flow methods, ``flip_policy`` the flip policies, ``dataset_preset`` the
    StickActions presets, and ``precision``, ``jit_compile`` and ``strategy`` the names of
    :mod:`hybridvid_lib.scale`.
    """
    # Imported here, not at the top: any module of the synth package loads OpenCV and the whole
    # generator, and this module must stay light (the command line imports it to build its parser,
    # before anything has checked that OpenCV works).
    from hybridvid_lib.data.synth.presets import PRESETS
    from hybridvid_lib.scale import JIT_COMPILE, PRECISIONS, STRATEGIES
    from hybridvid_lib.schedules import LR_SCHEDULES

    return {
        "precision": PRECISIONS,
        "jit_compile": JIT_COMPILE,
        "strategy": STRATEGIES,
        "sampling": TEST_TIME_STRATEGIES,
        "flow_method": FLOW_METHODS,
        "flip_policy": FLIP_POLICIES,
        "dataset_preset": tuple(PRESETS),
        "lr_schedule": LR_SCHEDULES,
    }


def default_profile() -> str:
    """The profile named by ``HYBRIDVID_PROFILE``, else ``cpu``."""
    return os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE


def resolve_settings(profile: str | None = None, **overrides: Any) -> Settings:
    """Settings of ``profile`` with ``overrides`` applied; ``None`` values mean "keep the default".

    Raises:
        SettingsError: unknown profile, unknown setting name, or a value of the wrong kind.
    """
    name = profile or default_profile()
    if name not in PROFILES:
        raise SettingsError(
            f"Unknown profile {name!r}; expected one of: {', '.join(PROFILES)}."
        )
    return _apply_overrides(PROFILES[name], overrides)


def _apply_overrides(base: Settings, overrides: dict[str, Any]) -> Settings:
    known = {f.name: f for f in dataclasses.fields(Settings)}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in known or key == "profile":
            names = ", ".join(n for n in known if n != "profile")
            raise SettingsError(f"Unknown setting {key!r}; known settings: {names}.")
        changes[key] = _coerce(key, value, getattr(base, key))
    resolved = dataclasses.replace(base, **changes)
    _validate(resolved)
    return resolved


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Convert strings from papermill ``-p`` or the command line to the field's type."""
    try:
        if isinstance(value, bool) and not isinstance(default, bool):
            raise ValueError  # True is an int to Python, but EPOCHS=True is a mistake, not 1 epoch
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if isinstance(default, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            if isinstance(value, str):
                value = [v for v in value.replace(" ", "").split(",") if v]
            return tuple(int(v) for v in value)
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(
            f"Setting {key!r} expects a value like {default!r}; got {value!r}."
        ) from None


def _validate(s: Settings) -> None:
    for key, choices in setting_choices().items():
        if getattr(s, key) not in choices:
            raise SettingsError(
                f"Setting {key!r} must be one of {', '.join(choices)}; got {getattr(s, key)!r}."
            )
    for key in ("frame_size", "short_side", "num_frames", "frame_stride", "batch_size",
                "cache_short_side", "flow_size"):
        if getattr(s, key) < 1:
            raise SettingsError(f"Setting {key!r} must be a positive whole number; got {getattr(s, key)}.")
    if not (math.isfinite(s.learning_rate) and s.learning_rate > 0):
        raise SettingsError(f"Setting 'learning_rate' must be a number above 0, like 0.001; got {s.learning_rate}.")
    if s.num_epochs < 0:
        raise SettingsError(f"Setting 'num_epochs' must be 0 or more; got {s.num_epochs}.")
    if s.short_side < s.frame_size:
        raise SettingsError(
            f"Setting 'short_side' ({s.short_side}) must be at least 'frame_size' ({s.frame_size}): "
            "frames are resized to short_side and then cropped to frame_size."
        )
    if s.cache_short_side < s.short_side:
        raise SettingsError(
            f"Setting 'cache_short_side' ({s.cache_short_side}) must be at least 'short_side' ({s.short_side})."
        )
    if not s.seeds:
        raise SettingsError("Setting 'seeds' needs at least one seed, e.g. (0,) or '0,1,2'.")


# --------------------------------------------------------------------------- notebook parameters
def _whole(minimum: int, optional: bool) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        if value is None:
            return optional
        return isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    return ok


def _number(low: float, high: float | None, optional: bool) -> Callable[[Any], bool]:
    """A finite number in ``[low, high)`` (``high=None``: no upper bound); ``(0, 1)`` when ``low == 0 < high``."""
    def ok(value: Any) -> bool:
        if value is None:
            return optional
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if high is None:
            return value >= low
        return low < value < high  # a fraction: both ends excluded
    return ok


def _held_out_fraction(value: Any) -> bool:
    """A validation fraction: 0 (hold nothing out) or a fraction strictly between 0 and 1."""
    return (value == 0 and not isinstance(value, bool)) or _number(0.0, 1.0, False)(value)


def _text(optional: bool, allow_empty: bool = True) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        if value is None:
            return optional
        return isinstance(value, (str, os.PathLike)) and (allow_empty or bool(str(value)))
    return ok


def _seed_list(value: Any) -> bool:
    if value is None or _whole(0, False)(value):
        return True
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        return False
    return all(_whole(0, False)(v) or (isinstance(v, str) and v.strip().isdigit()) for v in items)


def _one_of(names: Callable[[], Sequence[str]], optional: bool = False) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        return (value is None and optional) or (isinstance(value, str) and value in names())
    return ok


def _formats() -> tuple[str, ...]:
    return ("stickactions", "ucf101", "hmdb51")


def _presets() -> tuple[str, ...]:
    from hybridvid_lib.data.synth.presets import PRESETS

    return tuple(PRESETS)


# Every parameter a course notebook declares: (check, what it expects, in words). A value from
# papermill (`-p` guesses types, `-r` keeps strings) or from `hybridvid course run -p` is checked
# here before the notebook uses it, so that a wrong type stops the first cell with one sentence
# instead of failing minutes later inside a model.
_EPOCHS = (_whole(0, True), "None or a whole number >= 0, like 3")
def _strategies() -> tuple[str, ...]:
    from hybridvid_lib.scale import STRATEGIES

    return STRATEGIES


NOTEBOOK_PARAMETERS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "PROFILE": (_one_of(lambda: tuple(PROFILES)), f"one of the profiles {', '.join(PROFILES)}"),
    "STRATEGY": (_one_of(lambda: _strategies()), "one of the strategies default, mirrored, multiworker"),
    "SEED": (_whole(0, False), "a whole number >= 0, like 0"),
    "EPOCHS": _EPOCHS,
    "FUSION_EPOCHS": _EPOCHS,
    "STREAM_EPOCHS": _EPOCHS,
    "STREAM_SEED": (_whole(0, False), "a whole number >= 0, like 0"),
    "HEAD_EPOCHS": _EPOCHS,
    "FRAME_EPOCHS": _EPOCHS,
    "TEST_CLIPS": (_whole(1, True), "None or a whole number >= 1, like 5"),
    "HARD_GROUPS": (_whole(1, True), "None or a whole number >= 1, like 8"),
    "FEATURE_FRAMES": (_whole(1, True), "None or a whole number >= 1, like 16"),
    "FRAME_SIZE": (_whole(16, True), "None or a whole number of pixels >= 16, like 80"),
    "SPLIT": (_whole(1, False), "a split number >= 1, like 1"),
    "VAL_FRACTION": (_held_out_fraction, "0 (no validation groups) or a fraction between 0 and 1, like 0.2"),
    "CENTER_WEIGHT": (_number(0.0, None, True), "None or a number >= 0, like 0.01"),
    "ABLATION_SEEDS": (_seed_list, "None or whole numbers >= 0, like [0, 1, 2], '0,1,2' or 3"),
    "DATASET": (_one_of(_formats), "one of the datasets stickactions, ucf101, hmdb51"),
    "PRESET": (_one_of(_presets, optional=True), "None or a StickActions preset name"),
    "FLOW_MEAN_SUBTRACTION": (lambda v: isinstance(v, bool), "True or False"),
    "DATA_DIR": (_text(False), "a folder path as text ('' for the default folder)"),
    "HARD_DATA_DIR": (_text(False), "a folder path as text ('' for the default folder)"),
    "OUTPUT_DIR": (_text(False, allow_empty=False), "a folder path as text, like 'outputs/run'"),
    "KINETICS_RGB_CHECKPOINT": (_text(True), "None or a checkpoint path as text"),
    "KINETICS_FLOW_CHECKPOINT": (_text(True), "None or a checkpoint path as text"),
}


def check_parameters(namespace: Mapping[str, Any]) -> None:
    """Check the notebook parameters found in ``namespace`` (a notebook passes ``globals()``).

    Only names of :data:`NOTEBOOK_PARAMETERS` are looked at; other names are left alone. In a
    notebook it also makes the kit's errors show as one line, without a traceback
    (:func:`~hybridvid_lib.errors.show_kit_errors_briefly`), from this cell on.

    Raises:
        SettingsError: the first parameter whose value is of the wrong type or out of range,
            naming it, what it expects and what it got.
    """
    show_kit_errors_briefly()
    for name, (ok, expected) in NOTEBOOK_PARAMETERS.items():
        if name in namespace and not ok(namespace[name]):
            value = namespace[name]
            # papermill -r keeps "3" as text; the notebook would then fail far from the cause.
            hint = " (a text: give numbers with papermill -p, not -r)" if isinstance(value, str) and \
                value.strip().lstrip("-").replace(".", "", 1).isdigit() else ""
            raise SettingsError(f"Notebook parameter {name} expects {expected}; got {value!r}{hint}.")


def project_root() -> Path | None:
    """The checkout this library was installed from (editable install), else ``None``."""
    candidate = Path(__file__).resolve().parents[1]
    return candidate if (candidate / "pyproject.toml").is_file() else None


def data_root() -> Path:
    """Default data root: ``$HYBRIDVID_DATA``, else ``<checkout>/datasets``, else ``~/.cache/hybridvid``."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    root = project_root()
    if root is not None:
        return root / "datasets"
    return Path.home() / ".cache" / "hybridvid" / "datasets"


def stickactions_dir(preset: str = "default") -> Path:
    """Where ``make course`` (preset ``default``) and the notebooks keep StickActions."""
    return data_root() / ("stickactions" if preset == "default" else f"stickactions-{preset}")
