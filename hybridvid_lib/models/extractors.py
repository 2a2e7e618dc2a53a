"""Feature extractors: a model with a ``features`` output, cut there, run over a dataset into a feature cache.

``hybridvid features extract --model i3d_rgb [--weights FILE.keras] --format F --root DIR --out DIR`` writes,
for every readable video of every subset, the sequence the model's ``features`` output gives: for I3D one
vector per time step, ``(T', 1024 * width)`` (Mixed_5c averaged over space). Chapter 07's hybrid and
chapter 08's ablation read these caches. ``--weights`` is a ``.keras`` file of the same model: a trained run's
``model.keras`` or a Kinetics checkpoint imported with ``hybridvid models import-i3d``; without it the
network is untrained (a baseline, said so on the command line).

The cache (:class:`~hybridvid_lib.data.feature_cache.FeatureCache`) records the model, a fingerprint of the
weights file and the clip settings, so features of other weights are never mixed in; a second run
computes only what is missing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hybridvid_lib.config import Settings
from hybridvid_lib.data.records import SUBSETS, DatasetSplit
from hybridvid_lib.errors import ModelError


def file_fingerprint(path: str | Path) -> str:
    """``"<name>:<size>:<first 16 hex of sha256>"`` of a file: the same weights give the same string anywhere."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{path.name}:{path.stat().st_size}:{digest.hexdigest()[:16]}"


def feature_extractor(model_name: str, settings: Settings, *, weights: str | Path | None = None,
                      num_classes: int = 1):
    """``(backbone, inputs, info)``: the model cut at its ``features`` output, its input modalities, cache info.

    Args:
        model_name: a registered model with a ``features`` output (``i3d_rgb``, ``i3d_flow``).
        settings: the clip settings (frames, size) the pipeline will feed.
        weights: a ``.keras`` file of that model; ``None`` builds it untrained.
        num_classes: classes of an untrained build (irrelevant to the features).

    Raises:
        ModelError: the model has no ``features`` output, the weights file is missing, or it holds a
            model with other inputs.
    """
    from hybridvid_lib.models import build_model, list_models, model_info
    from hybridvid_lib.tf_setup import import_tensorflow

    info = model_info(model_name)
    if "features" not in info["outputs"]:
        with_features = [m for m in list_models() if "features" in model_info(m)["outputs"]]
        raise ModelError(f"Model {model_name!r} has no 'features' output to extract; models with one: "
                         f"{', '.join(with_features)}.")
    import_tensorflow()
    import keras  # noqa: PLC0415 - after TensorFlow's quiet import

    if weights is None:
        from hybridvid_lib.seeding import set_seed

        set_seed(0)  # the same untrained weights every run, so a resumed extraction matches what is cached
        model = build_model(model_name, settings, num_classes)
        fingerprint = "untrained (seed 0)"
    else:
        from hybridvid_lib.models.trained import load_keras_file  # noqa: PLC0415

        weights = Path(weights)
        if not weights.is_file():
            raise ModelError(f"No weights file {weights}; expected a .keras model (a run's model.keras, or one "
                             "written by `hybridvid models import-i3d`).")
        model = load_keras_file(weights, what="weights file")  # safe mode: never runs code stored in the file
        fingerprint = file_fingerprint(weights)
    names = sorted(t.name for t in model.inputs)
    if names != sorted(info["inputs"]) or not isinstance(model.output, dict) or "features" not in model.output:
        raise ModelError(f"{weights} holds a model with inputs {names} and outputs "
                         f"{sorted(model.output) if isinstance(model.output, dict) else 'probs'}; {model_name} "
                         f"takes {sorted(info['inputs'])} and returns 'features'.")
    if model_name.startswith("i3d_") and model.inputs[0].shape[1] != settings.num_frames:
        from hybridvid_lib.models.i3d import with_clip_length  # noqa: PLC0415

        model = with_clip_length(model, settings.num_frames)  # e.g. trained on 16 frames, read on 40
    backbone = keras.Model(model.input, model.output["features"], name=f"{model_name}_features")
    cache_info = {"model": model_name, "weights": fingerprint, "num_frames": settings.num_frames,
                  "frame_size": settings.frame_size, "sampling": settings.sampling}
    return backbone, tuple(info["inputs"]), cache_info


