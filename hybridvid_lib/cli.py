"""The ``hybridvid`` command.

::

    hybridvid doctor                                   versions, OpenCV build, GPU
    hybridvid data synth --out DIR [--preset P] [--seed S]
    hybridvid data download ucf101|hmdb51 --to DIR [--url BASE] [--size NAME=BYTES] [--sha256 NAME=HEX]
                           [--delete-archives]
    hybridvid data inspect --format F --root DIR [--videos DIR] [--splits DIR] [--split N] [--json]
                           (ntu: [--skeletons DIR] [--protocol xsub|xview|xset] instead of videos, splits, split)
    hybridvid data flow --format F --root DIR [--method M] [--size S] [--cache DIR]
    hybridvid bench pipeline [--json]
    hybridvid bench models [--models a,b] [--profile P] [--batch-size N] [--frame-size PX]
                           [--precision P] [--xla auto|on|off] [--steps N] [--json]
    hybridvid train --model NAME --format F --root DIR [--split N] [--profile P] [--epochs N] [--seed S]
                    [--option KEY=VALUE ...] [--val [FRACTION]] --out RUN
    hybridvid course run [--profile P] [--only 00,01] [--out DIR] [-p KEY VALUE ...] [--seeds 0,1,2] [--resume [DIR]]
                         [--jobs N|auto]
    hybridvid course render [--only 00,01] [--profile cpu] [--seed 0] [--from RUN_DIR]
    hybridvid exercises sync|check

User mistakes (a path that does not exist, a folder with no dataset, an unknown name)
print one sentence on stderr and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

from hybridvid_lib.config import PROFILES
from hybridvid_lib.data.flow_methods import FLOW_METHODS
from hybridvid_lib.errors import HybridVidError
from hybridvid_lib.scale import JIT_COMPILE, PRECISIONS
from hybridvid_lib.schedules import LR_SCHEDULES


class _Parser(argparse.ArgumentParser):
    """argparse with the kit's error style: one sentence on stderr, exit status 2, no usage block.

    argparse prints the whole usage of a command before its error; a learner then has to find the
    one line that matters. The message keeps argparse's words (they name the option and, for a
    choice, list the allowed values) and points at ``--help`` for the rest.
    """

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(2, f"{self.prog}: error: {message.rstrip('.')}; see `{self.prog} --help`.\n")


class _NamesFrom(Sequence[str]):
    """Allowed values that live in a module the parser must not import while it is being built.

    The dataset readers and the StickActions generator load OpenCV, and ``hybridvid doctor`` has
    to run (and say which OpenCV wheel to remove) when ``import cv2`` fails. argparse reads
    ``choices`` only to check a value given on the command line or to print help (with ``metavar``
    set the usage line does not list them), so the module is imported then, by the commands that
    need it anyway.
    """

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def _names(self) -> tuple[str, ...]:
        return tuple(getattr(importlib.import_module(self.module), self.name))

    def __getitem__(self, index: int) -> str:
        return self._names()[index]

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


DATA_FORMATS = _NamesFrom("hybridvid_lib.data.datasets", "KNOWN_FORMATS")
NTU_PROTOCOLS = _NamesFrom("hybridvid_lib.data.datasets.ntu", "PROTOCOLS")
STICKACTIONS_PRESETS = _NamesFrom("hybridvid_lib.data.synth.presets", "PRESETS")
DOWNLOADABLE = _NamesFrom("hybridvid_lib.data.download", "DOWNLOADABLE")


def _add_dataset_args(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument("--format", required=required, choices=DATA_FORMATS, metavar="FORMAT",
                   help="dataset layout: %(choices)s")
    p.add_argument("--root", required=required, type=Path,
                   help="folder the dataset (or its official archives) was extracted into")
    p.add_argument("--videos", type=Path, default=None,
                   help="video folder, if not the standard one below --root (UCF-101/, hmdb51_org/)")
    p.add_argument("--splits", type=Path, default=None,
                   help="split-list folder, if not the standard one (ucfTrainTestlist/, testTrainMulti_7030_splits/)")
    p.add_argument("--split", type=int, default=1, help="official split number, 1-3 (default 1)")
    # NTU RGB+D only; other formats refuse them (load_dataset) rather than silently ignore them.
    p.add_argument("--skeletons", type=Path, default=None,
                   help="ntu: folder of .skeleton files, if not the standard one below --root (nturgb+d_skeletons/)")
    p.add_argument("--protocol", default=None, choices=NTU_PROTOCOLS, metavar="PROTOCOL",
                   help="ntu: evaluation protocol, %(choices)s (cross-subject, cross-view, cross-setup; "
                        "default xsub); other formats use --split")


def _load(args: argparse.Namespace, *, check_videos: bool = True, progress: bool = False):
    from hybridvid_lib.data.datasets import load_dataset

    return load_dataset(args.format, args.root, videos=args.videos, splits=args.splits,
                        split=args.split, check_videos=check_videos, progress=progress,
                        protocol=getattr(args, "protocol", None), skeletons=getattr(args, "skeletons", None))


# --------------------------------------------------------------------------- handlers
def cmd_doctor(args: argparse.Namespace) -> int:
    from hybridvid_lib.doctor import report

    text, ok = report()
    print(text)
    return 0 if ok else 1


def cmd_data_synth(args: argparse.Namespace) -> int:
    from hybridvid_lib.data.synth import generate_stickactions

    summary = generate_stickactions(args.out, preset=args.preset, seed=args.seed,
                                    force=args.force, progress=not args.quiet)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(summary.get("message", f"StickActions written to {args.out}"))
    return 0


def _name_values(option: str, pairs: Sequence[str], kind: Callable[[str], object]) -> dict:
    """``["A.rar=12", ...]`` -> ``{"A.rar": 12}``; a malformed pair is one sentence."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            if not (sep and name):
                raise ValueError
            values[name] = kind(value)
        except ValueError:
            raise HybridVidError(f"{option} {pair} is not NAME=VALUE; expected for example "
                                 f"{option} UCF101.rar={'<bytes>' if kind is int else '<64 hex digits>'}.") from None
    return values


