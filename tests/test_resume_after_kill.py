"""A training process killed at any moment (SIGTERM, kill -9) resumes and ends where an uninterrupted run ends.

Three ``hybridvid train`` runs of the same CNN + LSTM (dropout, LSTM, Adam, a shuffled and augmented
pipeline) on the StickActions smoke set: one uninterrupted; one killed in the middle of its third
epoch, then run again to the end. Weights, optimizer state, the random state of the dropout layer and
the data order must all come back for the two to agree.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.training import load_run_state  # noqa: E402

EPOCHS = 4
ROOT = Path(__file__).resolve().parents[1]


def train_args(data: Path, out: Path) -> list[str]:
    return ["--model", "cnn_lstm", "--format", "stickactions", "--root", str(data), "--profile", "smoke",
            "--epochs", str(EPOCHS), "--seed", "3", "--out", str(out),
            "--option", "filters=[4,8]", "--option", "feature_dim=16", "--option", "lstm_units=8",
            "--option", "dropout=0.5"]


def environment() -> dict[str, str]:
    # One thread per op pool: the same arithmetic in every process, so the comparison can be tight.
    return {**os.environ, "PYTHONPATH": str(ROOT), "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
            "HYBRIDVID_DATA": str(data_home())}


def data_home() -> Path:
    return Path(os.environ.get("HYBRIDVID_DATA", ROOT / "datasets"))


def run_to_the_end(data: Path, out: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "hybridvid_lib.cli", "train", *train_args(data, out)], cwd=ROOT,
                          env=environment(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def uninterrupted(stickactions_smoke, tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    run_to_the_end(stickactions_smoke, out)
    return out


def weights(run: Path) -> list[np.ndarray]:
    return keras.saving.load_model(run / "model.keras", safe_mode=True, compile=False).get_weights()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_a_killed_run_resumes_and_ends_where_an_uninterrupted_run_ends(how, stickactions_smoke, uninterrupted,
                                                                       tmp_path):
    out = tmp_path / "run"
    # A pause after every batch makes the epochs long enough to be killed in the middle of one.
    process = subprocess.Popen([sys.executable, "-m", "tests.support.slow_train", "0.3",
                                *train_args(stickactions_smoke, out)], cwd=ROOT, env=environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while (state := _state(out)) is None or state["epochs_done"] < 2:
            assert process.poll() is None, f"the training process ended before it could be killed: {process.stderr.read()}"
            assert time.monotonic() < deadline, "two epochs did not finish within 300 s"
            time.sleep(0.05)
        time.sleep(0.5)  # into the third epoch: a batch or two of it trained, none of it saved
        assert process.poll() is None
        process.send_signal(how)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    assert load_run_state(out)["epochs_done"] == 2 and not (out / "model.keras").exists()

    run_to_the_end(stickactions_smoke, out)

    resumed, straight = load_run_state(out), load_run_state(uninterrupted)
    assert resumed["epochs_done"] == straight["epochs_done"] == EPOCHS
    for key in ("loss", "accuracy"):  # epoch by epoch: the same batches, dropout masks and updates
        np.testing.assert_allclose(resumed["history"][key], straight["history"][key], rtol=1e-4, atol=1e-5)
    for a, b in zip(weights(out), weights(uninterrupted), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    metrics = [json.loads((run / "metrics.json").read_text())["results"][0] for run in (out, uninterrupted)]
    assert metrics[0]["test_accuracy"] == metrics[1]["test_accuracy"]


def _state(out: Path):
    try:
        return load_run_state(out)
    except Exception:  # noqa: BLE001 - a state being written is read again on the next poll
        return None
