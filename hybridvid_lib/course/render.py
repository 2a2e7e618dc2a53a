"""``hybridvid course render``: the committed notebooks carry the figures and numbers of one real run.

A learner reading a notebook on the web should see the lesson without running it. This module
takes one executed run of each notebook (profile ``cpu`` and seed 0 by default: the profile
whose numbers mean something on a laptop), either by executing it with papermill or from a
course run folder (``--from runs/latest``), and writes back the *source* notebook with every
code cell's outputs from that run, cleaned so the file reads the same on every machine:

- stderr streams removed (TensorFlow's C-level notices; nbval never sees them, see ``PITFALLS.md``);
- timings removed from Keras' progress lines (``- 3s - 86ms/step``): they differ on every machine;
- a kept output whose text (not its image data) holds an absolute path is refused: print paths
  relative to the notebook;
- PNG figures re-encoded with a 256-colour palette (plots need no more), and the whole file
  refused above :data:`MAX_NOTEBOOK_BYTES`;
- execution counts numbered by position among the code cells, no papermill metadata, no
  injected-parameters cell.

The tests run the notebooks in the ``smoke`` profile with ``nbval --nbval-lax``, which compares only
the cells tagged ``nbval-check-output``: those cells must print profile-independent facts (the
classes, the pairs, sampling rules), so the ``cpu`` outputs stored here match a ``smoke`` run.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Sequence

import nbformat

from hybridvid_lib.course.catalog import CourseError
from hybridvid_lib.io_utils import atomic_write_text

CHECKED_TAG = "nbval-check-output"
DEFAULT_PROFILE = "cpu"
MAX_NOTEBOOK_BYTES = 2 * 1024 * 1024
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.-]+/){2,}[\w.-]+")
# Keras' per-epoch line: "36/36 - 3s - 86ms/step - accuracy: ..." (and "1s 20ms/step" in bars).
_KERAS_TIMING = re.compile(r"(?: - |\s)\d+(?:\.\d+)?m?s(?: - \d+(?:\.\d+)?[mµu]?s/step|/step)?(?= - |\s|$)")


def scrub_text(text: str) -> str:
    """Keras' timing fields removed from a printed text, nothing else changed."""
    lines = []
    for line in text.split("\n"):
        if "/step" in line or re.match(r"^\s*\d+/\d+ - \d", line):
            line = _KERAS_TIMING.sub("", line)
        lines.append(line)
    return "\n".join(lines)


