"""Where an earlier chapter's outputs live, so a later chapter reuses its trained runs instead of training again.

A notebook writes into its ``OUTPUT_DIR``. Two layouts hold the chapters side by side:

    a course run:       runs/<stamp>/<chapter stem>/seed<S>/       (``hybridvid course run``)
    notebooks by hand:  notebooks/outputs/<chapter stem>/          (the parameters cell's default)

Chapter 08, for instance, evaluates the I3D streams and heads that chapter 07 trained for the same
profile and seed: :func:`earlier_run` finds that run folder in either layout, or says there is none.
"""

from __future__ import annotations

from pathlib import Path


def chapter_output_dirs(output_dir: str | Path, chapter: str) -> list[Path]:
    """The folders where ``chapter`` (a notebook stem, e.g. ``"07_hybrid_attention_center_loss"``) may have
    written its outputs, seen from a notebook whose ``OUTPUT_DIR`` is ``output_dir``; most likely first.

    Example: from ``runs/X/08_evaluation_and_ablation/seed1`` the first candidate is
    ``runs/X/07_hybrid_attention_center_loss/seed1``, then that chapter's other seed folders (a run folder's
    name carries its own seed: chapter 08 fine-tunes the streams of chapter 06's seed 0 whatever its own seed);
    from ``outputs/08_evaluation_and_ablation`` it is ``outputs/07_hybrid_attention_center_loss``.
    """
    output_dir = Path(output_dir)
    candidates = []
    if output_dir.name.startswith("seed"):  # a course run's layout: the same seed of the other chapter first
        other = output_dir.parent.parent / chapter
        candidates.append(other / output_dir.name)
        if other.is_dir():
            candidates += sorted(d for d in other.iterdir() if d.is_dir() and d.name.startswith("seed")
                                 and d.name != output_dir.name)
    candidates.append(output_dir.parent / chapter)
    return candidates


def earlier_run(output_dir: str | Path, chapter: str, run_name: str) -> Path | None:
    """The finished run folder ``<chapter outputs>/runs/<run_name>`` (it holds ``model.keras``), or ``None``."""
    for folder in chapter_output_dirs(output_dir, chapter):
        run = folder / "runs" / run_name
        if (run / "model.keras").is_file():
            return run
    return None
