import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from hybridvid_lib.course.catalog import CourseError
from hybridvid_lib.course.render import CHECKED_TAG, merge_rendered, render_notebooks


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


def test_only_tagged_cells_keep_outputs_without_stderr_or_counts():
    source = _source()
    rendered = merge_rendered(source, _executed(source, "shape (2, 3)\n"))
    assert [c.get("id") for c in rendered.cells] == ["cell-0", "cell-1", "cell-2"]
    checked, timed = rendered.cells[1], rendered.cells[2]
    assert [o["text"] for o in checked.outputs] == ["shape (2, 3)\n"]
    assert checked.execution_count == 2  # its position among the code cells, not the kernel's count
    assert rendered.cells[0].execution_count is None
    assert timed.outputs == []


def test_absolute_paths_in_checked_outputs_are_refused():
    source = _source()
    with pytest.raises(CourseError, match="absolute path"):
        merge_rendered(source, _executed(source, "wrote /home/someone/data/file.json\n"))


@pytest.mark.slow
def test_render_runs_the_notebook_in_smoke_profile_and_writes_in_place(tmp_path):
    path = tmp_path / "07_demo.ipynb"
    source = _source()
    source.cells[1].source = "print('profile', PROFILE, 'seed', SEED)"
    nbformat.write(source, path)
    render_notebooks([path])
    rendered = nbformat.read(path, as_version=4)
    assert [o["text"] for o in rendered.cells[1].outputs] == ["profile smoke seed 0\n"]
    assert rendered.cells[2].outputs == [] and "papermill" not in rendered.metadata
    assert len(rendered.cells) == 3
