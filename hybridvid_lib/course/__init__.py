"""The course runner: execute the notebooks with papermill, one run per notebook and seed, and report.

::

    hybridvid course run --profile smoke --only 00,01 --seeds 0,1 -p EPOCHS 2
    hybridvid course run --resume          # after a crash: only the missing and failed runs

or from Python::

    from hybridvid_lib.course import run_course
    result = run_course(profile="smoke", only=["00"], seeds=[0, 1])
    result.report_path, result.exit_code

Modules: :mod:`~hybridvid_lib.course.catalog` (finding ``notebooks/NN_*.ipynb``),
:mod:`~hybridvid_lib.course.options` (seeds and ``-p`` values), :mod:`~hybridvid_lib.course.runner`
(papermill, ``results.json`` after every run, ``runs/latest``), :mod:`~hybridvid_lib.course.resume`
(continuing a stopped course run), :mod:`~hybridvid_lib.course.report` (``report.md`` with the
leaderboard, its plot, skipped runs with their reason, failures), :mod:`~hybridvid_lib.course.command`
(the CLI). A run is ``ok``, ``skipped`` (the notebook wrote
:func:`hybridvid_lib.evaluation.skipped_document`: it cannot run in this setting) or ``failed``.
"""

from hybridvid_lib.course.catalog import CourseError, find_notebooks, select_notebooks
from hybridvid_lib.course.command import course_run_command
from hybridvid_lib.course.options import parse_parameter_value, parse_seeds, user_parameters
from hybridvid_lib.course.report import leaderboard_rows, write_report, write_results
from hybridvid_lib.course.resume import latest_run_dir
from hybridvid_lib.course.runner import CourseResult, point_latest, run_course, source_cell_index

__all__ = [
    "CourseError",
    "CourseResult",
    "course_run_command",
    "find_notebooks",
    "latest_run_dir",
    "leaderboard_rows",
    "parse_parameter_value",
    "parse_seeds",
    "point_latest",
    "run_course",
    "select_notebooks",
    "source_cell_index",
    "user_parameters",
    "write_report",
    "write_results",
]
