"""Stages: one thin script per ``dvc.yaml`` stage (fetch, split, train, predict, report).

Each reads its params and paths and calls the domain packages. The top layer, with ``commands``:
a stage may import any domain package and ``pipeline.core``, never a command or another stage.
``dvc.yaml`` lists, for each stage, the folder of every layer it imports (a test checks it).
"""
