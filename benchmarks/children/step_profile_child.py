"""cProfile of cnnlib training steps, in CPU time, with one thread.

    harness.child_result("step_profile_child.py", ["--steps", S, "--top", T], threads=1)

cProfile sees only the main thread, so the parent gives this process one thread for
everything: the same work as with more, all of it in the profiled thread. One step warms
up; S steps are profiled; the T functions with the most own time are listed.

Prints {"text": the listing}; bench_step.profile runs it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

from contenders import cnnlib_network, cnnlib_training_step, training_batch
from harness import BATCH, send_result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args()
    images, labels = training_batch()
    step = cnnlib_training_step(cnnlib_network(seed=0))
    step(images, labels)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(args.steps):
        step(images, labels)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(args.top)
    send_result({"text": f"cProfile of {args.steps} cnnlib training steps (batch {BATCH}, one "
                 "thread, CPU time). Matrix products written with @ count in the own time "
                 "(tottime) of the function that contains them: forward_chunk (conv forward), "
                 "weight_grads (conv weight gradient).\n" + out.getvalue()})


if __name__ == "__main__":
    main()
