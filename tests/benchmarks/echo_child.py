"""A child program for tests/benchmarks/test_harness.py: it reports what it was started with.

    python echo_child.py [ARG ...]      (through harness.child_result)

Prints, through harness.send_result, its arguments, its PYTHONPATH and the environment
variables child_result sets; with the argument "fail" it exits with an error instead.
"""

from __future__ import annotations

import os
import sys

from harness import THREAD_VARIABLES, send_result

import cnnlib  # noqa: F401 (child_result checks which cnnlib a child imported)

if __name__ == "__main__":
    if "fail" in sys.argv[1:]:
        raise SystemExit("no data here")
    names = (*THREAD_VARIABLES, "CNNLIB_WINOGRAD", "BENCH_TEST", "BENCH_GONE")
    send_result({"args": sys.argv[1:], "path": os.environ["PYTHONPATH"].split(os.pathsep),
                 "env": {name: os.environ.get(name) for name in names}})
