import os
import subprocess
import sys

from hybridvid_lib.doctor import check_opencv_wheels


def test_one_opencv_wheel_is_fine():
    assert check_opencv_wheels(["opencv-contrib-python-headless"]) is None


def test_two_opencv_wheels_get_one_clear_instruction():
    msg = check_opencv_wheels(["opencv-python", "opencv-contrib-python-headless"])
    assert "overwrite" in msg and "pip uninstall -y opencv-python opencv-contrib-python-headless" in msg


def test_no_opencv_says_what_to_install():
    assert "pip install opencv-contrib-python-headless" in check_opencv_wheels([])


def test_this_environment_has_exactly_one_opencv_wheel():
    assert check_opencv_wheels() is None


def test_tensorflow_import_is_quiet_and_keeps_onednn():
    code = (
        "import os\n"
        "from hybridvid_lib.tf_setup import import_tensorflow, gpu_devices\n"
        "tf = import_tensorflow(); gpu_devices()\n"
        "list(tf.data.Dataset.range(3).map(lambda x: x + 1, num_parallel_calls=2))\n"
        "print(tf.__version__, os.environ.get('TF_ENABLE_ONEDNN_OPTS'))\n"
        "import sys; print('after', file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    version, onednn = out.stdout.split()
    assert version.startswith("2.21") and onednn == "None"
    # stderr is restored after the import (our line arrives) and nothing else was printed.
    assert out.stderr.strip() == "after", out.stderr