def cmd_data_download(args: argparse.Namespace) -> int:
    from hybridvid_lib.data.download import download_dataset

    log = (lambda message: print(message, file=sys.stderr, flush=True)) if args.json else print
    summary = download_dataset(
        args.dataset, args.to, base_url=args.url, sizes=_name_values("--size", args.size, int),
        sha256s=_name_values("--sha256", args.sha256, str), delete_archives=args.delete_archives,
        progress=not args.quiet, retries=args.retries, log=log)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{args.dataset} is ready in {summary['root']}; read it with: {summary['inspect']}")
    return 0


def cmd_data_inspect(args: argparse.Namespace) -> int:
    ds = _load(args, check_videos=not args.no_check, progress=not args.json)
    summary = ds.summary()
    protocol = ds.metadata.get("protocol")  # NTU RGB+D splits by protocol, not by split number
    if protocol:
        summary["protocol"] = protocol
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    which, items = (f"protocol {protocol}", "samples") if protocol else (f"split {summary['split']}", "videos")
    print(f"{summary['format']} {which}: {summary['num_classes']} classes, "
          f"{summary['train']} train / {summary['test']} test / {summary['unused']} unused {items} listed "
          f"({summary['train_groups']} train groups, {summary['test_groups']} test groups)")
    print(f"{'skeleton folder' if protocol else 'video root'}: {summary['video_root']}")
    for key in ("missing", "unreadable", "refused"):
        items = summary[key]
        if key == "refused" and not items:
            continue  # only a list that leads out of the dataset has refused entries
        print(f"{key}: {len(items)}" + ("" if not items else ":"))
        for item in items[:20]:
            print(f"  {item}")
        if len(items) > 20:
            print(f"  ... and {len(items) - 20} more (use --json for the full list)")
    if summary["mirror_pairs"]:
        print("mirror pairs (a horizontal flip swaps them): "
              + ", ".join(" / ".join(p) for p in summary["mirror_pairs"]))
    if summary["reverse_pairs"]:
        print("time-reversed pairs: " + ", ".join(" / ".join(p) for p in summary["reverse_pairs"]))
    for note in summary["notes"]:
        print(f"note: {note}")
    return 0


