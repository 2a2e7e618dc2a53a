"""hybridvid features extract: per-video feature sequences of a model's 'features' output, cached, resumable."""

import json

import numpy as np
import pytest

from hybridvid_lib.cli import main
from hybridvid_lib.config import resolve_settings
from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.feature_cache import FeatureCache
from hybridvid_lib.data.pipeline import build_pipeline
from hybridvid_lib.models import build_model
from hybridvid_lib.models.i3d import output_steps

SMOKE = resolve_settings("smoke")


def extract(capsys, root, out, *extra):
    code = main(["features", "extract", "--format", "stickactions", "--root", str(root), "--profile", "smoke",
                 "--out", str(out), "--json", *extra])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err)


def test_i3d_features_of_every_video_are_the_models_features_output(stickactions_smoke, tmp_path, capsys):
    import keras

    ds = load_dataset("stickactions", stickactions_smoke)
    keras.utils.set_random_seed(5)
    model = build_model("i3d_rgb", SMOKE, ds.num_classes)
    weights = tmp_path / "i3d_rgb.keras"
    model.save(weights)

    code, summary = extract(capsys, stickactions_smoke, tmp_path / "features", "--model", "i3d_rgb",
                            "--weights", str(weights), "--frames", str(SMOKE.num_frames))
    assert code == 0, summary
    total = len(ds.train) + len(ds.test)
    assert summary["computed"] == total and summary["cached"] == 0 and summary["skipped"] == []
    assert summary["dim"] == model.output["features"].shape[-1] and summary["weights"].startswith("i3d_rgb.keras:")

    cache = FeatureCache(tmp_path / "features", "i3d_rgb", summary["dim"])
    test = build_pipeline(ds, "test", SMOKE, inputs=("rgb",), training=False)
    features, _ = next(iter(test.dataset))
    expected = model.predict_on_batch({"rgb": features["rgb"]})["features"]
    for i, row in zip(np.asarray(features["index"]), expected):
        stored = np.load(cache.path_for(test.records[int(i)]))
        assert stored.shape == (output_steps(SMOKE.num_frames), summary["dim"])
        np.testing.assert_allclose(stored, row, rtol=1e-4, atol=1e-5)

    # A second run computes nothing; other weights in the same folder are refused, not mixed in.
    code, again = extract(capsys, stickactions_smoke, tmp_path / "features", "--model", "i3d_rgb",
                          "--weights", str(weights), "--frames", str(SMOKE.num_frames))
    assert code == 0 and again["computed"] == 0 and again["cached"] == total
    code, err = extract(capsys, stickactions_smoke, tmp_path / "features", "--model", "i3d_rgb",
                        "--frames", str(SMOKE.num_frames))
    assert code == 2 and "other settings (weights differ" in err


def test_a_model_without_features_or_weights_of_another_model_are_refused(stickactions_smoke, tmp_path, capsys):
    code, err = extract(capsys, stickactions_smoke, tmp_path / "f", "--model", "cnn_lstm")
    assert code == 2 and "has no 'features' output" in err and "i3d_rgb" in err
    code, err = extract(capsys, stickactions_smoke, tmp_path / "f", "--model", "i3d_rgb", "--weights",
                        str(tmp_path / "none.keras"))
    assert code == 2 and "No weights file" in err
    flow = build_model("i3d_flow", SMOKE, 3)
    flow.save(tmp_path / "flow.keras")
    code, err = extract(capsys, stickactions_smoke, tmp_path / "f", "--model", "i3d_rgb", "--weights",
                        str(tmp_path / "flow.keras"))
    assert code == 2 and "inputs ['flow']" in err


def test_flow_features_read_the_datasets_flow_cache(stickactions_smoke, tmp_path, capsys):
    code, summary = extract(capsys, stickactions_smoke, tmp_path / "features", "--model", "i3d_flow")
    assert code == 0, summary
    assert summary["computed"] > 0 and summary["weights"] == "untrained (seed 0)"


def test_a_stream_trained_on_short_clips_reads_longer_ones_with_the_same_weights(tmp_path):
    from hybridvid_lib.models.i3d import with_clip_length

    short = build_model("i3d_rgb", SMOKE, 4)
    longer = with_clip_length(short, 24)
    assert longer.inputs[0].shape[1] == 24 and longer.output["features"].shape[1] == output_steps(24)
    for a, b in zip(short.get_weights(), longer.get_weights()):
        np.testing.assert_array_equal(a, b)
    # On a short clip both give the same features: only the input's length changed, not what it computes.
    clip = np.random.default_rng(0).uniform(-1, 1, (1, SMOKE.num_frames, SMOKE.frame_size, SMOKE.frame_size, 3))
    any_length = with_clip_length(short, None)
    np.testing.assert_allclose(any_length.predict_on_batch({"rgb": clip})["features"],
                               short.predict_on_batch({"rgb": clip})["features"], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="is not an I3D stream"):
        with_clip_length(build_model("cnn_lstm", SMOKE, 4), 24)


