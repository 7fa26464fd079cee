"""One training step of the book's reference network with PyTorch DistributedDataParallel.

Two processes on this machine (gloo backend, 127.0.0.1, a free port) each take half of a
batch, run forward and backward on their half, and DDP averages their gradients. Each
process's loss is the mean over its half, so the average of the two gradients is the
gradient of the mean over the whole batch, provided nothing couples the images of a
batch. Batch norm in training mode does: it normalises with the statistics of the batch,
and under DDP each process sees only its own half (PyTorch's `SyncBatchNorm`, which would
share the statistics, runs on GPUs only). So the script runs the step twice:

* "running": batch norm uses its running statistics (as in evaluation). The DDP gradient
  must equal the single-process gradient of the whole batch, up to float32 rounding.
* "batch": batch norm in training mode. The DDP gradient must equal one process that
  normalises each half on its own ("ghost batch norm"), and differs from the whole-batch one.

Dropout is off (p = 0) in both, so every run computes the same function. The last line
printed is JSON with every difference (tests/test_interop.py checks that the PyTorch
network computes what cnnlib's does).

    python tools/ddp_step.py                 # 32 images of the book's data (CNNLIB_DATA)
    python tools/ddp_step.py --synthetic     # random pixels, no data needed

On GPUs the same worker runs with the "nccl" backend, one process per GPU, started by
`torchrun --nproc_per_node=<GPUs>`; on several machines `torchrun --nnodes=<machines>
--node_rank=<i> --rdzv_endpoint=<host:port>`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from cnnlib.interop import to_torch

import cnnlib
from cnnlib.nn.normalization import channel_stats


def free_port() -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BN_MODES = ("running", "batch")


def torch_model(model_file: Path, bn: str) -> torch.nn.Module:
    """The saved cnnlib network as a PyTorch module in training mode, dropout off.

    bn: "running" (batch norm uses its running statistics) or "batch" (batch statistics).
    """
    module = to_torch(cnnlib.load_model(model_file)).train()
    for m in module.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        if isinstance(m, torch.nn.BatchNorm2d) and bn == "running":
            m.eval()
    return module


def loss_and_backward(module: torch.nn.Module, images: np.ndarray,
                      labels: np.ndarray) -> float:
    """Mean cross-entropy of the batch; its gradient lands in the parameters' .grad."""
    x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    loss = torch.nn.functional.cross_entropy(module(x), torch.from_numpy(labels))
    loss.backward()
    return float(loss.item())


def gradients(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {name: p.grad.detach().numpy().copy() for name, p in module.named_parameters()}


def worker(rank: int, world_size: int, port: int, folder: str) -> None:
    """One process of the group: its share of the batch, forward, backward, all-reduce."""
    torch.set_num_threads(1)  # two processes on two cores: one thread each
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size, timeout=dt.timedelta(seconds=60))
    try:
        folder = Path(folder)
        batch = np.load(folder / "batch.npz")
        images, labels = batch["images"], batch["labels"]
        share = len(labels) // world_size  # contiguous shares, as DistributedSampler gives
        mine = slice(rank * share, (rank + 1) * share)
        for bn in BN_MODES:
            ddp = torch.nn.parallel.DistributedDataParallel(torch_model(folder / "model.npz", bn))
            # DDP all-reduces (averages) the gradients while backward runs.
            loss = loss_and_backward(ddp, images[mine], labels[mine])
            np.savez(folder / f"{bn}_rank{rank}.npz", loss=loss, **gradients(ddp.module))
    finally:
        dist.destroy_process_group()


def run_ddp(folder: Path, world_size: int, timeout: float) -> None:
    """Start the processes and wait for them, killing them after `timeout` seconds."""
    port = free_port()
    context = mp.start_processes(worker, args=(world_size, port, str(folder)),
                                 nprocs=world_size, join=False, start_method="spawn")
    deadline = time.monotonic() + timeout
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for p in context.processes:
                p.kill()
            raise TimeoutError(f"the {world_size} DDP processes did not finish in {timeout} s")