def cmd_data_flow(args: argparse.Namespace) -> int:
    from hybridvid_lib.data.flow import compute_flow_cache, default_flow_cache_dir

    ds = _load(args, check_videos=True, progress=False)
    subsets = [s for s in args.subsets.split(",") if s]
    records, skipped = [], []
    for name in subsets:
        records += ds.usable(name)
        skipped += ds.skipped(name)
    if skipped and args.strict:
        raise HybridVidError(
            f"{len(skipped)} listed videos are missing or unreadable (first: {skipped[0]['video']}); "
            "drop --strict to skip them with a warning."
        )
    for s in skipped:
        print(f"warning: skipping {s['video']} ({s['reason']})", file=sys.stderr)
    cache = args.cache or default_flow_cache_dir(ds, args.method, args.size)
    report = compute_flow_cache(records, cache, method=args.method, size=args.size,
                                progress=not args.json)
    report["skipped"] = skipped
    # The run's record of what was left out (missing, unreadable, failed), beside the cache it filled.
    from hybridvid_lib.data.flow_cache import FlowCache
    from hybridvid_lib.io_utils import atomic_write_json

    atomic_write_json(FlowCache(cache, args.method, args.size).root / "last_run.json", report)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"optical flow ({args.method}, short side {args.size}) in {cache}: "
              f"{report['computed']} computed, {report['cached']} already cached, "
              f"{len(report['failed'])} failed, {len(skipped)} skipped")
    return 0 if not report["failed"] else 1


def cmd_bench_pipeline(args: argparse.Namespace) -> int:
    from hybridvid_lib.bench import bench_pipeline, format_bench

    result = bench_pipeline(root=args.root, num_videos=args.videos, epochs=args.epochs,
                            num_frames=args.frames, frame_size=args.size, progress=not args.json)
    print(json.dumps(result, indent=2) if args.json else format_bench(result))
    return 0


def cmd_bench_models(args: argparse.Namespace) -> int:
    from hybridvid_lib.bench_models import bench_models, format_bench_models

    names = [name.strip() for name in (args.models or "").split(",") if name.strip()]
    result = bench_models(names or None, profile=args.profile, batch_size=args.batch_size, steps=args.steps,
                          progress=not args.json, precision=args.precision, jit_compile=args.xla,
                          frame_size=args.frame_size)
    print(json.dumps(result, indent=2) if args.json else format_bench_models(result))
    return 0


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def cmd_train(args: argparse.Namespace) -> int:
    from hybridvid_lib.training import train_command

    return train_command(args)


def cmd_course_run(args: argparse.Namespace) -> int:
    from hybridvid_lib.course import course_run_command

    return course_run_command(args)


def cmd_course_render(args: argparse.Namespace) -> int:
    from hybridvid_lib.config import project_root
    from hybridvid_lib.course.catalog import find_notebooks, parse_only, select_notebooks
    from hybridvid_lib.course.render import render_notebooks

    folder = (project_root() or Path.cwd()) / "notebooks"
    notebooks = select_notebooks(find_notebooks(folder), parse_only(args.only))
    source = Path(args.from_run) if args.from_run else None
    for path in render_notebooks(notebooks, profile=args.profile, seed=args.seed, from_run=source):
        print(f"rendered {path.name} ({args.profile} profile, seed {args.seed})")
    return 0


def cmd_exercises(args: argparse.Namespace) -> int:
    from hybridvid_lib.config import project_root
    from hybridvid_lib.exercises import check_exercises, sync_exercises

    root = args.root or project_root() or Path.cwd()
    if args.exercises_command == "sync":
        written = sync_exercises(root)
        print(f"{len(written)} student notebook(s) written from exercises/solutions/")
        return 0
    drift = check_exercises(root)
    for name in drift:
        print(f"out of date: {name}")
    print("student copies match their solutions" if not drift
          else "run `hybridvid exercises sync` to regenerate them")
    return 1 if drift else 0


