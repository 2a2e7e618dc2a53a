"""Nothing the kit loads can run code: ``.keras`` files in safe mode, arrays without pickle, YAML safely.

A ``.keras`` file with a ``Lambda`` layer carries Python bytecode that runs when it loads; every
loader of the kit (``load_keras_file``, ``load_run_model``, ``init_from``, ``features extract
--weights``, ``train --init-from``) refuses it with one sentence.
"""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path

import pytest

from hybridvid_lib.errors import HybridVidError, ModelError
from hybridvid_lib.tf_setup import import_tensorflow
from tests.hostile.support import assert_one_sentence

import_tensorflow()
import keras  # noqa: E402

LIBRARY = Path(__file__).resolve().parents[2] / "hybridvid_lib"


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, Path]:
    """A ``.keras`` file whose Lambda would create ``lambda_ran`` when called, and files that are no model."""
    folder = tmp_path_factory.mktemp("keras")
    inputs = keras.Input((4,), name="rgb")
    outputs = keras.layers.Lambda(lambda x: x * 2.0, name="code")(inputs)
    lambda_model = keras.Model(inputs, outputs, name="cnn_lstm")
    lambda_model.save(folder / "lambda.keras")
    run = folder / "run"
    run.mkdir()
    lambda_model.save(run / "model.keras")
    (folder / "text.keras").write_text("<html>404</html>")
    with zipfile.ZipFile(folder / "empty_zip.keras", "w") as archive:
        archive.writestr("readme.txt", "not a model")
    (folder / "legacy.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    return {"lambda": folder / "lambda.keras", "run": run, "text": folder / "text.keras",
            "zip": folder / "empty_zip.keras", "h5": folder / "legacy.h5"}


def test_a_lambda_layer_is_refused_by_every_loader(model_files):
    from hybridvid_lib.models.trained import init_from, load_keras_file, load_run_model

    words = r"holds a layer with Python code \(such as a Lambda layer\), which the kit never loads"
    with pytest.raises(ModelError, match=words):
        load_keras_file(model_files["lambda"])
    with pytest.raises(ModelError, match=words):
        load_run_model(model_files["run"])
    target = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ModelError, match=words):
        init_from(target, model_files["lambda"])


@pytest.mark.parametrize("name, words", [
    ("text", "is not a Keras model the kit can load"),
    ("zip", "is not a Keras model the kit can load"),
    ("h5", "is not a .keras file"),
])
def test_files_that_are_no_keras_model_are_one_sentence(model_files, name, words):
    from hybridvid_lib.models.trained import load_keras_file

    with pytest.raises(ModelError, match=re.escape(words)) as caught:
        load_keras_file(model_files[name])
    assert str(model_files[name]) in str(caught.value) and "\n" not in str(caught.value)


def test_features_extract_refuses_lambda_weights_in_one_sentence(model_files, corpora, tmp_path, cli):
    code, _, err = cli("features", "extract", "--model", "i3d_rgb", "--weights", model_files["lambda"],
                       "--format", "ucf101", "--root", corpora["ucf101"].root, "--profile", "smoke",
                       "--out", tmp_path / "features")
    assert_one_sentence(code, err, "Lambda layer", str(model_files["lambda"]))
    assert not (tmp_path / "features" / "i3d_rgb").exists() or not any((tmp_path / "features").rglob("*.npy"))


def test_train_refuses_lambda_init_from_in_one_sentence(model_files, corpora, tmp_path, cli):
    code, _, err = cli("train", "--model", "single_frame_cnn", "--init-from", model_files["lambda"],
                       "--format", "stickactions", "--root", corpora["stickactions"].root, "--profile", "smoke",
                       "--epochs", "1", "--out", tmp_path / "run")
    assert_one_sentence(code, err, "Lambda layer")


def test_model_errors_are_kit_errors():
    assert issubclass(ModelError, HybridVidError)


def _library_sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in LIBRARY.rglob("*.py")}


def test_no_loader_in_the_library_can_unpickle_or_run_code():
    # A guard for what comes later: every load in the library stays safe.
    unsafe = {
        "pickle / joblib / dill loads": re.compile(r"\b(pickle|cPickle|joblib|dill|cloudpickle)\.loads?\("),
        "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
        "safe_mode=False": re.compile(r"safe_mode\s*=\s*False"),
        "yaml.load / unsafe_load / full_load": re.compile(r"yaml\.(load|unsafe_load|full_load|load_all)\("),
        "enable_unsafe_deserialization": re.compile(r"enable_unsafe_deserialization"),
    }
    found = [f"{path.relative_to(LIBRARY.parent)}: {what}" for path, text in _library_sources().items()
             for what, pattern in unsafe.items() if pattern.search(text)]
    assert found == []


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    """Every call of a function or method called ``name`` in the library's code (docstrings do not count)."""
    found = []
    for path, text in _library_sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    found.append((path.name, node))
    return found


def _keyword(call: ast.Call, name: str):
    return next((ast.literal_eval(k.value) for k in call.keywords if k.arg == name), "absent")


def test_every_keras_load_goes_through_the_safe_loader():
    loads = _calls("load_model")
    assert [(file, _keyword(call, "safe_mode")) for file, call in loads] == [("trained.py", True)]
    # Every np.load names allow_pickle=False (numpy's default today; explicit so that it cannot change under us).
    for file, call in _calls("load"):
        if isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", None) in ("np", "numpy"):
            assert _keyword(call, "allow_pickle") is False, f"{file} line {call.lineno}"
