"""Several devices or machines with TensorFlow's own distribution strategies.

::

    from hybridvid_lib.scale.distribution import get_strategy, worker_role
    strategy = get_strategy("mirrored")            # every local GPU, or every logical CPU device
    with strategy.scope():
        model = build_model(...)                   # variables mirrored on every replica
    train_model(model, pipeline, ..., strategy=strategy)

Strategies (the ``strategy`` setting):

- ``default``: one device, no distribution.
- ``mirrored`` (``tf.distribute.MirroredStrategy``): one replica per local GPU, or per logical
  CPU device when there is no GPU (tests split one CPU into two); each step splits the global
  batch between the replicas and sums their gradients, so without batch normalisation and
  dropout it computes what one device computes, to float tolerance.
- ``multiworker`` (``tf.distribute.MultiWorkerMirroredStrategy``): several processes or machines
  named in the ``TF_CONFIG`` environment variable (``{"cluster": {"worker": ["host:port", ...]},
  "task": {"type": "worker", "index": i}}``), worker 0 the chief. Each worker reads only its
  share of the training videos: the record list is split *before decoding*
  (:func:`shard_of`, passed to the pipeline builder as ``shard=``), and ``tf.data``'s own
  auto-sharding is turned off. Only the chief writes checkpoints, ``state.json`` and
  ``model.keras``, and evaluates the finished model on the whole test set; the other workers
  train in step and write nothing. Keras 3's ``Model.fit`` fails under this strategy
  (keras-team/keras#20585, reproduced with TensorFlow 2.21: its first step reduces a batch across
  workers and cannot), so :func:`fit_across_workers` runs the epochs instead, with the model's own
  ``train_step`` on every replica and the same callbacks.

TensorFlow requires the multi-worker strategy to be created before any other TensorFlow op runs
in the process; :func:`get_strategy` creates each strategy once per process and keeps it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from hybridvid_lib.errors import SettingsError
from hybridvid_lib.tf_setup import gpu_devices, import_tensorflow

_STRATEGIES: dict[str, Any] = {}


@dataclass(frozen=True)
class WorkerRole:
    """Where this process stands in a run: ``num_workers`` processes, this one ``index``; 0 is the chief."""

    num_workers: int = 1
    index: int = 0

    @property
    def is_chief(self) -> bool:
        return self.index == 0


def read_tf_config(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """``TF_CONFIG`` parsed and checked: a worker list and this task's index.

    Raises:
        SettingsError: missing, not JSON, or without ``cluster.worker`` and ``task.index``.
    """
    text = (os.environ if environ is None else environ).get("TF_CONFIG")
    example = ('{"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:23456"]}, '
               '"task": {"type": "worker", "index": 0}}')
    if not text:
        raise SettingsError(f"strategy 'multiworker' needs the TF_CONFIG environment variable naming every worker "
                            f"and this one, e.g. TF_CONFIG='{example}'.")
    try:
        config = json.loads(text)
        workers = list(config["cluster"]["worker"])
        index = int(config["task"]["index"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise SettingsError(f"TF_CONFIG must be JSON like {example}; got {text!r}.") from None
    if not workers or not 0 <= index < len(workers):
        raise SettingsError(f"TF_CONFIG's task index {index} is not one of its {len(workers)} workers.")
    return config


def get_strategy(name: str) -> Any:
    """The ``tf.distribute`` strategy for a ``strategy`` setting, created once per process.

    Raises:
        SettingsError: an unknown name, or ``multiworker`` without a usable ``TF_CONFIG``.
    """
    from hybridvid_lib.scale import STRATEGIES

    if name not in STRATEGIES:
        raise SettingsError(f"Setting 'strategy' must be one of {', '.join(STRATEGIES)}; got {name!r}.")
    if name in _STRATEGIES:
        return _STRATEGIES[name]
    tf = import_tensorflow()
    if name == "default":
        strategy = tf.distribute.get_strategy()
    elif name == "mirrored":
        devices = None if gpu_devices() else [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    else:
        read_tf_config()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    _STRATEGIES[name] = strategy
    return strategy


def worker_role(strategy: Any = None) -> WorkerRole:
    """This process's :class:`WorkerRole` under ``strategy`` (one worker, the chief, unless multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "cluster_spec", None):
        return WorkerRole()
    spec = resolver.cluster_spec().as_dict()
    workers = spec.get("worker", [])
    if len(workers) <= 1:
        return WorkerRole()
    return WorkerRole(num_workers=len(workers), index=int(resolver.task_id or 0))


