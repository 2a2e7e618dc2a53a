"""One helper that trains a registered model, evaluates it and returns its ``metrics.json`` entry.

Every notebook and ``hybridvid train`` go through :func:`train_and_evaluate`, so a run is
made the same way everywhere: seeded, built from the registry with its options, fed the
inputs it declares from one pipeline builder, trained with checkpoints (a resume with other
options is refused), watched on the validation split when the dataset has one, stopped at a
non-finite loss, evaluated on the test split (scores averaged over ``clips_per_video`` clips
per video), and summarised in one result entry::

    from hybridvid_lib.runs import train_and_evaluate
    ds = load_dataset("stickactions", DATA_DIR).with_validation(0.2, seed=SEED)
    run = train_and_evaluate("cnn_lstm", ds, settings, seed=SEED, run_dir=OUTPUT_DIR / "runs" / "cnn_lstm")
    run.entry["test_accuracy"], run.history["val_accuracy"], run.y_prob
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hybridvid_lib.config import Settings
from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.errors import HybridVidError


class TrainingDivergedError(HybridVidError):
    """The training loss became NaN or infinite; no result is reported for such a run."""


@dataclass
class RunResult:
    """What :func:`train_and_evaluate` made.

    Attributes:
        model: the trained Keras model (all its outputs).
        history: per-epoch ``loss``, ``accuracy`` and, with a validation split, ``val_loss``, ``val_accuracy``.
        metrics: :func:`~hybridvid_lib.evaluation.evaluate_predictions` on the test split.
        entry: the ``metrics.json`` result entry (:func:`~hybridvid_lib.evaluation.result_entry`).
        y_true, y_prob: test labels ``(N,)`` and probabilities ``(N, C)``, one row per test video.
        run_dir: where checkpoints, state and ``model.keras`` are.
        pipelines: the ``train`` / ``val`` / ``test`` :class:`~hybridvid_lib.data.pipeline.Pipeline` objects.
        worker: this process's index in a multi-worker run; a worker other than the chief (0) trains
            in step and returns empty ``metrics`` and ``entry``: the chief evaluates and writes.
    """

    model: Any
    history: dict[str, list[float]]
    metrics: dict[str, Any]
    entry: dict[str, Any]
    y_true: np.ndarray
    y_prob: np.ndarray
    run_dir: Path
    pipelines: dict[str, Any] = field(default_factory=dict)
    worker: int = 0


def train_and_evaluate(
    name: str,
    ds: DatasetSplit,
    settings: Settings,
    *,
    seed: int,
    run_dir: str | Path,
    options: dict[str, Any] | None = None,
    dataset_name: str | None = None,
    strict: bool = False,
    verbose: int = 2,
    clips_per_video: int = 1,
    pipeline_options: dict[str, Any] | None = None,
    fit_options: dict[str, Any] | None = None,
    model: Any = None,
    init_from: str | Path | None = None,
    **extras: Any,
) -> RunResult:
    """Train model ``name`` on ``ds`` (resumably), evaluate it on the test split, describe the run.

    Args:
        name: a registered model (:func:`~hybridvid_lib.models.list_models`).
        ds: the dataset split; with a ``val`` subset (``ds.with_validation()``) the validation
            loss and accuracy are computed after every epoch.
        settings: the resolved profile.
        seed: seeds the model's initial weights and every pipeline draw.
        run_dir: the run folder; an interrupted run resumes, one made with other options is refused.
        options: the model builder's options (``model_info(name)["options"]``), over those the dataset
            decides (:func:`dataset_options`: a skeleton model's graph, channels and persons).
        dataset_name: the ``dataset`` of the result entry (default ``ds.format``; e.g. ``stickactions-hard``).
        strict: refuse skipped samples instead of warning.
        verbose: Keras' verbosity (2: one line per epoch).
        clips_per_video: test-time clips per video, their scores averaged.
        pipeline_options: more :func:`~hybridvid_lib.data.pipeline.build_pipeline` options
            (``flow_cache``, ``flow_stack``, ``joint_noise`` ...), for every split.
        fit_options: more :func:`~hybridvid_lib.training.train_model` options (``loss``, ``callbacks`` ...).
        init_from: a saved model (``FILE.keras``) to start from: every layer that fits is copied, the
            classifier stays new, sized to the dataset (:func:`~hybridvid_lib.models.trained.init_from`); the
            entry records the file's fingerprint as ``init_from``.
        model: a model built by hand (a notebook that shows how); ``name`` must then be a registered
            model with the same inputs, and the result is reported under ``name``. ``None``: built
            from the registry with ``options``. Under a strategy (``settings.strategy``) a model built
            outside its scope trains as a copy made inside it
            (:func:`~hybridvid_lib.scale.distribution.model_in_scope`); the result holds that copy.
        **extras: more fields for the result entry.

    Returns:
        A :class:`RunResult`.

    Raises:
        TrainingDivergedError: the training loss is not finite (try a lower learning rate).
        ModelError, DatasetError, TrainingStateError: as the steps it runs.
    """
    from hybridvid_lib.data.pipeline import build_pipeline
    from hybridvid_lib.evaluation import evaluate_predictions, result_entry
    from hybridvid_lib.models import build_model, model_info
    from hybridvid_lib.seeding import set_seed
    from hybridvid_lib.training import load_run_state, predict_dataset, to_plain, train_model

    import contextlib

    from hybridvid_lib.scale.distribution import (get_strategy, model_in_scope, synchronize_batch_norm,
                                                  worker_role)
    from hybridvid_lib.scale.precision import check_policy_for_model, device_batch_size, precision_policy

    inputs = model_info(name)["inputs"]  # an unknown name fails here, before any data is read
    options = {**(dataset_options(name, ds) if model is None else {}), **(options or {})}
    batch = device_batch_size(settings)
    if batch != settings.batch_size:
        if verbose:
            print(f"auto_batch: batch {batch} for this GPU's memory (the profile's is {settings.batch_size})",
                  flush=True)
        settings = settings.replace(batch_size=batch)
    strategy = get_strategy(settings.strategy) if settings.strategy != "default" else None
    role = worker_role(strategy)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    set_seed(seed)
    with precision_policy(settings) as policy, scope:
        if model is None:
            model = build_model(name, settings, ds.num_classes, **options)
        elif strategy is not None:
            model = model_in_scope(model, strategy)  # built by hand outside the scope: its copy inside
        check_policy_for_model(model, policy)  # before any data is read or any epoch is spent
        if strategy is not None and strategy.num_replicas_in_sync > 1:
            synchronize_batch_norm(model)  # global batch statistics: the arithmetic of one device
        if init_from is not None:
            from hybridvid_lib.models.extractors import file_fingerprint
            from hybridvid_lib.models.trained import init_from as start_from

            started = start_from(model, init_from)
            extras["init_from"] = file_fingerprint(init_from)
            if verbose:
                print(f"{len(started['copied'])} layers from {init_from}"
                      + (f", a new classifier ({', '.join(started['new'])})" if started["new"] else ""), flush=True)
    # Pipelines outside the strategy's scope: their epoch clock must stay one plain variable.
    pipeline_options = {**input_options(model, ds, settings), **(pipeline_options or {})}
    common = dict(settings=settings, inputs=inputs, seed=seed, strict=strict, **pipeline_options)
    shard = (role.num_workers, role.index) if role.num_workers > 1 else None
    pipelines = {"train": build_pipeline(ds, "train", training=True, shard=shard, **common)}
    if shard is not None and verbose:
        print(f"worker {role.index} of {role.num_workers}: {pipelines['train'].num_videos} training videos, its "
              "share (decoded by this worker only)", flush=True)
    if ds.val:  # in a multi-worker run each worker evaluates its own share (fit_across_workers sums them)
        pipelines["val"] = build_pipeline(ds, "val", training=False, shard=shard, **common)
    pipelines["test"] = build_pipeline(ds, "test", training=False, clips_per_video=clips_per_video, **common)

    run_dir = Path(run_dir)
    val = pipelines.get("val")
    history = train_model(model, pipelines["train"], val_ds=val.dataset if val else None,
                          epochs=settings.num_epochs, run_dir=run_dir, learning_rate=settings.learning_rate,
                          verbose=verbose, seed=seed, settings=settings, options=options, strategy=strategy,
                          write=role.is_chief, **(fit_options or {}))
    losses = history.get("loss", [])
    if losses and not math.isfinite(losses[-1]):
        raise TrainingDivergedError(
            f"Training {name} diverged: the loss became {losses[-1]} in epoch {len(losses)}; "
            f"try a lower learning rate (now {settings.learning_rate:g}) or delete {run_dir} and start again."
        )
    if not role.is_chief:  # the chief evaluates and writes; this worker's part is done
        return RunResult(model, history, {}, {}, np.zeros(0, np.int64), np.zeros((0, ds.num_classes)), run_dir,
                         pipelines, worker=role.index)
    if strategy is not None:
        # Evaluated with the trained model read back outside the strategy: a distributed model splits
        # each test batch between replicas (and, on several workers, would wait for the others, which
        # have stopped); one device gives every video its row in order.
        from hybridvid_lib.models.trained import load_run_model

        model = load_run_model(run_dir)
    y_true, y_prob = predict_dataset(model, pipelines["test"].dataset)
    metrics = evaluate_predictions(y_true, y_prob, pipelines["test"].class_names)
    state = load_run_state(run_dir) or {"train_seconds": 0.0, "epochs_done": 0}
    skipped = [dict(item, subset=subset) for subset, pipe in pipelines.items() for item in pipe.skipped]
    entry = result_entry(
        name, dataset_name or ds.format, metrics, params=int(model.count_params()),
        train_seconds=float(state["train_seconds"]), split=ds.split,
        final_train_loss=float(losses[-1]) if losses else None, epochs=int(state["epochs_done"]),
        num_train_videos=pipelines["train"].num_videos, num_val_videos=val.num_videos if val else 0,
        num_test_videos=pipelines["test"].num_videos, clips_per_video=clips_per_video,
        options=to_plain(options), skipped=skipped,
        **({"protocol": ds.metadata["protocol"]} if ds.metadata.get("protocol") else {}), **extras,
    )
    return RunResult(model, history, metrics, entry, y_true, y_prob, run_dir, pipelines)


def dataset_options(name: str, ds: DatasetSplit) -> dict[str, Any]:
    """Builder options of model ``name`` that the dataset decides: for a ``joints`` input, its skeleton.

    A skeleton model must be built for the dataset's joints: ``graph`` (the skeleton graph's name, e.g.
    ``"stick_figure"`` for StickActions, ``"ntu_rgbd"`` for NTU RGB+D), ``channels`` (``C`` of
    ``(T, J, C[, M])``) and ``persons`` (``M``; ``None`` for files without a person axis). Only options the
    builder accepts are returned, so ``hybridvid train --model stgcn --format ntu`` needs no ``--option``;
    options given by the caller win over these (see :func:`train_and_evaluate`).

    Example: ``dataset_options("stgcn", ntu_ds) == {"graph": "ntu_rgbd", "channels": 3, "persons": 2}``.
    """
    from hybridvid_lib.data.pipeline.sources import joint_layout
    from hybridvid_lib.data.skeletons import SKELETON_GRAPHS
    from hybridvid_lib.models import model_info

    info = model_info(name)
    if "joints" not in info["inputs"]:
        return {}
    layout = joint_layout(ds)
    derived: dict[str, Any] = {"channels": layout.channels, "persons": layout.persons}
    graph_name = (ds.metadata.get("skeleton") or {}).get("name")
    if graph_name in SKELETON_GRAPHS:
        derived["graph"] = graph_name
    return {key: value for key, value in derived.items() if key in info["options"]}


def input_options(model: Any, ds: DatasetSplit, settings: Settings) -> dict[str, Any]:
    """Pipeline options a model's inputs call for: a flow cache for ``flow``, ``flow_stack`` for stacked flow.

    A ``flow`` input of rank 4, ``(B, S, S, 2L)``, is a stack of ``L`` fields (the temporal stream of
    chapter 02); of rank 5, ``(B, T, S, S, 2)``, one field per frame. The flow cache is the dataset's
    default one at the profile's method and size (computed on first use).
    """
    from hybridvid_lib.data.flow_cache import FlowCache, default_flow_cache_dir

    flow = next((tensor for tensor in model.inputs if tensor.name == "flow"), None)
    if flow is None:
        return {}
    cache = FlowCache(default_flow_cache_dir(ds, settings.flow_method, settings.flow_size),
                      settings.flow_method, settings.flow_size)
    options: dict[str, Any] = {"flow_cache": cache}
    if len(flow.shape) == 4:
        options["flow_stack"] = int(flow.shape[-1]) // 2
    return options
