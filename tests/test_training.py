"""train_model: a checkpoint every epoch, resume after an interruption, nothing more after completion; seeding."""

import json
import random

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.errors import ModelError  # noqa: E402
from hybridvid_lib.models import build_model  # noqa: E402
from hybridvid_lib.seeding import set_seed  # noqa: E402
from hybridvid_lib.training import (  # noqa: E402
    TrainingStateError,
    build_before_fit,
    checkpoint_path,
    load_run_state,
    predict_dataset,
    train_model,
)

SMOKE = resolve_settings("smoke")  # clips (B, 8, 32, 32, 3)
SMALL = {"filters": (4, 8), "feature_dim": 16, "lstm_units": 8}
NUM_CLIPS, BATCH, C = 8, 4, 3
STEPS = NUM_CLIPS // BATCH


def tiny_dataset():
    """8 random clips of 3 classes in 2 batches, the same every time."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (NUM_CLIPS, SMOKE.num_frames, SMOKE.frame_size, SMOKE.frame_size, 3))
    y = np.arange(NUM_CLIPS) % C
    features = {"rgb": x.astype("float32"), "index": np.arange(NUM_CLIPS, dtype="int32")}
    return tf.data.Dataset.from_tensor_slices((features, y.astype("int32"))).batch(BATCH)


def fresh_model(name="single_frame_cnn", seed=0):
    set_seed(seed)
    options = {k: v for k, v in SMALL.items() if name == "cnn_lstm" or k != "lstm_units"}
    return build_model(name, SMOKE, C, **options)


def train(model, run_dir, epochs, **kwargs):
    return train_model(model, tiny_dataset(), epochs=epochs, run_dir=run_dir, learning_rate=1e-2,
                       verbose=0, **kwargs)


class EpochLog(keras.callbacks.Callback):
    """Records the (0-based) epochs Keras runs; raises KeyboardInterrupt after ``stop_after`` if given."""

    def __init__(self, stop_after=None):
        super().__init__()
        self.epochs, self.stop_after = [], stop_after

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)
        if self.stop_after is not None and epoch + 1 >= self.stop_after:
            raise KeyboardInterrupt


def test_set_seed_repeats_python_numpy_and_keras_draws():
    draws = []
    for _ in range(2):
        assert set_seed(7) == 7
        draws.append((random.random(), np.random.rand(),
                      keras.ops.convert_to_numpy(keras.random.uniform((3,), seed=None))))
    assert draws[0][0] == draws[1][0] and draws[0][1] == draws[1][1]
    np.testing.assert_array_equal(draws[0][2], draws[1][2])
    for bad in (-1, 2**32, 1.5, True):
        with pytest.raises(ValueError, match="whole number"):
            set_seed(bad)


def test_same_seed_gives_the_same_weights_after_one_epoch(tmp_path):
    weights = []
    for run in ("a", "b"):
        model = fresh_model(seed=3)
        set_seed(3)
        train(model, tmp_path / run, 1)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    other = fresh_model(seed=4).get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(weights[0], other))


def test_the_training_step_is_traced_once_and_trains_as_keras_alone_would(tmp_path):
    # Keras alone creates the optimizer's and the metrics' variables inside the first trace, which makes
    # TensorFlow trace the step twice; built beforehand, it is traced once, and the training is the same.
    results = {}
    for how in ("keras alone", "built before fit"):
        model = fresh_model(seed=5)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        traces = []
        step = model.train_step
        model.train_step = lambda data: (traces.append(1), step(data))[1]  # runs only while tracing
        data = tiny_dataset().map(lambda x, y: ({"rgb": x["rgb"]}, y))
        if how == "built before fit":
            build_before_fit(model, data.element_spec)
            assert model.optimizer.built and len(model.optimizer.variables) > 1  # Adam's slots exist now
        set_seed(5)
        history = model.fit(data, epochs=2, verbose=0, shuffle=False).history
        results[how] = (len(traces), history, model.get_weights())
    # Twice with Keras 3.15 alone; once there would make the helper moot.
    assert results["built before fit"][0] == 1 and results["keras alone"][0] == 2
    np.testing.assert_allclose(results["built before fit"][1]["loss"], results["keras alone"][1]["loss"], rtol=1e-5)
    for a, b in zip(results["built before fit"][2], results["keras alone"][2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_every_epoch_leaves_a_checkpoint_state_and_history(tmp_path):
    history = train(fresh_model(), tmp_path, 2, seed=0, settings=SMOKE)
    assert set(history) == {"loss", "accuracy"} and len(history["loss"]) == 2
    assert all(np.isfinite(history["loss"]))
    state = load_run_state(tmp_path)
    assert state["epochs_done"] == 2 and state["model"] == "single_frame_cnn" and state["seed"] == 0
    assert state["settings"]["profile"] == "smoke" and len(state["epoch_seconds"]) == 2
    assert state["train_seconds"] == pytest.approx(sum(state["epoch_seconds"]), abs=1e-2)
    assert json.loads((tmp_path / "history.json").read_text()) == history
    # Only the checkpoint that state.json names is kept: the first epoch's was deleted after the second's.
    assert checkpoint_path(tmp_path) == tmp_path / "checkpoints" / "epoch-0002.keras"
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-0002.keras"]
    assert not [p for p in tmp_path.rglob("*") if ".partial" in p.name]


def test_a_second_call_continues_after_the_last_completed_epoch(tmp_path):
    # cnn_lstm here: the LSTM's weights and its slots in Adam must come back too.
    first = fresh_model("cnn_lstm")
    train(first, tmp_path, 1)
    log = EpochLog()
    second = fresh_model("cnn_lstm", seed=9)  # other initial weights: the checkpoint must replace them
    history = train(second, tmp_path, 2, callbacks=[log])
    assert log.epochs == [1]
    assert len(history["loss"]) == 2 and load_run_state(tmp_path)["epochs_done"] == 2
    # Adam's step count came back from the checkpoint: two epochs of STEPS steps in all.
    assert int(second.optimizer.iterations.numpy()) == 2 * STEPS


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train(fresh_model(), tmp_path, 3, callbacks=[EpochLog(stop_after=1)])
    assert load_run_state(tmp_path)["epochs_done"] == 1
    log = EpochLog()
    history = train(fresh_model(), tmp_path, 3, callbacks=[log])
    assert log.epochs == [1, 2]
    assert len(history["loss"]) == 3 and len(load_run_state(tmp_path)["epoch_seconds"]) == 3


def test_a_finished_run_trains_nothing_and_loads_the_final_weights(tmp_path):
    trained = fresh_model()
    stored = train(trained, tmp_path, 2)
    log = EpochLog()
    again = fresh_model(seed=5)
    written = (tmp_path / "model.keras").read_bytes()
    stat = (tmp_path / "model.keras").stat()
    assert train(again, tmp_path, 2, callbacks=[log]) == stored
    assert log.epochs == []
    # The finished model file is not rewritten: its bytes (and the fingerprint feature caches keep) stay the same.
    assert (tmp_path / "model.keras").read_bytes() == written
    assert (tmp_path / "model.keras").stat().st_ino == stat.st_ino  # not replaced by an identical copy either
    (tmp_path / "model.keras").unlink()  # lost after the last checkpoint: written again from it
    train(fresh_model(seed=7), tmp_path, 2)
    assert (tmp_path / "model.keras").is_file()
    x = {"rgb": next(iter(tiny_dataset()))[0]["rgb"]}
    np.testing.assert_allclose(again.predict_on_batch(x), trained.predict_on_batch(x), rtol=1e-5, atol=1e-6)


def test_a_run_folder_of_another_model_or_a_damaged_state_is_refused(tmp_path):
    train(fresh_model("cnn_lstm"), tmp_path / "run", 1)
    with pytest.raises(ModelError, match="another run folder"):
        train(fresh_model("single_frame_cnn"), tmp_path / "run", 2)
    set_seed(0)
    wider = build_model("cnn_lstm", SMOKE, C, filters=(4, 8), feature_dim=16, lstm_units=16)
    with pytest.raises(TrainingStateError, match="does not fit"):
        train(wider, tmp_path / "run", 2)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "state.json").write_text("{not json")
    with pytest.raises(TrainingStateError, match="not valid JSON"):
        train(fresh_model(), tmp_path / "bad", 1)
    with pytest.raises(ValueError, match="epochs must be"):
        train(fresh_model(), tmp_path / "other", -1)


def test_predict_dataset_returns_labels_and_probabilities_in_order(tmp_path):
    model = fresh_model("single_frame_cnn")
    y_true, y_prob = predict_dataset(model, tiny_dataset())
    assert y_true.tolist() == (np.arange(NUM_CLIPS) % C).tolist()
    assert y_prob.shape == (NUM_CLIPS, C)
    np.testing.assert_allclose(y_prob.sum(axis=1), 1.0, rtol=1e-5)


def test_a_resume_with_other_options_settings_or_seed_is_refused_but_more_epochs_are_fine(tmp_path):
    run = tmp_path / "run"
    train(fresh_model(), run, 1, options={"dropout": 0.1}, settings=SMOKE, seed=0)
    with pytest.raises(TrainingStateError, match=r"dropout 0\.1 there, 0\.3 here"):
        train(fresh_model(), run, 2, options={"dropout": 0.3}, settings=SMOKE, seed=0)
    with pytest.raises(TrainingStateError, match="frame_stride 2 there, 3 here"):
        train(fresh_model(), run, 2, options={"dropout": 0.1}, settings=SMOKE.replace(frame_stride=3), seed=0)
    with pytest.raises(TrainingStateError, match="seed 0 there, 1 here"):
        train(fresh_model(), run, 2, options={"dropout": 0.1}, settings=SMOKE, seed=1)
    # Options given as a tuple or a list are the same option; more epochs extend the run.
    train(fresh_model(), run, 2, options={"dropout": 0.1}, settings=SMOKE.replace(num_epochs=5), seed=0)
    assert load_run_state(run)["epochs_done"] == 2


def test_a_dict_output_model_trains_on_probs_and_keeps_every_output(tmp_path):
    from hybridvid_lib.models.trained import load_run_model

    set_seed(0)
    rgb = keras.Input((SMOKE.num_frames, SMOKE.frame_size, SMOKE.frame_size, 3), name="rgb")
    embedding = keras.layers.Dense(6, name="embedding")(keras.layers.GlobalAveragePooling3D()(rgb))
    probs = keras.layers.Dense(C, activation="softmax", name="probs")(embedding)
    model = keras.Model({"rgb": rgb}, {"probs": probs, "embedding": embedding}, name="with_embedding")
    before = model.get_layer("probs").get_weights()[0].copy()
    history = train(model, tmp_path / "run", 2)
    assert len(history["loss"]) == 2 and "accuracy" in history
    assert np.abs(model.get_layer("probs").get_weights()[0] - before).max() > 0  # trained through the view
    reloaded = load_run_model(tmp_path / "run", expect="with_embedding")
    outputs = reloaded.predict_on_batch({"rgb": np.zeros((2, *rgb.shape[1:]), "float32")})
    assert set(outputs) == {"probs", "embedding"} and outputs["embedding"].shape == (2, 6)
    y_true, y_prob = predict_dataset(model, tiny_dataset())
    assert y_prob.shape == (NUM_CLIPS, C)


def test_a_given_loss_is_used_and_a_non_finite_loss_stops_training(tmp_path):
    calls = []

    def nan_loss(y_true, y_pred):
        calls.append(1)
        return keras.ops.mean(y_pred) * float("nan")

    history = train(fresh_model(), tmp_path / "run", 3, loss=nan_loss)
    assert calls, "the given loss was not used"
    assert len(history["loss"]) == 1 and not np.isfinite(history["loss"][0])  # stopped in the first epoch
    assert load_run_state(tmp_path / "run") is None  # the diverged epoch left no checkpoint to resume from


def test_the_model_gets_only_the_inputs_it_names(tmp_path):
    from hybridvid_lib.training import model_inputs

    model = fresh_model()
    batch = {"rgb": np.zeros((1, 8, 32, 32, 3), "float32"), "flow": np.zeros(1), "index": np.zeros(1)}
    assert set(model_inputs(batch, model)) == {"rgb"}
    with pytest.raises(ModelError, match=r"takes rgb; the pipeline gives flow: build it with inputs=\('rgb',\)"):
        model_inputs({"flow": np.zeros(1), "index": np.zeros(1)}, model)


def test_the_cosine_schedule_falls_from_the_rate_towards_zero_and_constant_stays():
    from hybridvid_lib.schedules import epoch_learning_rate

    rates = [epoch_learning_rate(1e-3, e, 30, "cosine") for e in range(30)]
    assert rates[0] == pytest.approx(1e-3) and rates[15] == pytest.approx(5e-4)
    assert all(a > b for a, b in zip(rates, rates[1:])) and 0 < rates[-1] < 1e-5
    assert {epoch_learning_rate(1e-3, e, 30, "constant") for e in range(30)} == {1e-3}
    assert epoch_learning_rate(1e-3, 0, 1, "cosine") == 1e-3  # one epoch (smoke): the rate itself
    with pytest.raises(ValueError, match="expected one of: constant, cosine"):
        epoch_learning_rate(1e-3, 0, 30, "linear")


def test_a_resumed_cosine_run_trains_each_epoch_at_the_rate_of_an_uninterrupted_one(tmp_path):
    settings = SMOKE.replace(lr_schedule="cosine")
    whole = fresh_model("cnn_lstm")
    set_seed(0)
    straight = train(whole, tmp_path / "whole", 4, settings=settings, seed=0)
    assert straight["learning_rate"] == pytest.approx([1e-2 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(4)])
    set_seed(0)
    with pytest.raises(KeyboardInterrupt):
        train(fresh_model("cnn_lstm"), tmp_path / "cut", 4, settings=settings, seed=0,
              callbacks=[EpochLog(stop_after=2)])
    resumed_model = fresh_model("cnn_lstm", seed=5)
    resumed = train(resumed_model, tmp_path / "cut", 4, settings=settings, seed=0)
    assert resumed["learning_rate"] == pytest.approx(straight["learning_rate"])
    assert resumed["loss"] == pytest.approx(straight["loss"], rel=1e-4)
    for a, b in zip(whole.get_weights(), resumed_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # The constant schedule leaves the optimizer's rate alone and logs nothing more.
    constant = train(fresh_model(), tmp_path / "constant", 2, settings=SMOKE.replace(lr_schedule="constant"))
    assert "learning_rate" not in constant
