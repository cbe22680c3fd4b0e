"""Benchmark: training throughput of the seed's Keras CNN and its PyTorch twin.

Both frameworks train the same network (Conv32-Pool-Conv64-Pool-Dense128-Dense10, 225,034
parameters, Adam, cross-entropy) on the same real digit images with the seed's batch size (32),
on the CPU with the same number of threads. Reported: training images per second (median of a
few alternating rounds, after a warm-up that pays for graph tracing and first-call allocation)
and the ratio torch / keras. Writes ``bench-results/cnn.json``.

    python tests/benchmarks/bench_cnn.py [--threads 2] [--images 2048] [--batch 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=2048, help="images trained on per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--out", default=str(REPO / "bench-results" / "cnn.json"))
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # a CPU benchmark, even on a GPU machine
    import numpy as np
    import tensorflow as tf
    import torch
    from torch.nn import functional as F

    from ptft_utils import data, models
    from ptft_utils.keras import cnn as keras_cnn
    from ptft_utils.keras.device import set_tensorflow_threads
    from ptft_utils.train.device import set_cpu_threads

    set_cpu_threads(args.threads)
    set_tensorflow_threads(args.threads)
    tf.keras.utils.set_random_seed(0)
    torch.manual_seed(0)

    images = data.load_images("auto")
    n = min(args.images, len(images))
    x_np, y_np = images.images[:n], images.labels[:n]
    x_keras = keras_cnn.as_nhwc(x_np)
    x_torch, y_torch = torch.from_numpy(x_np).unsqueeze(1), torch.from_numpy(y_np)

    keras_model = keras_cnn.build_seed_cnn()
    twin = models.SeedCNN()
    optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3)

    def keras_round(count: int) -> float:
        t0 = time.perf_counter()
        keras_model.fit(x_keras[:count], y_np[:count], epochs=1, batch_size=args.batch, shuffle=False, verbose=0)
        return count / (time.perf_counter() - t0)

    def torch_round(count: int) -> float:
        t0 = time.perf_counter()
        for start in range(0, count, args.batch):
            xb, yb = x_torch[start : start + args.batch], y_torch[start : start + args.batch]
            loss = F.cross_entropy(twin(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return count / (time.perf_counter() - t0)

    keras_round(min(256, n))  # warm-up: tracing, allocation
    torch_round(min(256, n))
    keras_rates, torch_rates = [], []
    for _ in range(args.rounds):
        keras_rates.append(keras_round(n))
        torch_rates.append(torch_round(n))
    keras_rate, torch_rate = statistics.median(keras_rates), statistics.median(torch_rates)
    result = {
        "benchmark": "cnn_training_throughput",
        "model": "seed CNN (section 4.2), 225,034 parameters",
        "parameters": {"keras": int(keras_model.count_params()), "torch": models.count_parameters(twin)},
        "data": images.provenance,
        "images_per_round": n,
        "batch_size": args.batch,
        "threads": args.threads,
        "rounds": args.rounds,
        "keras_images_per_s": keras_rate,
        "torch_images_per_s": torch_rate,
        "torch_over_keras": torch_rate / keras_rate,
        "keras_rounds": keras_rates,
        "torch_rounds": torch_rates,
        "versions": {"tensorflow": tf.__version__, "torch": torch.__version__, "numpy": np.__version__},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    setting = f"batch {args.batch}, {args.threads} threads, {n} images x {args.rounds} rounds"
    print(f"{'framework':<10} {'images/s':>10}   ({setting})")
    print(f"{'keras':<10} {keras_rate:>10.0f}")
    print(f"{'torch':<10} {torch_rate:>10.0f}")
    print(f"torch / keras = {torch_rate / keras_rate:.2f}   -> {out}")
    return result


if __name__ == "__main__":
    main()
