import pytest

from hybridvid_lib.config import PROFILES, Settings, resolve_settings
from hybridvid_lib.errors import SettingsError


def test_profiles_grow_from_smoke_to_gpu():
    smoke, cpu, gpu = (PROFILES[n] for n in ("smoke", "cpu", "gpu"))
    for key in ("frame_size", "num_frames", "batch_size", "num_epochs"):
        assert getattr(smoke, key) <= getattr(cpu, key) <= getattr(gpu, key), key


def test_overrides_apply_and_none_keeps_default():
    s = resolve_settings("cpu", num_epochs=3, batch_size=None)
    assert s.num_epochs == 3
    assert s.batch_size == PROFILES["cpu"].batch_size
    assert isinstance(s, Settings)


def test_strings_from_papermill_are_coerced():
    s = resolve_settings("smoke", num_epochs="2", learning_rate="0.01", seeds="0,1, 2")
    assert s.num_epochs == 2 and s.learning_rate == 0.01 and s.seeds == (0, 1, 2)


def test_profile_comes_from_environment(monkeypatch):
    monkeypatch.setenv("HYBRIDVID_PROFILE", "smoke")
    assert resolve_settings().profile == "smoke"


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"profile": "laptop"}, "smoke, cpu, gpu"),
        ({"profile": "cpu", "epochz": 3}, "known settings"),
        ({"profile": "cpu", "num_epochs": "many"}, "expects a value like"),
        ({"profile": "cpu", "flow_method": "lucas"}, "dis, farneback, tvl1"),
        ({"profile": "cpu", "frame_size": 100}, "short_side"),
    ],
)
def test_bad_settings_say_what_was_expected(kwargs, words):
    profile = kwargs.pop("profile")
    with pytest.raises(SettingsError, match=words):
        resolve_settings(profile, **kwargs)


def test_settings_are_json_ready():
    import json

    d = resolve_settings("gpu").as_dict()
    assert json.loads(json.dumps(d))["seeds"] == list(PROFILES["gpu"].seeds)
