"""Report: the offline report, figures and one self-contained HTML page, no network needed to view them.

- ``tables``: read the train stage's CSV/JSON outputs, with errors that name file, line and column.
- ``analysis``: pure functions on arrays: confusion counts, per-class scores, worst mistakes,
  first-layer weights as images.
- ``figures``: one matplotlib figure per picture, rendered to deterministic PNG bytes.
- ``page``: the HTML page with every image embedded as a data: URI.
- ``study_figures``: the hyperparameter study ``tune`` exported, read and drawn with Optuna's plots.

May import ``pipeline.core``, ``pipeline.submissions`` (the ledger's rows), ``pipeline.model`` and
``pipeline.tuning`` (the study export's reader);
never the stages or commands.
"""