def relative_difference(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> float:
    """max |a − b| over every gradient entry, divided by the largest |b| of all of them.

    One scale for all parameters: the conv biases sit right before batch norm, so their
    true gradient is zero and what is computed is rounding noise; a per-parameter ratio
    would divide noise by noise.
    """
    if set(ours) != set(theirs):
        raise ValueError(f"different parameters: {sorted(set(ours) ^ set(theirs))}")
    diff = max(float(np.abs(ours[k] - theirs[k]).max()) for k in theirs)
    return diff / max(float(np.abs(v).max()) for v in theirs.values())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32, help="images in the batch (default 32)")
    parser.add_argument("--world-size", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--synthetic", action="store_true", help="random pixels, not CIFAR-10")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the DDP run")
    args = parser.parse_args(argv)
    if args.batch % args.world_size:
        parser.error(f"--batch {args.batch} must be divisible by --world-size {args.world_size}")
    rng = np.random.default_rng(0)
    if args.synthetic:
        pool = rng.integers(0, 256, (args.batch + 256, 32, 32, 3), dtype=np.uint8)
        pool_labels = rng.integers(0, 10, len(pool))
    else:
        pool, pool_labels, _, _ = cnnlib.load_cifar10(subset="book")
    images, labels = pool[:args.batch], pool_labels[:args.batch].astype(np.int64)
    mean, std = channel_stats(pool)
    model = cnnlib.reference_network(seed=0, mean=mean, std=std)
    # The classifier starts at zero, which would give every layer below it a zero
    # gradient: a comparison with nothing in it. Small random weights instead.
    last = model.layers[-1]
    last.params["weight"][...] = rng.normal(0, 0.05, last.params["weight"].shape)
    # Running statistics worth the name: a few training-mode passes over other images.
    for start in range(args.batch, args.batch + 256, 64):
        model.forward(pool[start:start + 64])

    with tempfile.TemporaryDirectory(prefix="ddp_step_") as tmp:
        folder = Path(tmp)
        cnnlib.save_model(folder / "model.npz", model)
        np.savez(folder / "batch.npz", images=images, labels=labels)
        start = time.perf_counter()
        run_ddp(folder, args.world_size, args.timeout)
        seconds = time.perf_counter() - start
        ddp = {bn: [dict(np.load(folder / f"{bn}_rank{r}.npz")) for r in range(args.world_size)]
               for bn in BN_MODES}

        # The same step in one process: the whole batch at once, and (batch statistics)
        # each process's share normalised on its own, losses averaged.
        torch.set_num_threads(2)
        single, single_loss = {}, {}
        for bn in BN_MODES:
            module = torch_model(folder / "model.npz", bn)
            single_loss[bn] = loss_and_backward(module, images, labels)
            single[bn] = gradients(module)
        halves = torch_model(folder / "model.npz", "batch")
        share = args.batch // args.world_size
        for r in range(args.world_size):
            part = slice(r * share, (r + 1) * share)
            x = torch.from_numpy(np.ascontiguousarray(images[part].transpose(0, 3, 1, 2)))
            loss = torch.nn.functional.cross_entropy(halves(x), torch.from_numpy(labels[part]))
            (loss / args.world_size).backward()
        halves_grads = gradients(halves)

    def grads_of(rank: dict) -> dict[str, np.ndarray]:
        return {k: v for k, v in rank.items() if k != "loss"}

    run, bat = grads_of(ddp["running"][0]), grads_of(ddp["batch"][0])
    result = {
        "world_size": args.world_size, "batch": args.batch,
        "data": "synthetic" if args.synthetic else "cifar10",
        "parameters": int(sum(v.size for v in run.values())),
        "ranks_agree": all(np.array_equal(grads_of(r)[k], grads_of(ranks[0])[k])
                           for ranks in ddp.values() for r in ranks for k in run),
        "running_bn_ddp_vs_whole_batch": relative_difference(run, single["running"]),
        "running_bn_max_abs_diff": max(float(np.abs(run[k] - single["running"][k]).max())
                                       for k in run),
        "batch_bn_ddp_vs_halves": relative_difference(bat, halves_grads),
        "batch_bn_ddp_vs_whole_batch": relative_difference(bat, single["batch"]),
        "loss_whole_batch": single_loss["running"],
        "loss_ranks": [float(r["loss"]) for r in ddp["running"]],
        "loss_whole_batch_batch_bn": single_loss["batch"],
        "ddp_seconds": seconds,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
