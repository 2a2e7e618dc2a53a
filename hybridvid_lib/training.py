"""Training with a checkpoint after every epoch, resumed where an interrupted run stopped.

::

    from hybridvid_lib.training import train_model, predict_dataset
    history = train_model(model, train.dataset, epochs=settings.num_epochs, run_dir=Path("runs/cnn_lstm"),
                          learning_rate=settings.learning_rate, seed=SEED, settings=settings)
    y_true, y_prob = predict_dataset(model, test.dataset)

What a run folder holds (every file written atomically: a killed run leaves the previous
version, never half a file)::

    RUN/checkpoints/epoch-NNNN.keras  model + optimizer state after the last completed epoch (NNNN)
    RUN/state.json               epochs done, history so far, seconds per epoch, seed, settings, options,
                                 the checkpoint's name and the random state of the model's layers
    RUN/history.json             the history alone: {"loss": [...], "accuracy": [...], ...}
    RUN/model.keras              the whole trained model (every output), when training finished

Inputs and outputs. Pipelines yield dicts keyed by modality plus ``index``; the model gets
only the inputs it names (:func:`model_inputs`). A model with a dict output (``probs`` plus
``attention`` or ``embedding``) is trained on ``probs`` unless a loss for the whole model is
given (a model compiled beforehand, e.g. with a stateful center loss, is used as compiled).

Resume. When ``RUN/state.json`` exists, :func:`train_model` loads the checkpoint's weights
*and optimizer state* into the given model and continues at the next epoch
(``initial_epoch``), so a run stopped by Ctrl-C or a closed laptop costs at most one
epoch. A call after the last epoch trains nothing and returns the stored history. A resume
is refused when the checkpoint was made with another model, other model options, another
seed or other settings (only the number of epochs may grow): two ablation variants of one
model never share a checkpoint by accident. A
resumed run is not bit-identical to an uninterrupted one: the data pipeline starts its
epoch-dependent random draws (clip sampling, crops, flips, shuffle) afresh.

``hybridvid train`` (:func:`train_command`) puts this together with a dataset, the
registry and the evaluation module and writes ``RUN/metrics.json``.
"""

from __future__ import annotations

import argparse
import contextlib
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

from hybridvid_lib.schedules import epoch_learning_rate  # noqa: E402

CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "state.json"
HISTORY_FILE = "history.json"
STATE_VERSION = 3
MODEL_FILE = "model.keras"
# Settings that may differ when a run is resumed: more epochs extend it; seeds list the course's seeds; a run
# may go on with more devices or without XLA (the arithmetic is the same, to float tolerance).
RESUMABLE_SETTINGS = ("num_epochs", "seeds", "strategy", "jit_compile")


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


#: The name of an optional model input that receives the labels in training (``None`` at inference): a layer
#: that needs them, such as :class:`~hybridvid_lib.layers.CenterLoss`, reads it.
LABEL_INPUT = "label"


def model_inputs(features: Any, model: keras.Model, label: Any = None) -> Any:
    """The part of a pipeline element's ``features`` dict that ``model`` takes, by input name.

    A model with one tensor input named after a modality gets that tensor; a model with
    named inputs gets a dict. A model with a ``label`` input (:data:`LABEL_INPUT`) gets ``label``
    there (``None`` at inference). Raises :class:`~hybridvid_lib.errors.ModelError` naming the
    input the features lack.
    """
    if not isinstance(features, dict):
        return features
    names = [tensor.name for tensor in model.inputs]
    if LABEL_INPUT in names:
        features = {**features, LABEL_INPUT: label}
    missing = [n for n in names if n not in features]
    if missing:
        raise ModelError(f"The {model.name} model takes {', '.join(names)}; the pipeline gives "
                         f"{', '.join(k for k in features if k != 'index')}: build it with "
                         f"inputs={tuple(names)!r}.")
    if isinstance(model.input, dict):
        return {n: features[n] for n in names}
    return features[names[0]] if len(names) == 1 else [features[n] for n in names]


