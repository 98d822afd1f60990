"""Commands: the tools beside the DVC stages (``submit``, ``scores``, ``score``, ``experiments``).

Thin scripts over the domain packages, like the stages. The top layer, with ``stages``: a command
may import any domain package and ``pipeline.core``, never a stage.
"""
