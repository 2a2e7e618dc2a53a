import pytest

from hybridvid_lib.config import PROFILES, Settings, resolve_settings
from hybridvid_lib.errors import SettingsError


def test_profiles_grow_from_smoke_to_gpu():
    smoke, cpu, gpu = (PROFILES[n] for n in ("smoke", "cpu", "gpu"))
    for key in ("frame_size", "num_frames", "batch_size", "num_epochs"):
        assert getattr(smoke, key) <= getattr(cpu, key) <= getattr(gpu, key), key


def test_cpu_and_gpu_runs_end_with_small_steps_and_a_smoke_epoch_takes_the_full_rate():
    from hybridvid_lib.schedules import epoch_learning_rate

    for name in ("cpu", "gpu"):
        s = PROFILES[name]
        rates = [epoch_learning_rate(s.learning_rate, e, s.num_epochs, s.lr_schedule) for e in range(s.num_epochs)]
        assert rates[0] == pytest.approx(s.learning_rate), name
        assert all(a > b for a, b in zip(rates, rates[1:])), name
        assert rates[-1] < 0.01 * s.learning_rate, name
    smoke = PROFILES["smoke"]
    assert epoch_learning_rate(smoke.learning_rate, 0, smoke.num_epochs, smoke.lr_schedule) == smoke.learning_rate


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


# --------------------------------------------------------------------------- allowed names, from their home modules
def test_sampling_accepts_every_strategy_with_fixed_test_clips_and_no_other():
    from hybridvid_lib.data.sampling import STRATEGIES

    for strategy in STRATEGIES:
        if strategy == "random":  # random even at test time: the test clips would change between runs
            with pytest.raises(SettingsError, match="'sampling' must be one of .*; got 'random'"):
                resolve_settings("smoke", sampling=strategy)
        else:
            assert resolve_settings("smoke", sampling=strategy).sampling == strategy
    with pytest.raises(SettingsError, match="'sampling' must be one of .*; got 'every_other'"):
        resolve_settings("smoke", sampling="every_other")


@pytest.mark.parametrize("setting, home, name", [
    ("flow_method", "hybridvid_lib.data.flow_methods", "FLOW_METHODS"),
    ("flip_policy", "hybridvid_lib.data.flip_policies", "FLIP_POLICIES"),
    ("dataset_preset", "hybridvid_lib.data.synth.presets", "PRESETS"),
])
def test_named_settings_accept_exactly_their_home_list(setting, home, name):
    import importlib

    allowed = list(getattr(importlib.import_module(home), name))
    assert allowed, f"{home}.{name} is empty"
    for value in allowed:
        assert getattr(resolve_settings("smoke", **{setting: value}), setting) == value
    with pytest.raises(SettingsError, match=f"'{setting}' must be one of {', '.join(allowed)}; got 'made_up'"):
        resolve_settings("smoke", **{setting: "made_up"})


def test_every_profile_passes_its_own_checks():
    # The table is built without validation; a profile naming a preset or method that its home
    # module lacks would only fail when a notebook resolves it.
    for profile in PROFILES.values():
        assert resolve_settings(profile.profile) == profile


def test_importing_the_settings_loads_neither_opencv_nor_tensorflow():
    import subprocess
    import sys

    code = ("import sys, hybridvid_lib.config; "
            "print(sorted(m for m in ('cv2', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_larger_frame_size_scales_the_resize_the_cache_and_the_flow_with_the_crop():
    cpu = PROFILES["cpu"]
    big = cpu.with_frame_size(80)
    assert (big.frame_size, big.short_side, big.cache_short_side, big.flow_size) == (80, 90, 90, 80)
    assert big.replace(frame_size=64, short_side=72, cache_short_side=72, flow_size=64) == cpu  # nothing else moved
    assert cpu.with_frame_size(64) is cpu
    gpu = PROFILES["gpu"].with_frame_size(224)
    assert (gpu.short_side, gpu.cache_short_side, gpu.flow_size) == (256, 256, 224)
    with pytest.raises(SettingsError, match="frame_size"):
        cpu.with_frame_size(0)
