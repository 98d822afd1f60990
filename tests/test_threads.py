"""The thread-limit variables: what caps the cores a process uses, and an environment that sets them all."""

from __future__ import annotations

from pipeline.core.threads import THREAD_VARIABLES, available_cores, with_threads


def test_thread_limit_variables_cap_the_cores():
    cores = available_cores({})
    assert cores >= 1
    assert available_cores({"OMP_NUM_THREADS": "1"}) == 1
    assert available_cores({"MKL_NUM_THREADS": "1"}) == 1
    assert available_cores({"OPENBLAS_NUM_THREADS": str(cores + 5)}) == cores
    assert available_cores({"OMP_NUM_THREADS": "", "MKL_NUM_THREADS": "junk", "OPENBLAS_NUM_THREADS": "0"}) == cores


def test_with_threads_sets_every_variable_and_keeps_the_rest():
    env = with_threads({"PATH": "/bin", "OMP_NUM_THREADS": "8"}, 2)
    assert env == {"PATH": "/bin", **{name: "2" for name in THREAD_VARIABLES}}
    assert available_cores(env) <= 2
