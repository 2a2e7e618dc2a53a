"""``hybridvid train`` on the tiny StickActions set: metrics.json, resume, skipped videos, errors."""

import json
import math
import shutil

import pytest

from hybridvid_lib.cli import main
from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.pipeline import SkippedVideosWarning
from hybridvid_lib.evaluation import load_metrics
from hybridvid_lib.training import checkpoint_path, load_run_state


def train_args(root, out, model="cnn_lstm", *extra):
    return ["train", "--model", model, "--format", "stickactions", "--root", str(root),
            "--profile", "smoke", "--out", str(out), *extra]


def test_train_writes_metrics_and_a_second_call_resumes_without_new_epochs(stickactions_smoke, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(train_args(stickactions_smoke, run)) == 0
    document = load_metrics(run / "metrics.json")  # validates the schema
    assert document["profile"] == "smoke" and document["seed"] == 0
    (result,) = document["results"]
    assert result["model"] == "cnn_lstm" and result["dataset"] == "stickactions" and result["split"] == 1
    assert 0.0 <= result["test_accuracy"] <= 1.0 and 0.0 <= result["macro_f1"] <= 1.0
    assert math.isfinite(result["final_train_loss"]) and result["params"] > 0
    assert result["epochs"] == 1 and result["train_seconds"] > 0 and result["skipped"] == []
    assert json.loads((run / "skipped.json").read_text()) == {"train": [], "test": []}
    assert result["num_val_videos"] == 0 and result["options"] == {}
    state = load_run_state(run)
    assert state["epochs_done"] == 1 and state["settings"]["profile"] == "smoke"
    assert "loss:" in capsys.readouterr().out  # Keras' line for the epoch it trained

    assert main(train_args(stickactions_smoke, run)) == 0
    assert "loss:" not in capsys.readouterr().out  # no epoch left to train
    again = load_metrics(run / "metrics.json")["results"][0]
    assert load_run_state(run)["epoch_seconds"] == state["epoch_seconds"]
    assert again["train_seconds"] == result["train_seconds"]
    assert again["test_accuracy"] == pytest.approx(result["test_accuracy"])


def test_options_reach_the_builder_and_another_option_in_the_same_folder_is_refused(stickactions_smoke, tmp_path,
                                                                                      capsys):
    run = tmp_path / "run"
    small = ["--option", "filters=[4, 8]", "--option", "feature_dim=16"]
    assert main(train_args(stickactions_smoke, run, "cnn_lstm", *small, "--option", "lstm_units=8", "--val")) == 0
    (result,) = load_metrics(run / "metrics.json")["results"]
    assert result["options"] == {"filters": [4, 8], "feature_dim": 16, "lstm_units": 8}
    assert result["num_val_videos"] > 0
    listed = len(load_dataset("stickactions", stickactions_smoke).train)
    assert result["num_train_videos"] + result["num_val_videos"] == listed  # whole training list, split in two
    history = json.loads((run / "history.json").read_text())
    assert len(history["val_accuracy"]) == 1  # evaluated on the validation groups after the epoch
    capsys.readouterr()

    assert main(train_args(stickactions_smoke, run, "cnn_lstm", *small, "--option", "lstm_units=16", "--val")) == 2
    err = capsys.readouterr().err
    assert "lstm_units 8 there, 16 here" in err and "another run folder" in err and "Traceback" not in err
    assert main(train_args(stickactions_smoke, tmp_path / "x", "cnn_lstm", "--option", "lstm_unit=8")) == 2
    assert "no option 'lstm_unit'" in capsys.readouterr().err
    assert main(["train", "--model", "cnn_lstm", "--list-options"]) == 0
    assert "--option lstm_units=128" in capsys.readouterr().out


def test_unknown_model_exits_2_with_the_known_names_before_reading_data(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(train_args(tmp_path / "no-such-dataset", run, "cnn_lsmt")) == 2
    err = capsys.readouterr().err
    assert "cnn_lsmt" in err and "cnn_lstm" in err and "single_frame_cnn" in err
    assert "Traceback" not in err and not run.exists()


def test_a_broken_video_is_skipped_and_recorded_or_refused_with_strict(stickactions_smoke, tmp_path, capsys):
    root = tmp_path / "stickactions"
    shutil.copytree(stickactions_smoke, root)
    relpath = (root / "splits" / "trainlist01.txt").read_text().split()[0]
    (root / "videos" / relpath).write_text("this is not a video")

    assert main(train_args(root, tmp_path / "strict", "single_frame_cnn", "--strict")) == 2
    assert "strict" in capsys.readouterr().err

    run = tmp_path / "run"
    with pytest.warns(SkippedVideosWarning, match="Skipping 1 of"):
        assert main(train_args(root, run, "single_frame_cnn")) == 0
    recorded = json.loads((run / "skipped.json").read_text())
    assert recorded == {"train": [{"video": relpath, "reason": "unreadable"}], "test": []}
    (result,) = load_metrics(run / "metrics.json")["results"]
    assert result["skipped"] == [{"video": relpath, "reason": "unreadable", "subset": "train"}]


@pytest.fixture
def joints_probe():
    """A tiny skeleton model, registered for one test only: joints (B, T, 25, 3, 2) -> Flatten -> Dense."""
    from hybridvid_lib.models import register_model
    from hybridvid_lib.models import registry

    name = "test_only_joints_probe"

    def build_joints_probe(settings, num_classes, *, units: int = 8):
        import keras

        joints = keras.Input((settings.num_frames, 25, 3, 2), name="joints")
        hidden = keras.layers.Dense(units, activation="relu")(keras.layers.Flatten()(joints))
        probs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")(hidden)
        return keras.Model({"joints": joints}, probs, name=name)

    register_model(name, family="test", description="a skeleton-only stand-in", inputs=("joints",))(
        build_joints_probe)
    yield name
    registry._REGISTRY.pop(name, None)


def test_train_on_ntu_skeletons_end_to_end(joints_probe, tmp_path, capsys):
    # records (skeleton files only) -> pipeline (joints) -> training -> metrics.json, broken files skipped
    from tests.support.mock_data import write_mock_ntu

    ntu = write_mock_ntu(tmp_path / "ntu")
    run = tmp_path / "run"
    args = ["train", "--model", joints_probe, "--format", "ntu", "--root", str(ntu["root"]), "--protocol", "xsub",
            "--profile", "smoke", "--out", str(run)]
    with pytest.warns(SkippedVideosWarning):
        assert main(args) == 0
    (result,) = load_metrics(run / "metrics.json")["results"]
    assert result["model"] == joints_probe and result["dataset"] == "ntu" and result["split"] == 1
    assert (result["num_train_videos"], result["num_test_videos"]) == (4, 2)  # xsub 5 / 4, less the broken ones
    assert 0.0 <= result["test_accuracy"] <= 1.0 and math.isfinite(result["final_train_loss"])
    assert json.loads((run / "skipped.json").read_text()) == {
        "train": [{"video": "S001C003P005R001A001.skeleton", "reason": "unreadable"}],
        "test": [{"video": "S002C002P006R001A002.skeleton", "reason": "unreadable"},
                 {"video": "S003C001P007R001A003.skeleton", "reason": "unreadable"}],
    }
    assert (ntu["root"] / "ntu_arrays").is_dir()  # the text files were converted once into the array cache
    capsys.readouterr()
    assert main([*args[:-2], "--out", str(tmp_path / "x"), "--split", "2"]) == 2
    assert "no numbered splits" in capsys.readouterr().err


def test_stgcn_trains_on_ntu_skeletons_with_no_option(tmp_path, capsys):
    # The command as written: the NTU graph, 3 channels and 2 persons come from the dataset.
    from tests.support.mock_data import write_mock_ntu

    ntu = write_mock_ntu(tmp_path / "ntu")
    run = tmp_path / "run"
    with pytest.warns(SkippedVideosWarning):
        assert main(["train", "--model", "stgcn", "--format", "ntu", "--root", str(ntu["root"]), "--protocol", "xsub",
                     "--profile", "smoke", "--out", str(run)]) == 0
    (result,) = load_metrics(run / "metrics.json")["results"]
    assert result["model"] == "stgcn" and result["num_test_videos"] == 2
    assert result["options"] == {"graph": "ntu_rgbd", "channels": 3, "persons": 2}
    assert math.isfinite(result["final_train_loss"])
    capsys.readouterr()


def test_the_i3d_recipe_is_the_published_one_and_a_recipe_sets_the_clip_and_the_optimizer(
        stickactions_smoke, tmp_path, capsys, monkeypatch):
    import keras

    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.models import recipes

    published = recipes.get_recipe("i3d_finetune")
    gpu = published.apply(resolve_settings("gpu"))
    assert (gpu.num_frames, gpu.frame_size, gpu.short_side) == (64, 224, 256)
    assert published.optimizer == "sgd" and published.momentum == 0.9
    with pytest.raises(Exception, match="Unknown recipe 'nope'; expected one of: i3d_finetune"):
        recipes.get_recipe("nope")

    # The same mechanics on a clip a CPU test can afford: 24 frames (the smoke videos have 16: looped).
    small = recipes.Recipe("tiny", "a small test recipe", {"num_frames": 24, "frame_size": 32}, "sgd", 0.05, 0.9,
                           ("i3d_rgb",))
    monkeypatch.setitem(recipes.RECIPES, "tiny", small)
    run = tmp_path / "run"
    assert main(train_args(stickactions_smoke, run, "i3d_rgb", "--recipe", "tiny")) == 0
    assert "recipe tiny: a small test recipe" in capsys.readouterr().out
    state = load_run_state(run)
    assert state["settings"]["num_frames"] == 24 and state["settings"]["learning_rate"] == 0.05
    assert load_metrics(run / "metrics.json")["results"][0]["recipe"] == "tiny"
    optimizer = keras.saving.load_model(checkpoint_path(run)).optimizer
    assert optimizer.__class__.__name__ == "SGD" and float(optimizer.momentum) == pytest.approx(0.9)


def test_lr_schedule_cosine_lowers_the_rate_each_epoch_and_a_constant_run_cannot_resume_it(stickactions_smoke,
                                                                                              tmp_path, capsys):
    run = tmp_path / "run"
    small = ["--option", "filters=[4, 8]", "--option", "feature_dim=16", "--option", "lstm_units=8"]
    assert main(train_args(stickactions_smoke, run, "cnn_lstm", *small, "--epochs", "2",
                           "--lr-schedule", "cosine")) == 0
    history = json.loads((run / "history.json").read_text())
    assert history["learning_rate"] == pytest.approx([1e-3, 5e-4])  # half a cosine over 2 epochs
    assert load_run_state(run)["settings"]["lr_schedule"] == "cosine"
    capsys.readouterr()
    assert main(train_args(stickactions_smoke, run, "cnn_lstm", *small, "--epochs", "3")) == 2
    assert "lr_schedule 'cosine' there, 'constant' here" in capsys.readouterr().err
