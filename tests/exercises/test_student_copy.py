"""Student copies: solution blocks become placeholders, and the drift check catches hand edits."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from hybridvid_lib.exercises import check_exercises, sync_exercises
from hybridvid_lib.exercises.student_copy import (
    BEGIN_MARKER, END_MARKER, main, make_student_notebook, render_student_copy, strip_solutions,
)

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ strip_solutions
def test_a_function_body_becomes_todo_and_not_implemented_at_the_marker_indentation():
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    # BEGIN SOLUTION\n"
        "    y = x * 2\n"
        "    return y\n"
        "    # END SOLUTION\n"
        "\n"
        "print('kept')"
    )
    assert strip_solutions(source) == (
        "def f(x):\n"
        '    """Doc."""\n'
        "    # TODO: your code here\n"
        "    raise NotImplementedError\n"
        "\n"
        "print('kept')"
    )


def test_simple_assignments_become_ellipsis_placeholders():
    source = f"{BEGIN_MARKER}\nanswer = ('SitDown',\n          'StandUp')\nreason: str = 'b'\nanswer = 1\n{END_MARKER}"
    assert strip_solutions(source) == "# TODO: your code here\nanswer = ...\nreason = ..."


@pytest.mark.parametrize("block", ["x = compute()\nprint(x)", "a, b = 1, 2", "for i in range(3):\n    total = i"])
def test_anything_but_simple_assignments_raises_not_implemented(block):
    placeholder = "# TODO: your code here\nraise NotImplementedError"
    assert strip_solutions(f"{BEGIN_MARKER}\n{block}\n{END_MARKER}") == placeholder


def test_several_blocks_in_one_cell_and_code_between_them_kept():
    source = f"a = 1\n{BEGIN_MARKER}\nb = 2\n{END_MARKER}\nc = 3\n  {BEGIN_MARKER}\n  f()\n  {END_MARKER}"
    assert strip_solutions(source) == (
        "a = 1\n# TODO: your code here\nb = ...\nc = 3\n  # TODO: your code here\n  raise NotImplementedError"
    )


@pytest.mark.parametrize("source, words", [
    (f"{BEGIN_MARKER}\nx = 1", "on line 1 has no '# END SOLUTION' after it"),
    (f"x = 1\n{END_MARKER}", "on line 2 has no '# BEGIN SOLUTION' before it"),
    (f"{BEGIN_MARKER}\n{BEGIN_MARKER}\n{END_MARKER}", "opens a block inside the one opened on line 1"),
])
def test_unbalanced_markers_are_refused_naming_the_cell_and_line(source, words):
    with pytest.raises(ValueError, match="nb.ipynb cell 3") as err:
        strip_solutions(source, where="nb.ipynb cell 3")
    assert words in str(err.value)


# ------------------------------------------------------------------ make_student_notebook
def _solution_notebook(answer: str = "42") -> nbformat.NotebookNode:
    ran = new_code_cell(
        f"def f():\n    {BEGIN_MARKER}\n    return {answer}\n    {END_MARKER}",
        execution_count=3, outputs=[new_output("stream", name="stdout", text="hi\n")],
        metadata={"tags": ["keep-me"], "execution": {"iopub.status.busy": "2024"}, "papermill": {"duration": 1}},
    )
    teacher = new_code_cell("print(f())", metadata={"tags": ["solution-only"]})
    teacher_note = new_markdown_cell("Teacher's note", metadata={"tags": ["solution-only"]})
    return new_notebook(
        cells=[new_markdown_cell("# Title\n\nUse `# BEGIN SOLUTION` markers."), ran, teacher, teacher_note,
               new_code_cell("q1.check(f)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                  "papermill": {"parameters": {}}},
    )


def test_student_notebook_drops_solution_cells_clears_outputs_and_keeps_the_rest():
    solution = _solution_notebook()
    before = json.dumps(solution, sort_keys=True)
    student = make_student_notebook(solution, source_name="00_demo.ipynb")
    assert json.dumps(solution, sort_keys=True) == before  # the solution is not modified
    assert [c.source for c in student.cells] == [
        "# Title\n\nUse `# BEGIN SOLUTION` markers.",  # markdown untouched
        "def f():\n    # TODO: your code here\n    raise NotImplementedError",
        "q1.check(f)",
    ]
    code = student.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert code.metadata == {"tags": ["keep-me"]}
    assert code.id == solution.cells[1].id
    assert student.metadata["hybridvid"] == {"student_copy_of": "solutions/00_demo.ipynb"}
    assert "papermill" not in student.metadata and student.metadata["kernelspec"]["name"] == "python3"
    nbformat.validate(student)


# ------------------------------------------------------------------ sync / check
def _write_solutions(root: Path) -> None:
    folder = root / "exercises" / "solutions"
    folder.mkdir(parents=True)
    nbformat.write(_solution_notebook("1"), folder / "00_first.ipynb")
    nbformat.write(_solution_notebook("2"), folder / "01_second.ipynb")
    (folder / "notes.ipynb").write_text("not a chapter notebook")  # ignored: no NN_ prefix


def test_drift_is_detected_and_sync_repairs_it(tmp_path):
    _write_solutions(tmp_path)
    assert check_exercises(tmp_path) == ["00_first.ipynb", "01_second.ipynb"]  # missing copies

    written = sync_exercises(tmp_path)
    assert written == [tmp_path / "exercises" / "00_first.ipynb", tmp_path / "exercises" / "01_second.ipynb"]
    assert check_exercises(tmp_path) == []
    assert "return 1" not in written[0].read_text() and "raise NotImplementedError" in written[0].read_text()
    assert not list((tmp_path / "exercises").glob("*.partial*"))

    # A hand edit of a student copy is drift.
    edited = nbformat.read(written[1], as_version=4)
    edited.cells[1].source = "def f():\n    return 2"
    nbformat.write(edited, written[1])
    assert check_exercises(tmp_path) == ["01_second.ipynb"]

    # Reformatting the JSON alone is not.
    doc = json.loads(written[0].read_text())
    written[0].write_text(json.dumps(doc, indent=4))
    assert check_exercises(tmp_path) == ["01_second.ipynb"]

    # A changed solution makes its copy stale until the next sync.
    sync_exercises(tmp_path)
    nbformat.write(_solution_notebook("3"), tmp_path / "exercises" / "solutions" / "00_first.ipynb")
    assert check_exercises(tmp_path) == ["00_first.ipynb"]
    sync_exercises(tmp_path)
    assert check_exercises(tmp_path) == []


def test_copies_without_a_solution_and_unreadable_copies_are_reported(tmp_path):
    _write_solutions(tmp_path)
    sync_exercises(tmp_path)
    (tmp_path / "exercises" / "02_orphan.ipynb").write_text("{}")
    (tmp_path / "exercises" / "00_first.ipynb").write_text("not json")
    assert check_exercises(tmp_path) == ["00_first.ipynb", "02_orphan.ipynb"]


def test_an_empty_project_has_nothing_to_sync(tmp_path):
    assert sync_exercises(tmp_path) == [] and check_exercises(tmp_path) == []


def test_module_command_syncs_and_checks(tmp_path, capsys):
    _write_solutions(tmp_path)
    assert main(["check", "--root", str(tmp_path)]) == 1
    assert "00_first.ipynb, 01_second.ipynb" in capsys.readouterr().out
    assert main(["sync", "--root", str(tmp_path)]) == 0
    assert "wrote exercises/00_first.ipynb" in capsys.readouterr().out
    assert main(["check", "--root", str(tmp_path)]) == 0


# ------------------------------------------------------------------ the repository's exercises
REPO_SOLUTIONS = sorted((REPO / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))


def test_the_repository_student_copies_are_in_sync():
    # Every chapter notebook has its exercise notebook, and every exercise notebook its chapter.
    chapters = sorted(p.name[:2] for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name[:2] for p in REPO_SOLUTIONS) == chapters and len(chapters) >= 2
    assert check_exercises(REPO) == []


@pytest.mark.parametrize("solution", REPO_SOLUTIONS, ids=[p.stem for p in REPO_SOLUTIONS])
def test_repository_solutions_are_clean_and_their_copies_hide_every_answer(solution):
    nb = nbformat.read(solution, as_version=4)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert all(c.get("outputs", []) == [] for c in nb.cells if c.cell_type == "code")  # outputs stripped
    student = nbformat.reads(render_student_copy(solution), as_version=4)
    blocks = sum(c.source.count(BEGIN_MARKER) for c in nb.cells if c.cell_type == "code")
    student_code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert blocks >= 3 and BEGIN_MARKER not in student_code and END_MARKER not in student_code
    assert student_code.count("# TODO: your code here") == blocks


@pytest.mark.slow
@pytest.mark.parametrize("solution", REPO_SOLUTIONS, ids=[p.stem for p in REPO_SOLUTIONS])
def test_solution_passes_every_check_and_student_copy_runs_in_smoke_profile(solution, tmp_path):
    import papermill as pm

    from hybridvid_lib.evaluation import load_metrics

    verdicts = {}
    for kind, source in (("solution", solution), ("student", solution.parent.parent / solution.name)):
        out = tmp_path / f"{kind}.ipynb"
        pm.execute_notebook(str(source), str(out), cwd=str(tmp_path), kernel_name="python3",
                            parameters={"PROFILE": "smoke", "SEED": 0, "OUTPUT_DIR": str(tmp_path / kind)},
                            progress_bar=False, execution_timeout=300)
        executed = nbformat.read(out, as_version=4)
        verdicts[kind] = [
            o["data"]["text/plain"].split(":")[0]
            for c in executed.cells if c.cell_type == "code" and ".check(" in c.source
            for o in c.outputs if o.get("output_type") == "display_data"
        ]
    checks = sum(1 for c in nbformat.read(solution, as_version=4).cells if c.cell_type == "code" and ".check(" in c.source)
    assert checks >= 3  # every chapter has at least three exercises
    assert verdicts["solution"] == ["Correct"] * checks
    doc = load_metrics(tmp_path / "solution" / "metrics.json")  # validates the schema
    assert (doc["notebook"], doc["profile"], doc["seed"]) == (solution.stem, "smoke", 0)
    assert verdicts["student"] == ["Incorrect"] * checks  # placeholders run, and each check says "not written yet"