def test_two_stream_features_put_rgb_then_flow_side_by_side_for_every_video(stickactions_smoke, tmp_path):
    from hybridvid_lib.models.extractors import feature_settings, two_stream_features

    ds = load_dataset("stickactions", stickactions_smoke)
    rgb = build_model("i3d_rgb", SMOKE, ds.num_classes)
    rgb.save(tmp_path / "rgb.keras")
    stack, summaries = two_stream_features(ds, SMOKE, tmp_path / "features", {"i3d_rgb": tmp_path / "rgb.keras"},
                                           frames=12)
    assert summaries["i3d_flow"]["weights"] == "untrained (seed 0)"
    assert stack.dims == (summaries["i3d_rgb"]["dim"], summaries["i3d_flow"]["dim"])
    record = ds.test[0]
    both = stack.load(record)
    assert both.shape == (output_steps(12), sum(stack.dims))
    np.testing.assert_array_equal(both[:, :stack.dims[0]], stack.caches[0].load(record))
    assert feature_settings(SMOKE, 12).num_frames == 12 and feature_settings(SMOKE).num_frames == 16
    again, summaries = two_stream_features(ds, SMOKE, tmp_path / "features", {"i3d_rgb": tmp_path / "rgb.keras"},
                                           frames=12)
    assert all(s["computed"] == 0 for s in summaries.values())


def test_a_head_trains_from_the_command_line_on_the_extracted_features(stickactions_smoke, tmp_path, capsys):
    for stream in ("i3d_rgb", "i3d_flow"):
        code, summary = extract(capsys, stickactions_smoke, tmp_path / "features", "--model", stream)
        assert code == 0, summary
    train = ["train", "--model", "hybrid", "--format", "stickactions", "--root", str(stickactions_smoke),
             "--profile", "smoke", "--out", str(tmp_path / "run")]
    assert main(train) == 2
    assert "give --features DIR" in capsys.readouterr().err
    assert main([*train, "--features", str(tmp_path / "nothing")]) == 2
    assert "hybridvid features extract --model i3d_rgb" in capsys.readouterr().err
    assert main([*train, "--features", str(tmp_path / "features"), "--option", "units=8"]) == 0
    assert "batch 32" in capsys.readouterr().out  # the paper's batch for the heads, not the smoke profile's 4
    result = json.loads((tmp_path / "run" / "metrics.json").read_text())["results"][0]
    steps = np.load(next((tmp_path / "features" / "i3d_rgb").rglob("*.features.npy"))).shape[0]
    assert steps == output_steps(16)  # the profile's feature clip (16 frames in smoke), not its training clip
    dims = [json.loads((tmp_path / "features" / s / "cache_info.json").read_text())["dim"]
            for s in ("i3d_rgb", "i3d_flow")]
    assert result["model"] == "hybrid" and result["options"]["feature_dims"] == dims
    ds = load_dataset("stickactions", stickactions_smoke)
    assert result["num_test_videos"] == len(ds.test)


def test_flow_features_of_mean_subtracted_flow_are_recorded_as_such_and_never_mixed(stickactions_smoke, tmp_path):
    import json as _json

    from hybridvid_lib.errors import HybridVidError
    from hybridvid_lib.models.extractors import two_stream_features

    ds = load_dataset("stickactions", stickactions_smoke)
    plain, _ = two_stream_features(ds, SMOKE, tmp_path / "plain", {}, frames=8)
    centred, _ = two_stream_features(ds, SMOKE, tmp_path / "centred", {}, frames=8, flow_mean_subtraction=True)
    info = _json.loads((tmp_path / "centred" / "i3d_flow" / "cache_info.json").read_text())
    assert info["flow_mean_subtraction"] is True
    assert "flow_mean_subtraction" not in _json.loads((tmp_path / "centred" / "i3d_rgb" / "cache_info.json").read_text())
    record = ds.test[0]
    np.testing.assert_array_equal(plain.caches[0].load(record), centred.caches[0].load(record))  # RGB: the same
    assert not np.allclose(plain.caches[1].load(record), centred.caches[1].load(record))  # flow: another input
    with pytest.raises(HybridVidError, match="other settings"):
        two_stream_features(ds, SMOKE, tmp_path / "plain", {}, frames=8, flow_mean_subtraction=True)
