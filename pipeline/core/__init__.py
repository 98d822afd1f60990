"""Core: the plumbing every other layer stands on, and nothing about digits, networks or Kaggle.

Owns errors (``PipelineError``), the project's paths, the typed ``params.yaml`` loader and its
defaults, atomic writes, byte-reproducible zip and array files, progress lines, metrics files, numbers
read from environment variables and the UTC timestamp format.
May import only the standard library, third-party packages and other ``pipeline.core`` modules.
"""