def cmd_features_extract(args: argparse.Namespace) -> int:
    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.models.extractors import extract_dataset_features, feature_settings

    settings = feature_settings(resolve_settings(args.profile), args.frames)  # longer clips than training's
    ds = _load(args, progress=sys.stderr.isatty())
    if args.weights is None and not args.json:
        print(f"hybridvid features: no --weights, so these are features of an untrained {args.model} (a baseline).",
              flush=True)
    summary = extract_dataset_features(args.model, ds, settings, args.out, weights=args.weights,
                                       progress=sys.stderr.isatty())
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{args.model} features ({summary['dim']} per step) in {summary['cache']}: {summary['computed']} "
              f"computed, {summary['cached']} already there, {len(summary['skipped'])} unreadable"
              + (f" ({', '.join(item['video'] for item in summary['skipped'][:5])})" if summary["skipped"] else ""))
    return 0


def cmd_models_import_i3d(args: argparse.Namespace) -> int:
    from hybridvid_lib.models.i3d_checkpoint import import_i3d_to_file

    summary = import_i3d_to_file(args.checkpoint, args.stream, args.out)
    print(f"I3D {summary['stream']} stream, {summary['num_classes']} classes, {summary['params']:,} parameters "
          f"-> {summary['out']} (outputs probs, logits, features)")
    return 0


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hybridvid", description="HybridVid course kit: data, training and the course runner.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("doctor", help="check the installation: versions, OpenCV build, GPU")
    p.set_defaults(func=cmd_doctor)

    data = sub.add_parser("data", help="build, inspect and preprocess datasets")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    p = dsub.add_parser("synth", help="generate the StickActions dataset")
    p.add_argument("--out", required=True, type=Path, help="folder to write the dataset into")
    p.add_argument("--preset", default="default", choices=STICKACTIONS_PRESETS, metavar="PRESET",
                   help="StickActions preset: %(choices)s (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="rebuild even if a complete copy is there")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_data_synth)

    p = dsub.add_parser(
        "download", help="download, verify and extract UCF101 or HMDB51 (resumable)",
        description="Download the official archives of a dataset into --to, check them, and extract them into "
                    "the layout `hybridvid data inspect --format DATASET --root DIR` reads. An interrupted run "
                    "continues where it stopped; a finished one does nothing.")
    p.add_argument("dataset", choices=DOWNLOADABLE, metavar="DATASET", help="%(choices)s")
    p.add_argument("--to", required=True, type=Path, metavar="DIR", help="folder to download and extract into")
    p.add_argument("--url", default=None, metavar="BASE",
                   help="fetch every archive from BASE/<archive name> instead of the official site (a mirror)")
    p.add_argument("--size", action="append", default=[], metavar="NAME=BYTES",
                   help="expected size of archive NAME (repeatable); the command prints the values to pin")
    p.add_argument("--sha256", action="append", default=[], metavar="NAME=HEX",
                   help="expected sha256 of archive NAME (repeatable)")
    p.add_argument("--delete-archives", action="store_true", help="delete each archive once extracted")
    p.add_argument("--retries", type=int, default=3, help="retries of a dropped connection (default 3)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print a JSON summary (messages go to stderr)")
    p.set_defaults(func=cmd_data_download)

    p = dsub.add_parser("inspect", help="count classes and videos; list missing and unreadable ones")
    _add_dataset_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-check", action="store_true",
                   help="do not open every video (unreadable is then left empty)")
    p.set_defaults(func=cmd_data_inspect)

    p = dsub.add_parser("flow", help="compute and cache optical flow (resumable)")
    _add_dataset_args(p)
    p.add_argument("--method", default="dis", choices=FLOW_METHODS)
    p.add_argument("--size", type=int, default=64, help="short side at which flow is computed")
    p.add_argument("--cache", type=Path, default=None, help="cache folder (default: beside the dataset)")
    p.add_argument("--subsets", default="train,test", help="comma-separated: train,test,unused")
    p.add_argument("--strict", action="store_true", help="fail on missing or unreadable videos")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_data_flow)

    p = sub.add_parser("train", help="train a registered model on a dataset; resumes from the last checkpoint")
    p.add_argument("--model", required=True, help="registered model name (e.g. cnn_lstm); a wrong name lists them")
    _add_dataset_args(p, required=False)  # not needed by --list-options; train_command checks them
    p.add_argument("--profile", default=None, choices=tuple(PROFILES),
                   help="settings profile (default: $HYBRIDVID_PROFILE, else cpu)")
    p.add_argument("--epochs", type=int, default=None, help="override the profile's number of epochs")
    p.add_argument("--batch-size", type=int, default=None, help="override the profile's batch size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--strict", action="store_true", help="fail on missing or unreadable videos instead of skipping")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a model builder option, e.g. --option lstm_units=64 --option filters=[8,16] "
                        "(repeatable; values read as YAML; `hybridvid train --model M --list-options` shows them)")
    p.add_argument("--list-options", action="store_true", help="print the model's options and defaults, then exit")
    p.add_argument("--val", type=float, nargs="?", const=0.2, default=None, metavar="FRACTION",
                   help="hold out whole groups of the training list (default fraction 0.2) as a validation "
                        "split, evaluated after every epoch")
    p.add_argument("--init-from", type=Path, default=None, metavar="FILE.keras",
                   help="start from a saved model's weights (e.g. Kinetics I3D imported with `hybridvid models "
                        "import-i3d`), with a new classifier sized to the dataset")
    p.add_argument("--recipe", default=None, metavar="NAME",
                   help="a published training recipe over the profile: i3d_finetune (64 frames at 224 px, SGD "
                        "momentum 0.9; for the gpu profile)")
    p.add_argument("--features", type=Path, default=None, metavar="DIR",
                   help="for the heads on feature sequences (i3d_lstm ... hybrid): the cache folder that "
                        "`hybridvid features extract --out DIR` filled for i3d_rgb and i3d_flow")
    p.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default=None,
                   help="devices to train on: one (default), every local GPU or logical CPU (mirrored), or the "
                        "machines in TF_CONFIG (multiworker; worker 0 writes checkpoints and metrics)")
    p.add_argument("--precision", choices=("float32", "mixed_float16", "mixed_bfloat16", "auto"), default=None,
                   help="number format (default: the profile's; gpu: auto = mixed_float16 on a GPU)")
    p.add_argument("--xla", choices=("auto", "on", "off"), default=None,
                   help="XLA compilation of the training step (default auto: on with a GPU, off on a CPU)")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=None,
                   help="learning rate over the epochs (default: the profile's, cosine: from the profile's rate "
                        "down to 0 after the last epoch)")
    p.add_argument("--out", type=Path, help="run folder: checkpoints, history, metrics.json")
    p.set_defaults(func=cmd_train)

    course = sub.add_parser("course", help="run the course notebooks with papermill and write a report")
    csub = course.add_subparsers(dest="course_command", required=True, metavar="ACTION")
    p = csub.add_parser("run", help="execute the notebooks, one run per notebook and seed")
    p.add_argument("--profile", default=None, choices=tuple(PROFILES),
                   help="settings profile (default: gpu if one is visible, else cpu)")
    p.add_argument("--only", default=None, help="comma-separated notebook numbers, e.g. 00,01")
    p.add_argument("--out", type=Path, default=None, help="output folder (default runs/<timestamp>)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="notebook parameter passed to every notebook (repeatable)")
    p.add_argument("--seeds", default=None, help="comma-separated seeds (default: the profile's seeds)")
    p.add_argument("--resume", nargs="?", const=True, default=None, type=Path, metavar="DIR",
                   help="continue a stopped course run in DIR (default runs/latest): keep its ok and skipped "
                        "runs, execute the missing and failed ones")
    p.add_argument("--jobs", default="auto", metavar="N",
                   help="runs at once, each in its own process with its share of the cores (default auto: 1 in "
                        "the gpu profile, else half the cores, 2 on 2 cores); a run waits for those it reads")
    p.set_defaults(func=cmd_course_run)

    ex = sub.add_parser("exercises", help="generate student notebooks from the solutions, or check they match")
    esub = ex.add_subparsers(dest="exercises_command", required=True, metavar="ACTION")
    for name, text in (("sync", "(re)write exercises/*.ipynb from exercises/solutions/"),
                       ("check", "exit 1 when a student copy differs from what sync would write")):
        p = esub.add_parser(name, help=text)
        p.add_argument("--root", type=Path, default=None, help="project folder holding exercises/")
        p.set_defaults(func=cmd_exercises)

    p = csub.add_parser("render", help="store the outputs of one run (cpu profile, seed 0) in the notebooks, "
                                       "cleaned of paths, timings and stderr")
    p.add_argument("--only", default=None, help="comma-separated notebook numbers, e.g. 00,01")
    p.add_argument("--profile", default="cpu", choices=tuple(PROFILES), help="the run's profile (default cpu)")
    p.add_argument("--seed", type=int, default=0, help="the run's seed (default 0)")
    p.add_argument("--from", dest="from_run", default=None, metavar="RUN_DIR",
                   help="take the executed notebooks of a course run (e.g. runs/latest) instead of running them")
    p.set_defaults(func=cmd_course_render)

    features = sub.add_parser("features", help="extract per-video feature sequences into a cache")
    fsub = features.add_subparsers(dest="features_command", required=True, metavar="ACTION")
    p = fsub.add_parser("extract", help="run a model's 'features' output over every video (resumable)")
    p.add_argument("--model", required=True, help="a model with a 'features' output: i3d_rgb or i3d_flow")
    p.add_argument("--weights", type=Path, default=None, metavar="FILE.keras",
                   help="that model's weights (a run's model.keras or an imported checkpoint); default untrained")
    _add_dataset_args(p)
    p.add_argument("--profile", default=None, choices=tuple(PROFILES),
                   help="clip settings (frames, size; default: $HYBRIDVID_PROFILE, else cpu)")
    p.add_argument("--out", required=True, type=Path, help="cache root; features go to OUT/<model>/")
    p.add_argument("--frames", type=int, default=None,
                   help="frames per clip (default: the profile's feature clip, 16 smoke / 40 cpu / 64 gpu: "
                        "one feature step per 8 frames)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_features_extract)

    models = sub.add_parser("models", help="list the registered models; import released weights")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    p = msub.add_parser("import-i3d", help="a released Kinetics I3D TensorFlow checkpoint -> a .keras model")
    p.add_argument("--checkpoint", required=True, metavar="PREFIX",
                   help="checkpoint path without .index, e.g. data/checkpoints/rgb_imagenet/model.ckpt")
    p.add_argument("--stream", required=True, choices=("rgb", "flow"), help="which stream the checkpoint holds")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.keras", help="the Keras model to write")
    p.set_defaults(func=cmd_models_import_i3d)

    bench = sub.add_parser("bench", help="benchmarks (figures, not tests)")
    bsub = bench.add_subparsers(dest="bench_command", required=True, metavar="WHAT")
    p = bsub.add_parser("pipeline", help="naive OpenCV generator vs. the cached tf.data pipeline; flow fps")
    p.add_argument("--root", type=Path, default=None,
                   help="a StickActions folder to read (default: build a small one in a temp folder)")
    p.add_argument("--videos", type=int, default=48, help="number of videos to read")
    p.add_argument("--epochs", type=int, default=3, help="epochs of the tf.data pipeline (first + cached)")
    p.add_argument("--frames", type=int, default=16, help="frames per clip")
    p.add_argument("--size", type=int, default=64, help="clip frame size")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench_pipeline)
    p = bsub.add_parser("models", help="params, FLOPs, training and inference clips/s per model; the matmul rate")
    p.add_argument("--models", default=None, metavar="A,B",
                   help="comma-separated model names (default: every registered model)")
    p.add_argument("--profile", default=None, choices=tuple(PROFILES),
                   help="clip sizes and batch of this profile (default: $HYBRIDVID_PROFILE, else cpu)")
    p.add_argument("--batch-size", type=_at_least_one, default=None, help="override the profile's batch size")
    p.add_argument("--frame-size", type=_at_least_one, default=None, metavar="PX",
                   help="override the profile's clip side in pixels")
    p.add_argument("--precision", default=None, choices=PRECISIONS,
                   help="build and train under this policy (default: the profile's; auto picks by device)")
    p.add_argument("--xla", default=None, choices=JIT_COMPILE,
                   help="XLA for the training step (default: the profile's, auto: on with a GPU only)")
    p.add_argument("--steps", type=_at_least_one, default=5,
                   help="timed steps per model for training and for inference (after 2 warm-up steps)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except HybridVidError as err:
        print(f"hybridvid: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hybridvid: interrupted; finished work is kept and the next run continues from it.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
