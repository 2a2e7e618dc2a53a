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
