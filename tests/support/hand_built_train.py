"""Train a CNN + LSTM built by hand (outside any strategy scope) through ``train_and_evaluate``; print the history.

Usage: ``python -m tests.support.hand_built_train DATA RUN_DIR STRATEGY``. Run in its own process, so that
``HYBRIDVID_CPU_DEVICES`` can split the CPU before TensorFlow starts. Prints one JSON line:
``{"history": {...}, "num_test_videos": N}``.
"""

import json
import sys

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()

from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.data.datasets import load_dataset  # noqa: E402
from hybridvid_lib.models import build_model  # noqa: E402
from hybridvid_lib.runs import train_and_evaluate  # noqa: E402
from hybridvid_lib.seeding import set_seed  # noqa: E402

OPTIONS = {"filters": [4, 8], "feature_dim": 16, "lstm_units": 8, "dropout": 0.0}


def main(data: str, run_dir: str, strategy: str) -> None:
    settings = resolve_settings("smoke", strategy=strategy, num_epochs=2)
    ds = load_dataset("stickactions", data)
    set_seed(1)
    model = build_model("cnn_lstm", settings, ds.num_classes, **OPTIONS)  # outside every scope, as a notebook does
    result = train_and_evaluate("cnn_lstm", ds, settings, seed=1, run_dir=run_dir, model=model, options=OPTIONS,
                                verbose=0)
    print(json.dumps({"history": result.history,
                      "num_test_videos": int(result.entry["num_test_videos"])}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
