"""Training with a checkpoint after every epoch, resumed where an interrupted run stopped.

::

    from hybridvid_lib.training import train_model, predict_dataset
    history = train_model(model, train.dataset, epochs=settings.num_epochs, run_dir=Path("runs/cnn_lstm"),
                          learning_rate=settings.learning_rate, seed=SEED, settings=settings)
    y_true, y_prob = predict_dataset(model, test.dataset)

What a run folder holds (every file written atomically: a killed run leaves the previous
version, never half a file)::

    RUN/checkpoints/last.keras   model + optimizer state after the last completed epoch
    RUN/state.json               epochs done, history so far, seconds per epoch, seed, settings
    RUN/history.json             the history alone: {"loss": [...], "accuracy": [...], ...}

Resume. When ``RUN/state.json`` exists, :func:`train_model` loads the checkpoint's weights
*and optimizer state* into the given model and continues at the next epoch
(``initial_epoch``), so a run stopped by Ctrl-C or a closed laptop costs at most one
epoch. A call after the last epoch trains nothing and returns the stored history. A
resumed run is not bit-identical to an uninterrupted one: the data pipeline starts its
epoch-dependent random draws (clip sampling, crops, flips, shuffle) afresh.

``hybridvid train`` (:func:`train_command`) puts this together with a dataset, the
registry and the evaluation module and writes ``RUN/metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from hybridvid_lib.config import Settings
from hybridvid_lib.errors import HybridVidError, ModelError
from hybridvid_lib.io_utils import atomic_path, atomic_write_json
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

CHECKPOINT_FILE = "checkpoints/last.keras"
STATE_FILE = "state.json"
HISTORY_FILE = "history.json"
STATE_VERSION = 1


class TrainingStateError(HybridVidError):
    """A run folder's saved state cannot be used to resume (damaged, or another model's)."""


# --------------------------------------------------------------------------- run state
def load_run_state(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's ``state.json`` as a dict, or ``None`` when the run has not finished an epoch yet.

    Keys: ``model`` (name), ``epochs_done``, ``history`` (metric -> list, one value per epoch),
    ``epoch_seconds`` (list), ``train_seconds`` (their sum, over all resumed calls),
    ``learning_rate``, ``seed``, ``settings`` (dict or ``None``), ``checkpoint`` (relative path).

    Raises:
        TrainingStateError: the file exists but is not a state this module wrote.
    """
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TrainingStateError(f"{path} is not valid JSON ({exc.msg}); delete the run folder to start over.") from None
    if not isinstance(state, dict) or "epochs_done" not in state or "history" not in state:
        raise TrainingStateError(f"{path} is not a training state (no 'epochs_done' / 'history'); "
                                 "use another run folder.")
    return state


def _ensure_compiled(model: keras.Model, learning_rate: float) -> None:
    if not getattr(model, "compiled", False):
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=["accuracy"],
        )


