import json
import math

import pytest

from hybridvid_lib.bench import bench_pipeline, format_bench
from hybridvid_lib.cli import main

RATES = ("naive_clips_per_s", "first_epoch_clips_per_s", "cached_clips_per_s", "speedup_cached_vs_naive")


def test_bench_pipeline_reports_positive_finite_rates(stickactions_smoke, capsys):
    code = main(["bench", "pipeline", "--root", str(stickactions_smoke), "--videos", "4", "--epochs", "2",
                 "--frames", "4", "--size", "32", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["num_videos"], result["num_frames"], result["frame_size"], result["epochs"]) == (4, 4, 32, 2)
    assert isinstance(result["device"], str) and result["device"]
    for key in RATES:
        assert math.isfinite(result[key]) and result[key] > 0, key
    assert set(result["flow_fps"]) >= {"dis", "farneback"}
    assert all(math.isfinite(v) and v > 0 for v in result["flow_fps"].values())
    table = format_bench(result)
    assert "naive OpenCV generator" in table and "cached epochs (mean of 1)" in table and "dis" in table


@pytest.mark.parametrize("kwargs", [dict(epochs=1), dict(num_videos=0), dict(frame_size=4)])
def test_bench_pipeline_rejects_settings_it_cannot_time(kwargs):
    with pytest.raises(ValueError, match="must be a whole number"):
        bench_pipeline(**kwargs, progress=False)
