"""Several devices: the mirrored strategy on two logical CPU devices, two worker processes on loopback, shards."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hybridvid_lib.errors import SettingsError
from hybridvid_lib.scale.distribution import WorkerRole, get_strategy, read_tf_config, shard_of

ROOT = Path(__file__).resolve().parents[2]


def test_each_worker_gets_every_nth_item_padded_to_equal_length_and_nothing_is_dropped():
    items = list(range(5))
    shares = [shard_of(items, WorkerRole(2, i)) for i in range(2)]
    assert shares == [[0, 2, 4], [1, 3, 1]]
    assert set(shares[0]) | set(shares[1]) == set(items)  # every item trained
    for n in range(1, 12):
        shares = [shard_of(list(range(n + 3)), WorkerRole(3, i)) for i in range(3)]
        assert len({len(s) for s in shares}) == 1  # the same number of steps on every worker
        assert set().union(*map(set, shares)) == set(range(n + 3))
    assert shard_of(items, WorkerRole()) == items
    # Evaluation shares are not padded: each video is evaluated once, by one worker.
    shares = [shard_of(items, WorkerRole(2, i), pad=False) for i in range(2)]
    assert shares == [[0, 2, 4], [1, 3]]
    with pytest.raises(SettingsError, match="2 videos cannot be shared by 3 workers"):
        shard_of([0, 1], WorkerRole(3, 2))


def test_the_validation_figures_of_a_worker_share_are_those_keras_evaluate_gives():
    # One worker (the default strategy): the sums over the share, "summed over workers", must give
    # Keras' own evaluate figures, batch sizes differing included.
    import keras

    from hybridvid_lib.scale.distribution import _validation_logs
    from hybridvid_lib.tf_setup import import_tensorflow

    tf = import_tensorflow()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(23, 5)).astype("float32")
    y = rng.integers(0, 3, size=23)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)  # 8, 8, 7
    loss, accuracy = model.evaluate(dataset, verbose=0)
    logs = _validation_logs(model, dataset, tf.distribute.get_strategy())
    assert logs["val_loss"] == pytest.approx(loss, rel=1e-5)
    assert logs["val_accuracy"] == pytest.approx(accuracy, abs=1e-7)


def test_tf_config_is_checked_and_an_unknown_strategy_refused():
    good = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 1}}
    assert read_tf_config({"TF_CONFIG": json.dumps(good)})["task"]["index"] == 1
    with pytest.raises(SettingsError, match="needs the TF_CONFIG"):
        read_tf_config({})
    with pytest.raises(SettingsError, match="must be JSON like"):
        read_tf_config({"TF_CONFIG": "{worker"})
    with pytest.raises(SettingsError, match="not one of its 2 workers"):
        read_tf_config({"TF_CONFIG": json.dumps({**good, "task": {"index": 2}})})
    with pytest.raises(SettingsError, match="must be one of"):
        get_strategy("horovod")


def test_a_shard_reads_only_its_share_of_the_training_videos(stickactions_smoke):
    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.data.datasets import load_dataset
    from hybridvid_lib.data.pipeline import build_pipeline

    ds = load_dataset("stickactions", stickactions_smoke)
    settings = resolve_settings("smoke")
    whole = build_pipeline(ds, "train", settings, training=True)
    shares = [build_pipeline(ds, "train", settings, training=True, shard=(2, i)) for i in range(2)]
    names = [[r.relpath for r in share.records] for share in shares]
    assert len(names[0]) == len(names[1]) == -(-len(whole.records) // 2)
    assert set(names[0]).isdisjoint(names[1][: len(whole.records) // 2])
    assert set(names[0]) | set(names[1]) == {r.relpath for r in whole.records}
    seen = {int(i) for features, _ in shares[1].dataset for i in features["index"].numpy()}
    assert seen == set(range(len(names[1])))  # the dataset itself holds this share only


def train(data: Path, out: Path, *extra: str, env: dict | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "hybridvid_lib.cli", "train", "--model", "cnn_lstm", "--format", "stickactions",
         "--root", str(data), "--profile", "smoke", "--epochs", "2", "--seed", "1", "--out", str(out),
         "--option", "filters=[4,8]", "--option", "feature_dim=16", "--option", "lstm_units=8",
         "--option", "dropout=0", *extra],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, capture_output=True, text=True,
        timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((out / "state.json").read_text())


def test_mirrored_on_two_logical_cpu_devices_trains_what_one_device_trains(stickactions_smoke, tmp_path):
    # Same global batch split over two replicas, gradients summed, batch normalisation synchronised:
    # the same losses epoch by epoch, to float tolerance. (No dropout: each replica draws its own masks.)
    one = train(stickactions_smoke, tmp_path / "one", "--xla", "off")
    two = train(stickactions_smoke, tmp_path / "two", "--strategy", "mirrored",
                env={"HYBRIDVID_CPU_DEVICES": "2"})
    assert one["settings"]["jit_compile"] == "off" and two["settings"]["strategy"] == "mirrored"
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(two["history"][key], one["history"][key], rtol=1e-4, atol=1e-5)
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())["results"][0]
    assert metrics["num_test_videos"] > 0  # evaluated on one device after training on two


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_worker_processes_on_loopback_train_and_validate_in_step_each_on_its_share_and_only_the_chief_writes(
        stickactions_smoke, tmp_path):
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "hybridvid_lib.cli", "train", "--model", "cnn_lstm", "--format", "stickactions",
             "--root", str(stickactions_smoke), "--profile", "smoke", "--epochs", "2", "--seed", "1",
             "--out", str(tmp_path / f"worker{index}"), "--strategy", "multiworker", "--val", "0.3",
             "--option", "filters=[4,8]", "--option", "feature_dim=16", "--option", "lstm_units=8"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CONFIG": json.dumps(config)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=600)
            assert process.returncode == 0, err[-3000:]
            outputs.append(out)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    from hybridvid_lib.data.datasets import load_dataset

    ds = load_dataset("stickactions", stickactions_smoke).with_validation(0.3, seed=1)  # as --val 0.3 --seed 1
    share = -(-len(ds.train) // 2)
    for index, out in enumerate(outputs):  # each worker decoded its half of the training videos, no more
        assert f"worker {index} of 2: {share} training videos" in out
    # Synchronous training: the epoch losses each worker printed (read across workers) are the same.
    # Each worker evaluated its own share of the validation videos; the sums of both reach both workers.
    logs = [[line.split("loss: ", 1)[1] for line in out.splitlines() if "val_loss: " in line] for out in outputs]
    assert len(logs[0]) == 2 and logs[0] == logs[1]
    chief = tmp_path / "worker0"
    assert {p.name for p in chief.iterdir()} >= {"state.json", "model.keras", "metrics.json", "checkpoints"}
    assert not (tmp_path / "worker1").exists()  # the other worker wrote nothing
    state = json.loads((chief / "state.json").read_text())
    assert state["epochs_done"] == 2 and state["settings"]["strategy"] == "multiworker"
    assert len(state["history"]["val_loss"]) == 2 and all(0 <= a <= 1 for a in state["history"]["val_accuracy"])
    assert json.loads((chief / "metrics.json").read_text())["results"][0]["num_test_videos"] > 0


def hand_built(data: Path, out: Path, strategy: str, env: dict | None = None) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.support.hand_built_train", str(data), str(out), strategy],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_model_built_by_hand_outside_the_scope_trains_mirrored_as_on_one_device(stickactions_smoke, tmp_path):
    # A notebook builds some models itself (chapter 01's CNN + LSTM, chapter 06's inflated I3D), outside any
    # strategy scope; with STRATEGY="mirrored" Keras refused their variables. They now train as a copy made in
    # the scope, from the same initial weights: the losses of one device.
    one = hand_built(stickactions_smoke, tmp_path / "one", "default")
    two = hand_built(stickactions_smoke, tmp_path / "two", "mirrored", env={"HYBRIDVID_CPU_DEVICES": "2"})
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(two["history"][key], one["history"][key], rtol=1e-4, atol=1e-5)
    assert two["num_test_videos"] == one["num_test_videos"] > 0


def test_the_copy_in_scope_has_the_same_weights_and_a_compiled_model_is_refused_with_a_sentence():
    import keras

    from hybridvid_lib.scale.distribution import created_in_scope, model_in_scope, strategy_scope

    strategy = get_strategy("mirrored")
    inputs = keras.Input((6,), name="x")
    hidden = keras.layers.BatchNormalization(name="norm")(keras.layers.Dense(4, name="dense")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probs")(hidden))
    model.get_layer("norm").moving_mean.assign(np.arange(4, dtype="float32"))  # state, not only weights
    assert not created_in_scope(model, strategy)
    with strategy.scope():
        copy = model_in_scope(model, strategy)
    assert copy is not model and created_in_scope(copy, strategy)
    for mine, theirs in zip(model.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert model_in_scope(copy, strategy) is copy  # already there: itself

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(SettingsError, match="compiled outside the mirrored strategy's scope.*strategy_scope"):
        model_in_scope(model, strategy)
    with strategy_scope(SimpleNamespace(strategy="mirrored")):  # what a notebook's own fit uses
        built = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert created_in_scope(built, strategy)
