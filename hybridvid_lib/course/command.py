"""``hybridvid course run``: the command-line face of :func:`hybridvid_lib.course.run_course`."""

from __future__ import annotations

import argparse
from pathlib import Path

from hybridvid_lib.course.catalog import CourseError, parse_only
from hybridvid_lib.course.options import parse_seeds, user_parameters
from hybridvid_lib.course.runner import count_line, describe_error, run_course


def resume_folder(resume: Path | bool | None, out: Path | None) -> Path | None:
    """The folder ``--resume [DIR]`` continues: ``DIR``, else ``--out``, else ``None`` (``runs/latest``).

    Raises:
        CourseError: ``--resume DIR`` and ``--out`` name two different folders.
    """
    if resume is None or resume is True:
        return out
    if out is not None and Path(out).absolute() != Path(resume).absolute():
        raise CourseError(f"--resume {resume} and --out {out} name two different folders; give the run "
                          f"folder to continue once, as --resume DIR.")
    return Path(resume)


def course_run_command(args: argparse.Namespace) -> int:
    """Run the course from parsed arguments; return 0 when every run is ok or skipped, 1 when any failed.

    ``args``: ``profile`` (str or None), ``only`` ("00,01" or None), ``out`` (Path or None),
    ``parameter`` (list of ``[KEY, VALUE]`` strings, converted like ``papermill -p``),
    ``seeds`` ("0,1,2" or None), ``resume`` (None; True for a bare ``--resume``; or the folder
    to continue), ``jobs`` (``"auto"`` or a count). Progress goes to stderr; the summary to stdout.
    """
    resume = getattr(args, "resume", None)
    result = run_course(
        None,
        profile=args.profile,
        only=parse_only(args.only),
        out=resume_folder(resume, args.out),
        parameters=user_parameters(args.parameter),
        seeds=parse_seeds(args.seeds),
        resume=resume is not None,
        jobs=getattr(args, "jobs", 1),
    )
    runs = result.runs
    print(f"{count_line(runs, len(runs))} (profile {result.results['profile']})")
    if resume is not None:
        print(f"resumed: {len(result.executed)} run(s) executed now, {len(runs) - len(result.executed)} kept")
    for run in result.skipped:
        print(f"skipped: {run['notebook']} seed {run['seed']}: {run['reason']}")
    for run in result.failed:
        print(f"failed: {run['notebook']} seed {run['seed']}: {describe_error(run['error'])} "
              f"(see {result.out_dir / run['executed_notebook']})")
    print(f"results: {result.results_path}")
    print(f"report:  {result.report_path}")
    return result.exit_code
