"""``hybridvid train`` with a pause after every batch, so that a test can kill it in the middle of an epoch.

Run as ``python -m tests.support.slow_train SECONDS ARGS...``: the arguments after the pause are those of
``hybridvid train``. The pause is the only difference from the command itself.
"""

import sys
import time


def main() -> int:
    pause = float(sys.argv[1])
    import keras

    from hybridvid_lib import training
    from hybridvid_lib.cli import main as cli_main

    class Pause(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(pause)

    fit = training.train_model

    def slow_train_model(*args, callbacks=None, **kwargs):
        return fit(*args, callbacks=[*(callbacks or []), Pause()], **kwargs)

    training.train_model = slow_train_model
    import hybridvid_lib.runs as runs

    runs.train_model = slow_train_model
    return cli_main(["train", *sys.argv[2:]])


if __name__ == "__main__":
    sys.exit(main())
