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


def test_tensorflow_import_is_quiet_and_turns_onednn_on_unless_the_user_said_otherwise():
    code = (
        "import os\n"
        "from hybridvid_lib.tf_setup import import_tensorflow, gpu_devices\n"
        "tf = import_tensorflow(); gpu_devices()\n"
        "list(tf.data.Dataset.range(3).map(lambda x: x + 1, num_parallel_calls=2))\n"
        "from tensorflow.python.util import _pywrap_util_port\n"
        "print(tf.__version__, os.environ.get('TF_ENABLE_ONEDNN_OPTS'), _pywrap_util_port.IsMklEnabled())\n"
        "import sys; print('after', file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    version, onednn, in_effect = out.stdout.split()
    # On: TensorFlow leaves oneDNN off by itself on CPUs without AVX-512, and Conv3D trains 3-4x slower there.
    assert version.startswith("2.21") and onednn == "1" and in_effect == "True"
    # stderr is restored after the import (our line arrives) and nothing else was printed.
    assert out.stderr.strip() == "after", out.stderr
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**env, "TF_ENABLE_ONEDNN_OPTS": "0"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[1:] == ["0", "False"]  # the user's own choice is kept


def test_doctor_says_whether_onednn_is_on():
    code = "from hybridvid_lib.doctor import report; print(report()[0])"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    lines = {}
    for value in (None, "0"):
        run_env = env if value is None else {**env, "TF_ENABLE_ONEDNN_OPTS": value}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=run_env, timeout=120)
        assert out.returncode == 0, out.stderr
        lines[value] = next(line for line in out.stdout.splitlines() if line.startswith("onednn"))
    assert lines[None].split() == ["onednn", "on"]
    assert "off: 3D convolutions train 4-8x slower" in lines["0"] and "TF_ENABLE_ONEDNN_OPTS=0" in lines["0"]
