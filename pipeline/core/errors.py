"""The one exception type the CLI turns into a clear message and a non-zero exit."""


class PipelineError(Exception):
    """A problem the user can fix: bad input, missing credentials, a full quota.

    The message must say what was expected, what was found and where (file, row, column or
    field), and ideally what to do. The CLI prints it as ``error: <message>`` and exits 1.
    """


class InvalidParameter(PipelineError, ValueError):
    """A parameter value its rule refuses (``pipeline.core.param_rules``): from params.yaml, the
    CLI prints it as any ``PipelineError``; from ``DigitNetClassifier``, it is the ``ValueError``
    scikit-learn's conventions expect."""


class PipelineWarning(UserWarning):
    """Something the user should know that does not stop the work (a GPU that failed its self-check, so
    training runs on the CPU). The CLI prints it as one line, ``warning: <message>``."""