def extract_dataset_features(model_name: str, ds: DatasetSplit, settings: Settings, out: str | Path, *,
                             weights: str | Path | None = None, progress: bool = True,
                             flow_mean_subtraction: bool = False) -> dict[str, Any]:
    """Fill ``out/<model_name>/`` with the feature sequence of every readable video of every subset.

    Returns:
        ``{"cache", "dim", "computed", "cached", "skipped", "weights"}`` summed over the subsets.
    """
    from hybridvid_lib.data.feature_cache import FeatureCache, extract_features
    from hybridvid_lib.runs import input_options

    backbone, inputs, info = feature_extractor(model_name, settings, weights=weights, num_classes=ds.num_classes)
    if flow_mean_subtraction:  # recorded, so features of flow with and without it are never mixed
        info["flow_mean_subtraction"] = True
    dim = int(backbone.output.shape[-1])
    cache = FeatureCache(out, model_name, dim, info=info)
    summary: dict[str, Any] = {"cache": str(cache.arrays.root), "dim": dim, "computed": 0, "cached": 0,
                               "skipped": [], "weights": info["weights"]}
    options = input_options(backbone, ds, settings)  # a flow model gets the dataset's flow cache
    if flow_mean_subtraction and "flow" in inputs:
        options["flow_mean_subtraction"] = True
    for subset in SUBSETS:
        if not ds.subset(subset):
            continue
        found = extract_features(backbone, ds, subset, settings, cache, inputs=inputs, progress=progress,
                                 **options)
        summary["computed"] += found["computed"]
        summary["cached"] += found["cached"]
        summary["skipped"] += [dict(item, subset=subset) for item in found["skipped"]]
    return summary


#: Frames per clip of the feature sequences the hybrid reads, by profile: longer than the training clips, so
#: the sequence has steps to attend over (I3D gives one step per 8 frames: 2 in smoke, 5 in cpu, 8 in gpu,
#: where 64 frames is the published I3D clip). The course's videos have 40 frames or more (smoke: 16).
#: The price: the profiles sample a clip's frames evenly over the whole video, so a longer clip shows a stream its
#: frames closer together than in training, every movement slower. Chapter 07 pays it for its attention lesson;
#: chapter 08 reads its features at the streams' own clip length (``frames=settings.num_frames``): on the hard
#: preset its RGB stream classified the test videos 0.83 right from 16-frame clips and 0.56 from 40-frame ones.
FEATURE_FRAMES = {"smoke": 16, "cpu": 40, "gpu": 64}
TWO_STREAMS = ("i3d_rgb", "i3d_flow")


def feature_settings(settings: Settings, frames: int | None = None) -> Settings:
    """The clip settings of feature extraction: ``settings`` with ``frames`` (default :data:`FEATURE_FRAMES`)."""
    return settings.replace(num_frames=int(frames or FEATURE_FRAMES.get(settings.profile, settings.num_frames)))


def two_stream_features(ds: DatasetSplit, settings: Settings, out: str | Path, weights: dict[str, Any], *,
                        frames: int | None = None, progress: bool = False, flow_mean_subtraction: bool = False):
    """RGB-I3D and Flow-I3D feature sequences of every video, cached, side by side: the hybrid's input.

    Args:
        ds: the dataset; every subset is extracted.
        settings: the profile; the clips get :func:`feature_settings`' frames.
        out: the cache folder (``out/i3d_rgb/``, ``out/i3d_flow/``); a second call computes nothing.
        weights: ``{"i3d_rgb": FILE.keras, "i3d_flow": FILE.keras}`` (a run's ``model.keras`` or an imported
            checkpoint); a stream given ``None`` is untrained (a baseline).
        frames: frames per clip, overriding the profile's.
        progress: tqdm bars.
        flow_mean_subtraction: the flow stream reads each field minus its mean vector, as it was trained
            (``build_pipeline``'s option of that name); recorded in the flow cache's info.

    Returns:
        ``(stack, summaries)``: a :class:`~hybridvid_lib.data.feature_cache.FeatureStack` giving
        ``(T', D_rgb + D_flow)`` per video (RGB first), and each stream's summary from
        :func:`extract_dataset_features`.
    """
    from hybridvid_lib.data.feature_cache import FeatureCache, FeatureStack

    clip = feature_settings(settings, frames)
    summaries = {name: extract_dataset_features(name, ds, clip, out, weights=weights.get(name), progress=progress,
                                                flow_mean_subtraction=flow_mean_subtraction and name == "i3d_flow")
                 for name in TWO_STREAMS}
    caches = [FeatureCache(out, name, summaries[name]["dim"]) for name in TWO_STREAMS]
    return FeatureStack(caches), summaries