def shard_of(items: list, role: WorkerRole, *, pad: bool = True) -> list:
    """This worker's share of ``items``: every ``num_workers``-th item from ``index``, padded to equal length.

    In training all workers must take the same number of steps in an epoch, or the collective
    gradient sum waits for ever; a shorter share is padded by repeating its first items (at most one
    item per worker is seen twice an epoch). Nothing is dropped. An evaluation share (``pad=False``)
    is not padded: each worker evaluates its own videos, once each, with no collective per step
    (:func:`fit_across_workers` sums the figures once).

    Example: 5 items on 2 workers -> worker 0 gets items 0, 2, 4; worker 1 gets 1, 3, 1 (``pad=False``: 1, 3).

    Raises:
        SettingsError: fewer items than workers, so that some worker would get none.
    """
    if role.num_workers == 1:
        return list(items)
    share = list(items[role.index::role.num_workers])
    longest = -(-len(items) // role.num_workers)
    if not share:
        raise SettingsError(f"{len(items)} videos cannot be shared by {role.num_workers} workers: each worker "
                            "needs at least one; use fewer workers or more videos.")
    return share + share[: longest - len(share)] if pad else share


def synchronize_batch_norm(model: Any) -> int:
    """Make every batch normalisation layer of ``model`` (nested models included) use global batch statistics.

    Under a strategy with several replicas each replica sees a slice of the batch; Keras' default
    normalises each slice by its own mean and variance, which changes the arithmetic with the
    number of devices (and is noisy for the small per-device batches of video models).
    Synchronised, a mirrored step computes what one device computes on the whole batch. Read at call
    time, so it can be set after the model is built. Returns how many layers were changed.
    """
    import keras

    changed = 0
    # Every layer Keras tracks under the model, through nested models and wrappers (TimeDistributed ...).
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization) and not layer.synchronized:
            layer.synchronized = True
            changed += 1
    return changed


def strategy_scope(settings: Any) -> Any:
    """The scope to build and compile a model in for ``settings.strategy``; a no-op for ``default``.

    For a model a notebook builds and fits itself (``model.fit``), e.g.::

        with strategy_scope(settings):
            model = build_something(...)
            model.compile(...)
        model.fit(...)                  # on every replica: Keras keeps the strategy it was built under
    """
    import contextlib

    name = getattr(settings, "strategy", settings)
    return contextlib.nullcontext() if name == "default" else get_strategy(name).scope()


def strategy_name(strategy: Any) -> str:
    """The setting name of a strategy made by :func:`get_strategy` (else its class name)."""
    for name, made in _STRATEGIES.items():
        if made is strategy:
            return name
    return type(strategy).__name__


def created_in_scope(model: Any, strategy: Any) -> bool:
    """Whether every variable of ``model`` was created under ``strategy`` (so Keras can train it there)."""
    extended = strategy.extended
    return all(extended.variable_created_in_scope(getattr(v, "value", v)) for v in model.weights)


def model_in_scope(model: Any, strategy: Any) -> Any:
    """``model`` with its variables created in ``strategy.scope()``: itself if they are, else a copy.

    A model built outside the scope (a notebook's CNN + LSTM assembled by hand, chapter 06's inflated
    I3D) cannot train under a strategy: Keras refuses variables the strategy did not create. The copy
    is made through a ``.keras`` file in a temporary folder, read back in safe mode inside the scope:
    the same layers, configuration and weights (non-trainable state such as batch statistics and
    center-loss centers included), each variable now mirrored on every replica. Call it inside the
    scope. A model that computes in a mixed policy keeps it (each layer's policy is in its configuration).

    Raises:
        SettingsError: ``model`` is compiled already (its compiled state would not come with the copy).
    """
    import tempfile
    from pathlib import Path

    if strategy is None or created_in_scope(model, strategy):
        return model
    if getattr(model, "compiled", False):
        raise SettingsError(f"The model {model.name} was built and compiled outside the {strategy_name(strategy)} "
                            "strategy's scope, so it cannot train there; build and compile it inside "
                            "`with strategy_scope(settings):`, or leave it uncompiled for the kit to copy.")
    from hybridvid_lib.models.trained import load_keras_file

    with tempfile.TemporaryDirectory(prefix="hybridvid-scope-") as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        with strategy.scope():
            return load_keras_file(path, what="model built outside the strategy")