def _restore_checkpoint(model: keras.Model, run_dir: Path, state: dict[str, Any]) -> None:
    """Load weights and optimizer state of ``run_dir``'s last checkpoint into ``model`` (compiled)."""
    if state.get("model") not in (None, model.name):
        raise ModelError(f"{run_dir} holds a checkpoint of model {state['model']!r}, not {model.name!r}; "
                         "use another run folder (--out) for this model.")
    checkpoint = run_dir / state.get("checkpoint", CHECKPOINT_FILE)
    if not checkpoint.is_file():
        raise TrainingStateError(f"{run_dir / STATE_FILE} says {state['epochs_done']} epochs are done but "
                                 f"{checkpoint} is missing; delete the run folder to start over.")
    # The optimizer's slots (Adam's moments, its step count) exist only once it is built;
    # build it first so that load_weights has somewhere to put the saved ones.
    model.optimizer.build(model.trainable_variables)
    try:
        model.load_weights(checkpoint)
    except ValueError as err:  # same name, other shapes: other options or another profile
        raise TrainingStateError(
            f"The checkpoint in {run_dir} does not fit this {model.name} (built with other options or "
            f"another profile?): {err}; use another run folder, or the settings of the first run."
        ) from None


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: save ``RUN/checkpoints/last.keras``, then ``history.json`` and ``state.json``.

    All three writes are atomic. The checkpoint is written before the state that names its
    epoch, so a run killed between the two resumes from a state at most one epoch behind
    its checkpoint (that epoch is trained once more), never from a state ahead of it.

    Args:
        run_dir: the run folder.
        state: the state to extend (``load_run_state`` of an earlier call, or a fresh one);
            updated in place.
    """

    def __init__(self, run_dir: Path, state: dict[str, Any]):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.state = state
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self._epoch_start
        history = self.state["history"]
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(float(value))
        self.state["epochs_done"] = epoch + 1
        self.state["epoch_seconds"].append(round(seconds, 3))
        self.state["train_seconds"] = round(sum(self.state["epoch_seconds"]), 3)
        with atomic_path(self.run_dir / CHECKPOINT_FILE, suffix=".keras") as tmp:
            self.model.save(tmp)
        atomic_write_json(self.run_dir / HISTORY_FILE, history)
        atomic_write_json(self.run_dir / STATE_FILE, self.state)


def train_model(
    model: keras.Model,
    train_ds: Any,
    *,
    val_ds: Any = None,
    epochs: int,
    run_dir: str | Path,
    learning_rate: float,
    verbose: int = 1,
    seed: int | None = None,
    settings: Settings | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> dict[str, list[float]]:
    """Fit ``model`` for ``epochs`` epochs in all, checkpointing every epoch and resuming from ``run_dir``.

    Args:
        model: a Keras model; compiled here (Adam at ``learning_rate``, sparse categorical
            cross-entropy on probabilities, accuracy) unless it already is.
        train_ds: a ``tf.data.Dataset`` of ``(clips, labels)`` batches (a ``Pipeline.dataset``).
        val_ds: optional dataset of the same kind, evaluated after every epoch (``val_*`` keys).
        epochs: total number of epochs of the run, counting epochs done by earlier calls.
        run_dir: the run folder (created); an existing ``state.json`` there is resumed.
        learning_rate: Adam's learning rate when the model is compiled here.
        verbose: 1 shows Keras' progress bar, 2 one line per epoch, 0 nothing.
        seed, settings: recorded in ``state.json`` so a run says how it was made.
        callbacks: more Keras callbacks, run after the checkpoint callback.

    Returns:
        The history of the whole run as plain lists, one value per epoch:
        ``{"loss": [...], "accuracy": [...], ("val_loss": [...], "val_accuracy": [...])}``.
        The model holds the weights after the last epoch (loaded from the checkpoint when
        nothing was left to train).

    Raises:
        ValueError: ``epochs`` is not a whole number >= 0.
        ModelError: ``run_dir`` holds a checkpoint of another model.
        TrainingStateError: ``run_dir``'s state is damaged.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0; got {epochs!r}.")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _ensure_compiled(model, learning_rate)
    state = load_run_state(run_dir)
    if state is not None:
        _restore_checkpoint(model, run_dir, state)
    else:
        state = {
            "version": STATE_VERSION,
            "model": model.name,
            "epochs_done": 0,
            "history": {},
            "epoch_seconds": [],
            "train_seconds": 0.0,
            "learning_rate": float(learning_rate),
            "seed": seed,
            "settings": settings.as_dict() if settings is not None else None,
            "checkpoint": CHECKPOINT_FILE,
        }
    initial_epoch = int(state["epochs_done"])
    if initial_epoch >= epochs:
        if verbose:
            print(f"{run_dir} already holds {initial_epoch} epochs of {model.name}; nothing left to train.",
                  flush=True)
        return _plain_history(state["history"])
    if verbose and initial_epoch:
        print(f"Resuming {model.name} in {run_dir} at epoch {initial_epoch + 1} of {epochs}.", flush=True)
    checkpoint = EpochCheckpoint(run_dir, state)
    with warnings.catch_warnings():
        # The pipelines filter out videos that fail to decode, so their length is unknown
        # until the first epoch ends; Keras then warns that the input "ran out of data",
        # which is exactly how such an epoch is meant to end.
        warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)
        model.fit(train_ds, validation_data=val_ds, epochs=epochs, initial_epoch=initial_epoch,
                  callbacks=[checkpoint, *(callbacks or [])], verbose=verbose,
                  shuffle=False)  # the pipeline shuffles; Keras would only warn that it cannot
    return _plain_history(state["history"])


def _plain_history(history: dict[str, list]) -> dict[str, list[float]]:
    return {key: [float(v) for v in values] for key, values in history.items()}


def predict_dataset(model: keras.Model, dataset: Any, *, progress: bool = False):
    """Labels and predicted probabilities over a dataset of ``(inputs, labels)`` batches.

    Returns:
        ``(y_true, y_prob)``: ``(N,)`` int labels and ``(N, C)`` float32 probabilities, in
        dataset order (use an evaluation pipeline, ``training=False``, for a fixed order).
    """
    from hybridvid_lib.evaluation import collect_predictions

    return collect_predictions(model, dataset, progress=progress)