def compress_png(data: str) -> str:
    """A base64 PNG re-encoded with an adaptive 256-colour palette; the original if that is not smaller.

    Plots need no more than 256 colours, and the palette makes a figure 2-4 times smaller.
    """
    from PIL import Image

    raw = base64.b64decode(data)
    palette = Image.open(io.BytesIO(raw)).convert("RGB").quantize(
        colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    packed = out.getvalue()
    return base64.b64encode(packed).decode("ascii") if len(packed) < len(raw) else data


def _text_of(outputs: list) -> str:
    """What a reader sees as text in some outputs: streams, plain text, HTML, tracebacks (no image data)."""
    parts = []
    for output in outputs:
        parts.append("".join(output.get("text", "")))
        for key, value in (output.get("data") or {}).items():
            if key.startswith("text/") or key.endswith("json"):
                parts.append(value if isinstance(value, str) else json.dumps(value))
        parts.extend(output.get("traceback", []))
    return "\n".join(parts)


def _kept_outputs(outputs: list) -> list:
    kept = []
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            continue
        output = copy.deepcopy(output)
        if "execution_count" in output:
            output["execution_count"] = None
        if output.get("output_type") == "stream":
            output["text"] = scrub_text("".join(output.get("text", "")))
        data = output.get("data") or {}
        if "text/plain" in data:
            data["text/plain"] = scrub_text("".join(data["text/plain"]))
        if "image/png" in data:
            data["image/png"] = compress_png("".join(data["image/png"]).replace("\n", ""))
        kept.append(output)
    return kept


def merge_rendered(source: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The source notebook with every code cell's outputs taken (cleaned) from ``executed``.

    Cells are matched by their ids (papermill keeps them and adds an ``injected-parameters``
    cell, which is left out). Raises :class:`CourseError` when a code cell has no executed
    counterpart or a kept output holds an absolute path.
    """
    by_id = {cell.get("id"): cell for cell in executed.cells}
    rendered = copy.deepcopy(source)
    code_cells = [cell for cell in rendered.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        ran = by_id.get(cell.get("id"))
        if ran is None:
            raise CourseError(f"Cell {cell.get('id')!r} was not found in the executed notebook; "
                              "cells need stable ids (nbformat 4.5), and the run must be of this notebook.")
        cell.outputs = _kept_outputs(ran.get("outputs", []))
        # nbval treats a cell with outputs but no execution count as "unrun"; number it by
        # its position so the file does not change from one render to the next.
        cell.execution_count = number if cell.outputs else None
        match = _ABSOLUTE_PATH.search(_text_of(cell.outputs))
        if match:
            raise CourseError(f"Cell {cell.get('id')!r} prints an absolute path ({match.group(0)}); print a "
                              "relative one so the committed output is the same everywhere.")
    rendered.metadata.pop("papermill", None)
    size = len(nbformat.writes(rendered).encode("utf-8"))
    if size > MAX_NOTEBOOK_BYTES:
        raise CourseError(f"The rendered notebook would be {size / 1e6:.1f} MB; keep it under "
                          f"{MAX_NOTEBOOK_BYTES / 1e6:.1f} MB (fewer or smaller figures).")
    return rendered


def executed_in_run(run_dir: Path, notebook: Path, *, profile: str, seed: int) -> Path:
    """The executed copy of ``notebook`` in a course run folder, checked to be of ``profile``.

    Raises:
        CourseError: the folder is not a course run of that profile, or it has no finished run
            of this notebook and seed.
    """
    results_path = Path(run_dir) / "results.json"
    if not results_path.is_file():
        raise CourseError(f"{run_dir} is not a course run folder (no results.json); run `hybridvid course run`.")
    results = json.loads(results_path.read_text(encoding="utf-8"))
    if results.get("profile") != profile:
        raise CourseError(f"{run_dir} is a {results.get('profile')!r} course run; rendering needs a {profile!r} one.")
    for run in results.get("runs", []):
        if run.get("notebook") == notebook.stem and run.get("seed") == seed:
            if run.get("status") != "ok":
                raise CourseError(f"The run of {notebook.stem} seed {seed} in {run_dir} did not finish ok "
                                  f"({run.get('status')}); rerun it before rendering.")
            return Path(run_dir) / run["executed_notebook"]
    raise CourseError(f"{run_dir} holds no run of {notebook.stem} with seed {seed}.")


def render_notebooks(notebooks: Sequence[Path], *, profile: str = DEFAULT_PROFILE, seed: int = 0,
                     from_run: Path | None = None, kernel_name: str = "python3", data_dir: Path | None = None,
                     timeout: int | None = 1800) -> list[Path]:
    """Store the cleaned outputs of one run (``profile``, ``seed``) of each notebook in place.

    Args:
        notebooks: the source notebooks to rewrite.
        profile, seed: the run whose outputs are kept.
        from_run: a course run folder to take the executed notebooks from; ``None`` executes them.
        kernel_name, timeout: papermill's, when executing.
        data_dir: the StickActions folder when executing; ``None``: the profile's default folder
            (a scratch folder for ``smoke``).
    """
    import papermill as pm

    from hybridvid_lib.config import resolve_settings, stickactions_dir
    from hybridvid_lib.data.synth import generate_stickactions

    settings = resolve_settings(profile)
    written = []
    with tempfile.TemporaryDirectory(prefix="hybridvid-render-") as scratch:
        scratch = Path(scratch)
        for path in notebooks:
            path = Path(path)
            if from_run is not None:
                executed_path = executed_in_run(from_run, path, profile=profile, seed=seed)
            else:
                data = data_dir or (scratch / "stickactions-smoke" if profile == "smoke"
                                    else stickactions_dir(settings.dataset_preset))
                generate_stickactions(data, preset=settings.dataset_preset, seed=0, progress=False)
                executed_path = scratch / path.name
                pm.execute_notebook(
                    str(path), str(executed_path), kernel_name=kernel_name, cwd=str(scratch),
                    parameters={"PROFILE": profile, "SEED": seed, "DATA_DIR": str(data),
                                "OUTPUT_DIR": f"outputs/{path.stem}"},
                    progress_bar=False, execution_timeout=timeout,
                )
            source = nbformat.read(path, as_version=4)
            rendered = merge_rendered(source, nbformat.read(executed_path, as_version=4))
            atomic_write_text(path, nbformat.writes(rendered) + "\n")
            written.append(path)
    return written
