"""Two processes with DistributedDataParallel compute the gradient of one process.

Runs tools/ddp_step.py (gloo backend, loopback only, a free port) on random pixels, in a
subprocess with a time limit, and reads the JSON it prints last.
"""

import json
import subprocess
import sys

import pytest
from conftest import REPO_ROOT
from optional import require_torch

require_torch()

SCRIPT = REPO_ROOT / "tools" / "ddp_step.py"
FLOAT32_NOISE = 1e-5  # relative to the largest gradient


@pytest.fixture(scope="module")
def ddp_result():
    done = subprocess.run([sys.executable, str(SCRIPT), "--synthetic", "--batch", "16",
                           "--timeout", "150"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"ddp_step.py failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ddp_ran_two_processes_that_agree(ddp_result):
    assert ddp_result["world_size"] == 2
    # After the all-reduce every process holds the same averaged gradients, bit for bit.
    assert ddp_result["ranks_agree"]
    # ...while each computed the loss of its own half of the batch.
    assert ddp_result["loss_ranks"][0] != ddp_result["loss_ranks"][1]
    mean_loss = sum(ddp_result["loss_ranks"]) / 2
    assert abs(mean_loss - ddp_result["loss_whole_batch"]) < 1e-5 * ddp_result["loss_whole_batch"]


def test_ddp_gradient_equals_whole_batch_gradient(ddp_result):
    err = ddp_result["running_bn_ddp_vs_whole_batch"]
    assert err < FLOAT32_NOISE, f"DDP vs one process, whole batch: {err:.2e}"


def test_ddp_with_batch_statistics_equals_per_half_normalisation(ddp_result):
    err = ddp_result["batch_bn_ddp_vs_halves"]
    assert err < FLOAT32_NOISE, f"DDP vs one process normalising each half: {err:.2e}"
    # And that is a different computation from normalising the whole batch at once.
    assert ddp_result["batch_bn_ddp_vs_whole_batch"] > 100 * FLOAT32_NOISE