def for_model(dataset: Any, model: keras.Model) -> Any:
    """``dataset`` of ``(features dict, label)`` mapped to what ``model`` takes (see :func:`model_inputs`)."""
    from hybridvid_lib.tf_setup import import_tensorflow

    tf = import_tensorflow()
    spec = dataset.element_spec[0]
    if not isinstance(spec, dict):
        return dataset
    model_inputs({k: None for k in spec}, model)  # a clear error before any batch is read
    return dataset.map(lambda features, label: (model_inputs(features, model, label), label),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def training_view(model: keras.Model) -> keras.Model:
    """``model`` itself, or for a dict output a model of the same layers whose output is ``probs``."""
    if isinstance(model.output, dict):
        from hybridvid_lib.models.registry import output_probs

        return keras.Model(model.input, output_probs(model.output), name=model.name)
    return model


def compile_for_training(model: keras.Model, learning_rate: float, *, loss: Any = None,
                         metrics: Any = None, optimizer: Any = None, jit_compile: bool | str = "auto") -> None:
    """Compile ``model`` (unless it already is): Adam, cross-entropy on probabilities, accuracy by default.

    ``jit_compile``: XLA for the training step (``"auto"``: Keras' choice, on with a GPU, off on a CPU).
    Under the ``mixed_float16`` policy Keras wraps the optimizer in a loss-scale optimizer itself.
    """
    if getattr(model, "compiled", False):
        return
    model.compile(
        optimizer=optimizer or keras.optimizers.Adam(learning_rate=learning_rate),
        loss=loss or keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"] if metrics is None else metrics,
        jit_compile=jit_compile,
    )


def build_before_fit(model: keras.Model, element_spec: Any) -> None:
    """Create every variable ``fit`` needs (optimizer slots, metric and loss state) before it traces.

    Without a distribution strategy Keras creates them inside the first traced training step, and
    variables created there make TensorFlow trace that step a second time: for I3D in ``smoke`` the
    first epoch took 20 s instead of 11 s, and every chapter pays it once per model. Keras' own
    symbolic build (what it runs first under a strategy) does the work from the shapes alone, so no
    batch is drawn from the pipeline (its order stays the seed's). If a Keras release drops that
    private method, only the optimizer is built here and ``fit`` builds the rest, as before.

    Args:
        model: compiled, with the trainable layers it will be fitted with (the optimizer only
            updates the variables it was built with).
        element_spec: ``(x, y)`` or ``(x, y, sample_weight)`` of the training dataset, as
            ``tf.data.Dataset.element_spec`` gives it (``TensorSpec``s: shape and dtype).
    """
    symbolic_build = getattr(model, "_symbolic_build", None)
    if callable(symbolic_build):
        symbolic_build(data_batch=element_spec)
    elif model.built and model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _comparable(state_or_new: dict[str, Any]) -> dict[str, Any]:
    settings = dict(state_or_new.get("settings") or {})
    if settings:  # a state written before a setting existed was made with its default
        import dataclasses

        for spec in dataclasses.fields(Settings):
            if spec.name not in settings and spec.default is not dataclasses.MISSING:
                settings[spec.name] = spec.default
    for key in RESUMABLE_SETTINGS:
        settings.pop(key, None)
    return {"model": state_or_new.get("model"), "options": state_or_new.get("options") or {},
            "seed": state_or_new.get("seed"), "settings": settings}


def check_resumable(run_dir: Path, state: dict[str, Any], wanted: dict[str, Any]) -> None:
    """Refuse to resume ``run_dir`` when it was made with another model, options, seed or settings.

    Raises:
        ModelError: another model's checkpoint.
        TrainingStateError: the same model with other options, seed or settings (the message
            names what differs, with both values).
    """
    if state.get("model") not in (None, wanted["model"]):
        raise ModelError(f"{run_dir} holds a checkpoint of model {state['model']!r}, not {wanted['model']!r}; "
                         "use another run folder (--out) for this model.")
    theirs, mine = _comparable(state), _comparable(wanted)
    differences = []
    for group in ("options", "settings"):
        for key in sorted(set(theirs[group]) | set(mine[group])):
            if theirs[group].get(key) != mine[group].get(key):
                differences.append(f"{key} {theirs[group].get(key)!r} there, {mine[group].get(key)!r} here")
    if theirs["seed"] != mine["seed"] and state.get("version", 1) >= 2:
        differences.append(f"seed {theirs['seed']!r} there, {mine['seed']!r} here")
    if differences:
        raise TrainingStateError(
            f"{run_dir} holds a {wanted['model']} run made with other settings ({'; '.join(differences)}); "
            "resuming it would mix two experiments. Use another run folder (--out), or the same settings."
        )


def _restore_checkpoint(model: keras.Model, run_dir: Path, state: dict[str, Any]) -> None:
    """Load weights and optimizer state of ``run_dir``'s last checkpoint into ``model`` (compiled)."""
    checkpoint = run_dir / state.get("checkpoint", "checkpoints/last.keras")  # the name before version 3
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
    restore_random_state(model, state.get("random_state"))


def checkpoint_name(epochs_done: int) -> str:
    """``checkpoints/epoch-0003.keras``: the checkpoint after ``epochs_done`` epochs, relative to the run folder."""
    return f"{CHECKPOINT_DIR}/epoch-{int(epochs_done):04d}.keras"


def checkpoint_path(run_dir: str | Path) -> Path | None:
    """The checkpoint a resume of ``run_dir`` starts from (the one its ``state.json`` names), or ``None``."""
    state = load_run_state(run_dir)
    return None if state is None else Path(run_dir) / state["checkpoint"]


def _random_state_variables(model: keras.Model) -> list:
    """The state variables of the model's random generators (dropout masks ...), in a fixed order.

    Keras keeps them out of ``.keras`` weight files: a run resumed without them would draw the
    first epoch's dropout masks again.
    """
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def random_state(model: keras.Model) -> list[list[int]]:
    """The values of :func:`_random_state_variables`, as JSON lists."""
    return [keras.ops.convert_to_numpy(v).tolist() for v in _random_state_variables(model)]


def restore_random_state(model: keras.Model, values: list[list[int]] | None) -> None:
    """Put back what :func:`random_state` returned (nothing when ``values`` is ``None``: an older state)."""
    if values is None:
        return
    variables = _random_state_variables(model)
    if len(variables) != len(values):
        raise TrainingStateError(f"The saved state holds {len(values)} random generators and this {model.name} "
                                 f"has {len(variables)}; it was made with another model. Use another run folder.")
    for variable, value in zip(variables, values):
        variable.assign(value)


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: save ``RUN/checkpoints/epoch-NNNN.keras``, then ``history.json`` and ``state.json``.

    All writes are atomic, and ``state.json``, written last, is the commit point: it names the
    checkpoint of its epoch and holds the random state of the same moment, and the previous
    checkpoint is deleted only after it. A run killed at any moment resumes from a state and a
    checkpoint of one and the same epoch (a checkpoint written but not yet named is written
    again when its epoch is trained again).

    Args:
        run_dir: the run folder.
        state: the state to extend (``load_run_state`` of an earlier call, or a fresh one);
            updated in place.
        write: ``False`` on the workers of a multi-worker run other than the chief, which train
            in step but write nothing.

    Args:
        run_dir: the run folder.
        state: the state to extend (``load_run_state`` of an earlier call, or a fresh one);
            updated in place.
    """

    def __init__(self, run_dir: Path, state: dict[str, Any], *, write: bool = True):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.state = state
        self.write = write
        self.diverged: dict[str, float] | None = None  # the logs of an epoch with a non-finite value
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self._epoch_start
        values = {key: float(value) for key, value in (logs or {}).items()}
        if not all(math.isfinite(v) for v in values.values()):
            # A diverged epoch is never checkpointed: the run folder keeps the last good epoch.
            self.diverged = values
            return
        history = self.state["history"]
        for key, value in values.items():
            history.setdefault(key, []).append(value)
        self.state["epochs_done"] = epoch + 1
        self.state["epoch_seconds"].append(round(seconds, 3))
        self.state["train_seconds"] = round(sum(self.state["epoch_seconds"]), 3)
        previous, name = self.state.get("checkpoint"), checkpoint_name(epoch + 1)
        self.state["checkpoint"] = name
        self.state["random_state"] = random_state(self.model)
        if not self.write:
            _save_and_discard(self.model)
            return
        with atomic_path(self.run_dir / name, suffix=".keras") as tmp:
            self.model.save(tmp)
        atomic_write_json(self.run_dir / HISTORY_FILE, history)
        atomic_write_json(self.run_dir / STATE_FILE, self.state)
        if previous and previous != name:
            (self.run_dir / previous).unlink(missing_ok=True)


class StartEpoch(keras.callbacks.Callback):
    """Set a training pipeline's :class:`~hybridvid_lib.data.pipeline.EpochClock` to each epoch as it begins.

    Keras makes the epoch's data iterator after ``on_epoch_begin``, so the pipeline draws exactly
    that epoch's shuffle and clips, whether the run started at epoch 0 or resumed later.
    """

    def __init__(self, clock: Any):
        super().__init__()
        self.clock = clock

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.clock.start_at(int(epoch))


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
    options: dict[str, Any] | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    loss: Any = None,
    metrics: Any = None,
    optimizer: Any = None,
    strategy: Any = None,
    write: bool = True,
) -> dict[str, list[float]]:
    """Fit ``model`` for ``epochs`` epochs in all, checkpointing every epoch and resuming from ``run_dir``.

    Args:
        model: a Keras model; compiled here (Adam at ``learning_rate``, sparse categorical
            cross-entropy on probabilities, accuracy; or ``loss`` / ``metrics`` / ``optimizer``)
            unless it already is. A dict-output model is trained on its ``probs`` unless it
            was compiled beforehand.
        train_ds: a training :class:`~hybridvid_lib.data.pipeline.Pipeline` (its epoch clock is then
            set to every epoch, so that a resumed run draws the data of an uninterrupted one), or any
            ``tf.data.Dataset`` of ``(features, labels)`` batches; the model gets the inputs it names.
        val_ds: optional dataset of the same kind, evaluated after every epoch (``val_*`` keys).
        epochs: total number of epochs of the run, counting epochs done by earlier calls.
        run_dir: the run folder (created); an existing ``state.json`` there is resumed.
        learning_rate: Adam's learning rate when the model is compiled here.
        verbose: 1 shows Keras' progress bar, 2 one line per epoch, 0 nothing.
        seed, settings, options: recorded in ``state.json`` so a run says how it was made (options:
            the model builder's options); a resume with other values is refused.
        callbacks: more Keras callbacks, run after the checkpoint callback. Training stops at
            a non-finite loss (``TerminateOnNaN``); that epoch is not checkpointed and the
            returned history ends with its values (NaN), so the caller can report it.
        loss, metrics, optimizer: what to compile with, when the model is not compiled yet.
        strategy: a ``tf.distribute`` strategy the model was built under
            (:func:`~hybridvid_lib.scale.distribution.get_strategy`); compiling, restoring and training
            happen in its scope. ``None``: one device.
        write: ``False`` on the workers of a multi-worker run other than the chief: they train in
            step and write nothing (no checkpoint, state or model file).

    Returns:
        The history of the whole run as plain lists, one value per epoch:
        ``{"loss": [...], "accuracy": [...], ("val_loss": [...], "val_accuracy": [...])}``, and
        ``"learning_rate"`` when ``settings.lr_schedule`` changes the rate from epoch to epoch
        (:mod:`hybridvid_lib.schedules`; the first epoch's rate is the optimizer's).
        The model holds the weights after the last epoch (loaded from the checkpoint when
        nothing was left to train).

    Raises:
        ValueError: ``epochs`` is not a whole number >= 0.
        ModelError: ``run_dir`` holds a checkpoint of another model.
        TrainingStateError: ``run_dir``'s state is damaged, or made with other options / settings / seed.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0; got {epochs!r}.")
    run_dir = Path(run_dir)
    if write:
        run_dir.mkdir(parents=True, exist_ok=True)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        return _train_in_scope(model, train_ds, val_ds=val_ds, epochs=epochs, run_dir=run_dir,
                               learning_rate=learning_rate, verbose=verbose, seed=seed, settings=settings,
                               options=options, callbacks=callbacks, loss=loss, metrics=metrics,
                               optimizer=optimizer, write=write, strategy=strategy)


def _train_in_scope(model, train_ds, *, val_ds, epochs, run_dir, learning_rate, verbose, seed, settings, options,
                    callbacks, loss, metrics, optimizer, write, strategy) -> dict[str, list[float]]:
    from hybridvid_lib.scale.distribution import fit_across_workers, is_multi_worker

    full_model = model
    model = model if getattr(model, "compiled", False) else training_view(model)
    from hybridvid_lib.scale.precision import jit_compile_option

    compile_for_training(model, learning_rate, loss=loss, metrics=metrics, optimizer=optimizer,
                         jit_compile=jit_compile_option(settings) if settings is not None else "auto")
    # Made before a checkpoint is restored: the restored optimizer holds the last epoch's scheduled rate.
    schedule = _schedule_callbacks(model, settings, epochs)
    new_state = {
        "version": STATE_VERSION,
        "model": model.name,
        "epochs_done": 0,
        "history": {},
        "epoch_seconds": [],
        "train_seconds": 0.0,
        "learning_rate": float(learning_rate),
        "seed": seed,
        "settings": settings.as_dict() if settings is not None else None,
        "options": to_plain(options or {}),
        "checkpoint": None,
        "random_state": None,
    }
    state = load_run_state(run_dir)
    if state is not None:
        check_resumable(run_dir, state, new_state)
        _restore_checkpoint(model, run_dir, state)
    else:
        state = new_state
    from hybridvid_lib.data.pipeline import Pipeline

    clock = train_ds.epoch_clock if isinstance(train_ds, Pipeline) else None
    train_ds = for_model(train_ds.dataset if isinstance(train_ds, Pipeline) else train_ds, model)
    val_ds = val_ds.dataset if isinstance(val_ds, Pipeline) else val_ds
    val_ds = for_model(val_ds, model) if val_ds is not None else None
    initial_epoch = int(state["epochs_done"])
    if initial_epoch >= epochs:
        if verbose:
            # The folder's name, not its path: notebooks print this, and their committed outputs hold no
            # machine's absolute paths (hybridvid_lib.course.render).
            print(f"Run folder {Path(run_dir).name} already holds {initial_epoch} epochs of {model.name}; nothing "
                  "left to train.", flush=True)
        # Written once, when training finished; rewriting it would change its bytes (a .keras file is a zip with
        # timestamps) and so its fingerprint, and every feature cache made from it would be refused as stale.
        if write and not (run_dir / MODEL_FILE).is_file():
            _save_model(full_model, run_dir)
        return _plain_history(state["history"])
    if verbose and initial_epoch:
        print(f"Resuming {model.name} in run folder {Path(run_dir).name} at epoch {initial_epoch + 1} of {epochs}.",
              flush=True)
    checkpoint = EpochCheckpoint(run_dir, state, write=write)
    clocks = []
    if clock is not None:
        # Set now too: under a strategy Keras draws a first batch to build the model before the first
        # on_epoch_begin, from the iterator that epoch then goes on with.
        clock.start_at(initial_epoch)
        clocks.append(StartEpoch(clock))
    with warnings.catch_warnings():
        # The pipelines filter out videos that fail to decode, so their length is unknown
        # until the first epoch ends; Keras then warns that the input "ran out of data",
        # which is exactly how such an epoch is meant to end.
        warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)
        every_callback = [*clocks, *schedule, checkpoint,
                          keras.callbacks.TerminateOnNaN(), *(callbacks or [])]
        if strategy is None and hasattr(train_ds, "element_spec"):  # under a strategy Keras does it itself
            build_before_fit(model, train_ds.element_spec)
        if strategy is not None and is_multi_worker(strategy):
            fit_across_workers(model, train_ds, strategy=strategy, epochs=epochs, initial_epoch=initial_epoch,
                               callbacks=every_callback, verbose=verbose, validation_data=val_ds)
        else:
            model.fit(train_ds, validation_data=val_ds, epochs=epochs, initial_epoch=initial_epoch,
                      callbacks=every_callback, verbose=verbose,
                      shuffle=False)  # the pipeline shuffles; Keras would only warn that it cannot
    history = _plain_history(state["history"])
    if checkpoint.diverged is not None:  # returned, never stored: the caller sees the divergence
        for key, value in checkpoint.diverged.items():
            history.setdefault(key, []).append(value)
        return history
    if write:
        _save_model(full_model, run_dir)
    else:
        _save_and_discard(full_model)
    return history


def _schedule_callbacks(model: keras.Model, settings: Settings | None, epochs: int) -> list[keras.callbacks.Callback]:
    """Keras' ``LearningRateScheduler`` for ``settings.lr_schedule``, or nothing.

    Nothing for the ``constant`` schedule, without settings, or when the optimizer carries its own
    Keras schedule. The schedule starts from the freshly compiled optimizer's rate and depends on the
    epoch alone, so a resumed run trains each epoch at the rate of an uninterrupted one; Keras logs
    the rate as ``learning_rate``.
    """
    schedule = settings.lr_schedule if settings is not None else "constant"
    if schedule == "constant" or isinstance(getattr(model.optimizer, "_learning_rate", None),
                                            keras.optimizers.schedules.LearningRateSchedule):
        return []
    base = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    return [keras.callbacks.LearningRateScheduler(lambda epoch: epoch_learning_rate(base, epoch, epochs, schedule))]


def _save_and_discard(model: keras.Model) -> None:
    """Save ``model`` to a temporary folder and delete it: what a multi-worker run's other workers do.

    Under a multi-worker strategy reading some variables for a save is a collective operation
    that every worker must join; only the chief keeps what it wrote.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hybridvid-worker-") as folder:
        model.save(Path(folder) / "model.keras")


def _save_model(model: keras.Model, run_dir: Path) -> None:
    """``RUN/model.keras``: the whole model, every output, for models built from trained ones."""
    with atomic_path(run_dir / MODEL_FILE, suffix=".keras") as tmp:
        model.save(tmp)


def to_plain(value: Any) -> Any:
    """Builder options as JSON values (tuples become lists), so a stored state compares equal to a new one."""
    return json.loads(json.dumps(value, default=str))


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


def parse_options(pairs: list[str], known: dict[str, Any]) -> dict[str, Any]:
    """``["lstm_units=64", "filters=[8,16]"]`` -> ``{"lstm_units": 64, "filters": [8, 16]}`` (values as YAML).

    Raises:
        ModelError: a pair without ``=``, an option the model does not have (the message lists
            its options), or one given twice.
    """
    import yaml

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ModelError(f"--option expects KEY=VALUE (e.g. --option lstm_units=64); got {pair!r}.")
        if key not in known:
            raise ModelError(f"This model has no option {key!r}; its options: {', '.join(known) or '(none)'}.")
        if key in options:
            raise ModelError(f"--option {key} is given twice; give each option once.")
        try:
            options[key] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            options[key] = text
        _check_option_type(key, options[key], known[key])
    return options


def _check_option_type(key: str, value: Any, default: Any) -> None:
    """Refuse an option value of another kind than its default (``lstm_units=ten`` for an int), in one sentence.

    A default of ``None`` says nothing about the type, so anything goes there (the builder checks).
    Whole numbers pass where a float is expected; ``True`` is not taken for a number.

    Raises:
        ModelError: naming the option, an example of the expected kind, and the value given.
    """
    if default is None or value is None:
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, (tuple, list)):
        ok = isinstance(value, (tuple, list)) and all(
            isinstance(v, type(d)) and not isinstance(v, bool) for v, d in zip(value, default)) if default \
            else isinstance(value, (tuple, list))
    else:
        ok = isinstance(value, type(default))
    if not ok:
        example = list(default) if isinstance(default, tuple) else default
        raise ModelError(f"--option {key} expects a value like {example!r}; got {value!r}.")


def train_command(args: argparse.Namespace) -> int:
    """``hybridvid train``: train a registered model on a dataset split, resumably, and write ``RUN/metrics.json``.

    ``args`` has ``model, format, root, videos, splits, split, profile, epochs, batch_size,
    seed, strict, option, list_options, val, out`` (see :func:`hybridvid_lib.cli.build_parser`).

    Writes into ``args.out``: the training state (see the module doc), ``metrics.json``
    (one result of :func:`hybridvid_lib.runs.train_and_evaluate`: test accuracy, macro F1,
    params, train seconds over all resumed calls, options, skipped videos) and ``skipped.json``
    (``{"train": [...], "val": [...], "test": [...]}``). Training into a folder made with other
    options, settings or seed is refused.

    Returns:
        0 on success. Kit errors (unknown model, option or format, bad root, ``--strict`` with bad
        videos, another run's folder) propagate to the CLI, which prints them and exits with status 2.
    """
    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.data.datasets import load_dataset
    from hybridvid_lib.evaluation import metrics_document, write_metrics
    from hybridvid_lib.models import model_info
    from hybridvid_lib.runs import train_and_evaluate

    info = model_info(args.model)  # an unknown name fails here, before any data is read
    if getattr(args, "list_options", False):
        print(f"{args.model} ({', '.join(info['inputs'])} -> {', '.join(info['outputs'])}): {info['description']}")
        for key, default in info["options"].items():
            print(f"  --option {key}={default!r}")
        return 0
    missing = [flag for flag, value in (("--format", args.format), ("--root", args.root), ("--out", args.out))
               if value is None]
    if missing:
        raise ModelError(f"hybridvid train needs {', '.join(missing)}: the dataset (--format F --root DIR) "
                         "and the run folder for checkpoints and metrics.json (--out RUN).")
    options = parse_options(list(getattr(args, "option", None) or []), info["options"])
    settings = resolve_settings(args.profile, num_epochs=args.epochs, batch_size=args.batch_size,
                                strategy=getattr(args, "strategy", None), precision=getattr(args, "precision", None),
                                jit_compile=getattr(args, "xla", None), lr_schedule=getattr(args, "lr_schedule", None),
                                auto_batch=False if args.batch_size is not None else None)
    recipe = None
    if getattr(args, "recipe", None):
        from hybridvid_lib.models.recipes import get_recipe

        recipe = get_recipe(args.recipe)
        settings = recipe.apply(settings)
        print(f"recipe {recipe.name}: {recipe.description}"
              + ("" if args.model in recipe.models else
                 f" (published for {', '.join(recipe.models)}, not {args.model})"), flush=True)
    if "features" in info["inputs"] and args.batch_size is None:
        from hybridvid_lib.models.sequence_heads import with_head_batch

        settings = with_head_batch(settings)  # the paper's batch of 32 for the heads, as in chapters 07 and 08
    run_dir = Path(args.out)
    shown = ", ".join(f"{k}={v!r}" for k, v in options.items())
    where = (f"protocol {getattr(args, 'protocol', None) or 'xsub'}" if args.format == "ntu"
             else f"split {args.split}")
    print(f"hybridvid train: {args.model}{f' ({shown})' if shown else ''} on {args.format} {where}, "
          f"profile {settings.profile} ({settings.num_epochs} epochs, batch {settings.batch_size}, "
          f"{settings.num_frames} frames of {settings.frame_size} px), seed {args.seed} -> {run_dir}", flush=True)
    ds = load_dataset(args.format, args.root, videos=args.videos, splits=args.splits, split=args.split,
                      protocol=getattr(args, "protocol", None), skeletons=getattr(args, "skeletons", None),
                      progress=sys.stderr.isatty())
    if getattr(args, "val", None) is not None:
        ds = ds.with_validation(args.val, seed=args.seed)
    pipeline_options = {}
    if "features" in info["inputs"]:  # a head on cached feature sequences (chapters 07-08)
        from hybridvid_lib.data.feature_cache import open_feature_stack

        if getattr(args, "features", None) is None:
            raise ModelError(f"{args.model} reads cached feature sequences: give --features DIR, the folder "
                             "`hybridvid features extract --out DIR` filled for i3d_rgb and i3d_flow.")
        stack = open_feature_stack(args.features)
        options.setdefault("feature_dims", list(stack.dims))
        pipeline_options["feature_cache"] = stack
    # A live progress bar in a terminal; one line per epoch in a log file or a pipe.
    verbose = 1 if sys.stdout.isatty() else 2
    run = train_and_evaluate(args.model, ds, settings, seed=args.seed, run_dir=run_dir, options=options,
                             strict=args.strict, verbose=verbose, init_from=getattr(args, "init_from", None),
                             pipeline_options=pipeline_options,
                             fit_options={"optimizer": recipe.make_optimizer()} if recipe else None,
                             **({"recipe": recipe.name} if recipe else {}))
    if run.worker:  # a multi-worker run's other workers: the chief writes the run folder
        print(f"worker {run.worker}: trained {settings.num_epochs} epochs in step with the chief, which writes "
              f"{run_dir}", flush=True)
        return 0
    found = {subset: pipe.skipped for subset, pipe in run.pipelines.items()}
    atomic_write_json(run_dir / "skipped.json", _merge_skipped(run_dir, found))
    write_metrics(run_dir / "metrics.json",
                  metrics_document("hybridvid train", settings.profile, args.seed, [run.entry]))
    entry = run.entry
    print(f"{args.model}: test accuracy {entry['test_accuracy']:.3f}, macro F1 {entry['macro_f1']:.3f} "
          f"({entry['num_test_videos']} test videos), {entry['epochs']} epochs in {entry['train_seconds']:.0f} s; "
          f"wrote {run_dir / 'metrics.json'}", flush=True)
    return 0
