"""Errors a learner or a user can cause, each with a message that says what was expected.

The command line prints these as one sentence (no traceback); notebooks show them as
ordinary exceptions. Programming errors stay ``ValueError`` / ``TypeError``.
"""


class HybridVidError(Exception):
    """Base class of the kit's user-facing errors."""


class DatasetError(HybridVidError):
    """A dataset root, list file or layout is not what the reader expects."""


class DownloadError(HybridVidError):
    """A dataset archive could not be downloaded, verified or extracted (what to do is in the message)."""


class VideoDecodeError(HybridVidError):
    """A video file is missing, empty, or yields no decodable frame."""


class SettingsError(HybridVidError, ValueError):
    """An unknown profile or setting name, or a setting of the wrong type."""


class ModelError(HybridVidError, ValueError):
    """An unknown model name, or a run folder that holds another model's checkpoint."""


def show_kit_errors_briefly() -> bool:
    """In a notebook, show the kit's errors as one line (``SettingsError: ...``) instead of a traceback.

    A :class:`HybridVidError` is a learner's mistake that its message explains (what was expected,
    what to do); the frames of library code above it only hide that sentence. Other exceptions keep
    their full traceback. The cell still fails, so papermill and ``Run All`` stop there as before.
    Outside IPython this does nothing.

    Returns:
        True when a notebook kernel (IPython) is running and the display was installed.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False

    def one_line(shell, etype, value, tb, tb_offset=None):
        lines = [f"{etype.__name__}: {value}"]
        # IPython only collects what a custom handler returns; showing it (and sending it to the
        # notebook as the cell's error output, with ename and evalue) is _showtraceback's job.
        shell._showtraceback(etype, value, lines)
        return lines

    shell.set_custom_exc((HybridVidError,), one_line)
    return True
