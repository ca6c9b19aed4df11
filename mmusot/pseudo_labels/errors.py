# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The errors of the pseudo-label domain: one base type, one exit code each.

Everything :mod:`mmusot.pseudo_labels` raises on purpose is a
:class:`PseudoLabelError`, so a caller (the converters, ``mmusot-demo``)
catches one type; the message says what is wrong and what to do, and
``exit_code`` is the status the command-line tools exit with. The
subclasses keep their older base classes (``ValueError``,
``RuntimeError``) for code that catches those.
"""


class PseudoLabelError(Exception):
    """A pseudo-label input, output folder or file cannot be used.

    Attributes:
        exit_code (int): the exit status of a command that stops on it.
    """

    exit_code = 1


class InputError(PseudoLabelError):
    """The videos to convert are missing, or the output is the input."""


class VideoReadError(PseudoLabelError, RuntimeError):
    """A video or frame folder cannot be read; the message names it."""


class AnnotationError(PseudoLabelError, ValueError):
    """A pseudo-label annotation file holds a bad box line.

    The message names the file, the 1-based line number and the problem.
    """


class SettingsMismatchError(PseudoLabelError, RuntimeError):
    """An output folder was made with other settings than this run's."""

    exit_code = 2


class OutputLockedError(PseudoLabelError, RuntimeError):
    """Another converter is writing the same videos of an output folder."""

    exit_code = 3
