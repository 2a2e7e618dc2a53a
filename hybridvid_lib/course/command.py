"""``hybridvid course run``: the command-line face of :func:`hybridvid_lib.course.run_course`."""

from __future__ import annotations

import argparse

from hybridvid_lib.course.catalog import parse_only
from hybridvid_lib.course.options import parse_seeds, user_parameters
from hybridvid_lib.course.runner import describe_error, run_course


def course_run_command(args: argparse.Namespace) -> int:
    """Run the course from parsed arguments; return 0 when every run is ok, 1 when any failed.

    ``args``: ``profile`` (str or None), ``only`` ("00,01" or None), ``out`` (Path or None),
    ``parameter`` (list of ``[KEY, VALUE]`` strings, converted like ``papermill -p``),
    ``seeds`` ("0,1,2" or None). Progress goes to stderr; the summary to stdout.
    """
    result = run_course(
        None,
        profile=args.profile,
        only=parse_only(args.only),
        out=args.out,
        parameters=user_parameters(args.parameter),
        seeds=parse_seeds(args.seeds),
    )
    runs = result.runs
    print(f"{len(runs) - len(result.failed)} of {len(runs)} run(s) ok (profile {result.results['profile']})")
    for run in result.failed:
        print(f"failed: {run['notebook']} seed {run['seed']}: {describe_error(run['error'])} "
              f"(see {result.out_dir / run['executed_notebook']})")
    print(f"results: {result.results_path}")
    print(f"report:  {result.report_path}")
    return result.exit_code
