"""The engine: how cnnlib runs fast, never what it computes (the book's appendix).

- `conv`: the convolution drivers (chunks on all cores, the flipped-filter input
  gradient, Winograd where it pays) around `cnnlib.core.functional`'s textbook functions;
- `winograd`: Winograd's F(2×2, 3×3) for 3×3 stride-1 convolutions;
- `reductions`: batch normalization's per-channel sums and affine map on all cores;
- `workers`: chunks of a batch, the worker threads and the BLAS thread settings (the
  engine's only global state).

Book: appendix, "Chunks and cores".
"""

from . import conv, reductions, winograd, workers
from .conv import (
    WINOGRAD_MIN_CHANNELS,
    conv2d_backward,
    conv2d_forward,
    conv2d_input_grad,
    conv2d_weight_grads,
    set_winograd,
    uses_winograd,
    winograd_on,
    winograd_requested,
    winograd_setting,
)
from .reductions import channel_affine, channel_dot, channel_sum
from .workers import (
    CHUNK_BYTES,
    batch_chunks,
    blas_single_threaded,
    blas_thread_counts,
    for_each_chunk,
    worker_count,
)

__all__ = [
    "conv", "reductions", "winograd", "workers",
    "WINOGRAD_MIN_CHANNELS", "conv2d_backward", "conv2d_forward", "conv2d_input_grad",
    "conv2d_weight_grads", "set_winograd", "uses_winograd", "winograd_on",
    "winograd_requested", "winograd_setting",
    "channel_affine", "channel_dot", "channel_sum",
    "CHUNK_BYTES", "batch_chunks", "blas_single_threaded", "blas_thread_counts",
    "for_each_chunk", "worker_count",
]
