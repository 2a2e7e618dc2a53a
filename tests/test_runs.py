"""train_and_evaluate: one call trains (with the validation split), evaluates and describes a run."""

import numpy as np
import pytest

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.evaluation import validate_metrics, metrics_document
from hybridvid_lib.models import build_model
from hybridvid_lib.runs import TrainingDivergedError, train_and_evaluate

SMOKE = resolve_settings("smoke")
SMALL = {"filters": [4, 8], "feature_dim": 16, "lstm_units": 8}


def test_a_run_trains_on_train_measures_val_and_reports_the_test_split(stickactions_smoke, tmp_path):
    ds = load_dataset("stickactions", stickactions_smoke).with_validation(0.25, seed=0)
    run = train_and_evaluate("cnn_lstm", ds, SMOKE, seed=0, run_dir=tmp_path / "run", options=SMALL, verbose=0,
                             dataset_name="stickactions-smoke", clips_per_video=2, note="extra field")
    entry = run.entry
    assert entry["model"] == "cnn_lstm" and entry["dataset"] == "stickactions-smoke" and entry["note"] == "extra field"
    assert (entry["num_train_videos"], entry["num_val_videos"], entry["num_test_videos"]) == (
        len(ds.train), len(ds.val), len(ds.test))
    assert entry["options"] == SMALL and entry["clips_per_video"] == 2 and entry["epochs"] == 1
    assert set(run.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    # One row per test video although every video gave two clips.
    assert run.y_prob.shape == (len(ds.test), ds.num_classes) and len(run.y_true) == len(ds.test)
    assert entry["test_accuracy"] == pytest.approx(float(np.mean(run.y_prob.argmax(1) == run.y_true)))
    assert (tmp_path / "run" / "model.keras").is_file()
    validate_metrics(metrics_document("t", "smoke", 0, [entry]))


def test_a_hand_built_model_is_trained_and_reported_under_its_name(stickactions_smoke, tmp_path):
    ds = load_dataset("stickactions", stickactions_smoke)
    model = build_model("single_frame_cnn", SMOKE, ds.num_classes, filters=(4, 8), feature_dim=16)
    run = train_and_evaluate("single_frame_cnn", ds, SMOKE, seed=1, run_dir=tmp_path / "run", model=model,
                             verbose=0)
    assert run.model is model and run.entry["num_val_videos"] == 0 and "val_loss" not in run.history
    assert run.entry["params"] == model.count_params()


def test_a_diverged_run_is_an_error_not_a_result(stickactions_smoke, tmp_path):
    import keras

    ds = load_dataset("stickactions", stickactions_smoke)

    def nan_loss(y_true, y_pred):
        return keras.ops.mean(y_pred) * float("nan")

    with pytest.raises(TrainingDivergedError, match="diverged: the loss became nan in epoch 1"):
        train_and_evaluate("single_frame_cnn", ds, SMOKE, seed=0, run_dir=tmp_path / "run", verbose=0,
                           options={"filters": (4, 8), "feature_dim": 16}, fit_options={"loss": nan_loss})


def test_a_flow_model_gets_its_flow_cache_and_stack_length_from_its_inputs(stickactions_smoke, tmp_path):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(stickactions_smoke, root)
    ds = load_dataset("stickactions", root)
    run = train_and_evaluate("two_stream_flow", ds, SMOKE, seed=0, run_dir=tmp_path / "run", verbose=0,
                             options={"flow_stack": 3, "filters": (4, 8), "feature_dim": 16})
    features, _ = next(iter(run.pipelines["train"].dataset))
    assert set(features) == {"flow", "index"} and tuple(features["flow"].shape[1:]) == (32, 32, 6)
    assert len(list((root / "flow").rglob("*.flow.npy"))) == len(ds.train) + len(ds.test)  # cached once
    assert run.entry["num_test_videos"] == len(ds.test)


def test_a_skeleton_model_is_built_for_the_datasets_joints(stickactions_smoke, stickactions_two_persons, tmp_path):
    from hybridvid_lib.runs import dataset_options
    from tests.support.mock_data import write_mock_ntu

    one = load_dataset("stickactions", stickactions_smoke)
    two = load_dataset("stickactions", stickactions_two_persons)
    ntu = load_dataset("ntu", write_mock_ntu(tmp_path / "ntu")["root"], protocol="xsub")
    assert dataset_options("stgcn", one) == {"graph": "stick_figure", "channels": 3, "persons": None}
    assert dataset_options("stgcn", two) == {"graph": "stick_figure", "channels": 3, "persons": 2}
    assert dataset_options("stgcn", ntu) == {"graph": "ntu_rgbd", "channels": 3, "persons": 2}
    assert dataset_options("cnn_lstm", two) == {}  # no joints input, nothing to decide

    # Trained on two-person clips with no option given; an option the caller gives wins.
    run = train_and_evaluate("stgcn", two.with_validation(0.25, seed=0), SMOKE, seed=0, run_dir=tmp_path / "run",
                             options={"channels": 3}, verbose=0)
    assert run.model.input["joints"].shape[1:] == (SMOKE.num_frames, 18, 3, 2)
    assert run.entry["options"]["persons"] == 2 and run.y_prob.shape == (len(two.test), two.num_classes)
