import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from hybridvid_lib.course.catalog import CourseError
from hybridvid_lib.course.render import CHECKED_TAG, merge_rendered, render_notebooks, scrub_text


def _source():
    cells = [
        new_code_cell("PROFILE = 'cpu'\nSEED = 0\nDATA_DIR = ''\nOUTPUT_DIR = 'out'", metadata={"tags": ["parameters"]}),
        new_code_cell("print('shape', (2, 3))", metadata={"tags": [CHECKED_TAG]}),
        new_code_cell("print('took 1.23 s')"),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def _executed(source, printed):
    executed = nbformat.from_dict(nbformat.writes(source) and nbformat.reads(nbformat.writes(source), as_version=4))
    injected = new_code_cell("PROFILE = 'smoke'", metadata={"tags": ["injected-parameters"]})
    injected["id"] = "injected"
    executed.cells.insert(1, injected)
    executed.cells[2].outputs = [new_output("stream", name="stdout", text=printed),
                                 new_output("stream", name="stderr", text="I0000 oneDNN notice\n")]
    executed.cells[2].execution_count = 7
    executed.cells[3].outputs = [new_output("stream", name="stdout", text="took 1.23 s\n")]
    return executed


def test_every_code_cell_keeps_its_outputs_without_stderr_timings_or_kernel_counts():
    source = _source()
    executed = _executed(source, "shape (2, 3)\n")
    executed.cells[3].outputs = [new_output("stream", name="stdout",
                                            text="Epoch 1/2\n36/36 - 3s - 86ms/step - accuracy: 0.50 - loss: 1.2\n")]
    rendered = merge_rendered(source, executed)
    assert [c.get("id") for c in rendered.cells] == ["cell-0", "cell-1", "cell-2"]
    checked, trained = rendered.cells[1], rendered.cells[2]
    assert [o["text"] for o in checked.outputs] == ["shape (2, 3)\n"]  # the stderr stream is gone
    assert checked.execution_count == 2  # its position among the code cells, not the kernel's count
    assert rendered.cells[0].execution_count is None and rendered.cells[0].outputs == []
    assert [o["text"] for o in trained.outputs] == ["Epoch 1/2\n36/36 - accuracy: 0.50 - loss: 1.2\n"]


def test_scrub_text_removes_keras_timings_only():
    assert scrub_text("1/1 - 0s - 20ms/step - loss: 0.5") == "1/1 - loss: 0.5"
    assert scrub_text("12/12 - 2s - loss: 0.5 - val_loss: 0.7") == "12/12 - loss: 0.5 - val_loss: 0.7"
    kept = "flow at 64 px: 2479 frame pairs/s; the clip lasts 2 s"
    assert scrub_text(kept) == kept


def test_figures_are_recompressed_and_a_huge_notebook_is_refused(monkeypatch):
    import base64
    import io

    import numpy as np
    from PIL import Image

    from hybridvid_lib.course import render

    rng = np.random.default_rng(0)
    picture = np.repeat(np.repeat(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8), 8, 0), 8, 1)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    source = _source()
    executed = _executed(source, "x\n")
    executed.cells[3].outputs = [new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
    rendered = merge_rendered(source, executed)
    stored = rendered.cells[2].outputs[0]["data"]["image/png"]
    assert len(stored) < len(png)
    assert Image.open(io.BytesIO(base64.b64decode(stored))).size == (320, 320)
    monkeypatch.setattr(render, "MAX_NOTEBOOK_BYTES", 1000)
    with pytest.raises(CourseError, match="keep it under"):
        merge_rendered(source, executed)


def test_absolute_paths_in_outputs_are_refused():
    source = _source()
    with pytest.raises(CourseError, match="absolute path"):
        merge_rendered(source, _executed(source, "wrote /home/someone/data/file.json\n"))


def test_a_course_run_folder_of_another_profile_or_without_the_run_is_refused(tmp_path):
    import json

    from hybridvid_lib.course.render import executed_in_run

    notebook = tmp_path / "01_demo.ipynb"
    with pytest.raises(CourseError, match="not a course run folder"):
        executed_in_run(tmp_path, notebook, profile="cpu", seed=0)
    runs = [{"notebook": "01_demo", "seed": 0, "status": "ok", "executed_notebook": "01_demo/seed0/01_demo.ipynb"},
            {"notebook": "01_demo", "seed": 1, "status": "failed", "executed_notebook": "x"}]
    (tmp_path / "results.json").write_text(json.dumps({"profile": "smoke", "runs": runs}))
    with pytest.raises(CourseError, match="'smoke' course run"):
        executed_in_run(tmp_path, notebook, profile="cpu", seed=0)
    (tmp_path / "results.json").write_text(json.dumps({"profile": "cpu", "runs": runs}))
    assert executed_in_run(tmp_path, notebook, profile="cpu", seed=0) == tmp_path / "01_demo/seed0/01_demo.ipynb"
    with pytest.raises(CourseError, match="did not finish ok"):
        executed_in_run(tmp_path, notebook, profile="cpu", seed=1)
    with pytest.raises(CourseError, match="no run of 01_demo with seed 2"):
        executed_in_run(tmp_path, notebook, profile="cpu", seed=2)


@pytest.mark.slow
def test_render_runs_the_notebook_in_smoke_profile_and_writes_in_place(tmp_path):
    path = tmp_path / "07_demo.ipynb"
    source = _source()
    source.cells[1].source = "print('profile', PROFILE, 'seed', SEED)"
    nbformat.write(source, path)
    render_notebooks([path], profile="smoke")
    rendered = nbformat.read(path, as_version=4)
    assert [o["text"] for o in rendered.cells[1].outputs] == ["profile smoke seed 0\n"]
    assert [o["text"] for o in rendered.cells[2].outputs] == ["took 1.23 s\n"]
    assert "papermill" not in rendered.metadata
    assert len(rendered.cells) == 3


def test_image_data_is_not_read_as_a_path_but_printed_text_is():
    from hybridvid_lib.course.render import _text_of

    image = {"output_type": "display_data", "data": {"image/png": "iVBO+/ab/cd/ef", "text/plain": "<Figure>"}}
    assert "/ab/cd" not in _text_of([image])
    html = {"output_type": "display_data", "data": {"text/html": "<p>/home/me/data/x</p>"}}
    assert "/home/me/data/x" in _text_of([html])