def is_multi_worker(strategy: Any) -> bool:
    """Whether ``strategy`` spans several worker processes."""
    return worker_role(strategy).num_workers > 1


def fit_across_workers(model: Any, dataset: Any, *, strategy: Any, epochs: int, initial_epoch: int = 0,
                       callbacks: list | None = None, verbose: int = 1, validation_data: Any = None) -> None:
    """``Model.fit``'s loop for a multi-worker strategy, where Keras 3's own fails (keras-team/keras#20585).

    Every step runs the compiled model's own ``train_step`` (its loss, optimizer, metrics and any
    custom step, such as center loss's) on each replica with ``strategy.run``; Keras scales each
    replica's loss by the number of replicas, so the summed gradients are those of the global
    batch. Callbacks get the same calls as in ``fit`` (``on_epoch_begin`` before the epoch's
    iterator is made, ``on_epoch_end`` with the epoch's metrics, read across workers), and
    ``model.stop_training`` ends the run.

    Validation (``validation_data``): after every epoch each worker evaluates its own share of the
    validation videos (a pipeline built with ``shard=`` and ``training=False``: not padded, so every
    video counts once) with no collective per step, so the shares may differ in length; one sum
    across workers then gives every worker the same ``val_loss`` (the compiled loss, mean over
    videos) and ``val_accuracy``, which callbacks see in the epoch's logs as under ``fit``.

    Args:
        model: a model built and compiled in ``strategy.scope()``.
        dataset: ``(inputs, labels)`` batches of *this worker's share* with auto-sharding off (a
            pipeline built with ``shard=``); its batch is the global batch, which ``tf.distribute``
            splits between the replicas.
        strategy: the multi-worker strategy.
        epochs, initial_epoch: as in ``fit``.
        callbacks: Keras callbacks; verbose: 0, 1 or 2 as in ``fit``.
        validation_data: ``(inputs, labels)`` batches of this worker's share of the validation videos.
    """
    import keras

    tf = import_tensorflow()
    distributed = strategy.experimental_distribute_dataset(dataset)

    @tf.function
    def step(batch):
        strategy.run(model.train_step, args=(batch,))

    callback_list = keras.callbacks.CallbackList(callbacks or [], add_history=True, add_progbar=verbose != 0,
                                                 model=model, verbose=verbose, epochs=epochs, steps=None)
    model.stop_training = False
    callback_list.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for index, batch in enumerate(distributed):  # the epoch's iterator, made after on_epoch_begin
            callback_list.on_train_batch_begin(index)
            step(batch)
            callback_list.on_train_batch_end(index, None)
        logs = {key: float(value) for key, value in model.get_metrics_result().items()}
        if validation_data is not None:
            logs.update(_validation_logs(model, validation_data, strategy))
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)


def _validation_logs(model: Any, dataset: Any, strategy: Any) -> dict[str, float]:
    """``val_loss`` and ``val_accuracy`` over every worker's share of the validation videos.

    Each worker sums, over its own batches, the compiled loss times the batch size, the videos
    predicted right and the videos seen (a forward pass on this worker alone: no collective, so
    shares of different lengths are fine); one all-reduce then adds the three sums of all workers.
    """
    import numpy as np

    tf = import_tensorflow()
    sums = np.zeros(3, np.float64)  # loss * videos, right, videos
    for features, labels in dataset:
        predicted = model(features, training=False)
        loss = model.compute_loss(x=features, y=labels, y_pred=predicted, training=False)
        probs = predicted["probs"] if isinstance(predicted, dict) else predicted
        labels = np.asarray(labels).reshape(-1)
        sums += (float(loss) * len(labels), float(np.sum(np.argmax(np.asarray(probs), -1) == labels)), len(labels))
    total = _sum_over_workers(sums.astype(np.float32), strategy, tf)
    return {"val_loss": float(total[0] / total[2]), "val_accuracy": float(total[1] / total[2])}


def _sum_over_workers(values: Any, strategy: Any, tf: Any) -> Any:
    """``values`` (one float32 vector per worker) summed over the workers, with one collective all-reduce."""
    import numpy as np

    # Every local replica of a worker contributes the worker's vector, so the all-reduce counts it once per
    # local replica: divide by their number.
    local = strategy.num_replicas_in_sync // worker_role(strategy).num_workers
    vector = tf.constant(values)
    summed = strategy.run(lambda v: tf.distribute.get_replica_context().all_reduce("SUM", v), args=(vector,))
    return np.asarray(strategy.experimental_local_results(summed)[0], np.float64) / max(1, local)
