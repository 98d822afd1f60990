"""The one exception type the CLI turns into a clear message and a non-zero exit."""


class PipelineError(Exception):
    """A problem the user can fix: bad input, missing credentials, a full quota.

    The message must say what was expected, what was found and where (file, row, column or
    field), and ideally what to do. The CLI prints it as ``error: <message>`` and exits 1.
    """