# --------------------------------------------------------------------------- command line
def _merge_skipped(run_dir: Path, found: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Union of this call's skipped videos with those recorded by earlier calls of the same run.

    A resumed run that trains nothing never decodes the training set, so it cannot find
    videos that fail only at decode time; the earlier call's record keeps them.
    """
    path = run_dir / "skipped.json"
    merged = {subset: list(items) for subset, items in found.items()}
    if path.is_file():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            earlier = {}
        for subset, items in (earlier.items() if isinstance(earlier, dict) else []):
            known = {item.get("video") for item in merged.setdefault(subset, [])}
            merged[subset] += [item for item in items if item.get("video") not in known]
    return merged


def train_command(args: argparse.Namespace) -> int:
    """``hybridvid train``: train a registered model on a dataset split, resumably, and write ``RUN/metrics.json``.

    ``args`` has ``model, format, root, videos, splits, split, profile, epochs, batch_size,
    seed, strict, out`` (see :func:`hybridvid_lib.cli.build_parser`).

    Writes into ``args.out``: the training state (see the module doc), ``metrics.json``
    (one result: test accuracy, macro F1, params, train seconds over all resumed calls,
    final training loss, skipped videos) and ``skipped.json`` (``{"train": [...], "test": [...]}``).

    Returns:
        0 on success. Kit errors (unknown model or format, bad root, ``--strict`` with bad
        videos) propagate to the CLI, which prints them and exits with status 2.
    """
    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.data.datasets import load_dataset
    from hybridvid_lib.data.pipeline import clip_pipeline
    from hybridvid_lib.evaluation import evaluate_predictions, metrics_document, result_entry, write_metrics
    from hybridvid_lib.models import build_model, model_info
    from hybridvid_lib.seeding import set_seed

    model_info(args.model)  # an unknown name fails here, before any data is read
    settings = resolve_settings(args.profile, num_epochs=args.epochs, batch_size=args.batch_size)
    run_dir = Path(args.out)
    print(f"hybridvid train: {args.model} on {args.format} split {args.split}, profile {settings.profile} "
          f"({settings.num_epochs} epochs, batch {settings.batch_size}, {settings.num_frames} frames of "
          f"{settings.frame_size} px), seed {args.seed} -> {run_dir}", flush=True)
    set_seed(args.seed)
    ds = load_dataset(args.format, args.root, videos=args.videos, splits=args.splits, split=args.split,
                      progress=sys.stderr.isatty())
    train = clip_pipeline(ds, "train", settings, training=True, seed=args.seed, strict=args.strict)
    test = clip_pipeline(ds, "test", settings, training=False, seed=args.seed, strict=args.strict)
    model = build_model(args.model, settings, ds.num_classes)

    # A live progress bar in a terminal; one line per epoch in a log file or a pipe.
    verbose = 1 if sys.stdout.isatty() else 2
    history = train_model(model, train.dataset, epochs=settings.num_epochs, run_dir=run_dir,
                          learning_rate=settings.learning_rate, verbose=verbose, seed=args.seed,
                          settings=settings)
    y_true, y_prob = predict_dataset(model, test.dataset)
    metrics = evaluate_predictions(y_true, y_prob, test.class_names)

    skipped = _merge_skipped(run_dir, {"train": train.skipped, "test": test.skipped})
    atomic_write_json(run_dir / "skipped.json", skipped)
    state = load_run_state(run_dir) or {"train_seconds": 0.0, "epochs_done": 0}
    losses = history.get("loss", [])
    final_loss = losses[-1] if losses and math.isfinite(losses[-1]) else None
    if losses and final_loss is None:  # metrics.json holds finite numbers only
        print(f"warning: the final training loss is {losses[-1]} (training diverged); "
              "try a lower learning rate.", file=sys.stderr)
    entry = result_entry(
        args.model, ds.format, metrics, params=int(model.count_params()),
        train_seconds=float(state["train_seconds"]), split=args.split,
        final_train_loss=final_loss, epochs=int(state["epochs_done"]),
        num_train_videos=train.num_videos, num_test_videos=test.num_videos,
        skipped=[dict(item, subset=subset) for subset, items in skipped.items() for item in items],
    )
    write_metrics(run_dir / "metrics.json", metrics_document("hybridvid train", settings.profile, args.seed, [entry]))
    print(f"{args.model}: test accuracy {metrics['accuracy']:.3f}, macro F1 {metrics['macro_f1']:.3f} "
          f"({test.num_videos} test videos), {state['epochs_done']} epochs in {state['train_seconds']:.0f} s; "
          f"wrote {run_dir / 'metrics.json'}", flush=True)
    return 0
