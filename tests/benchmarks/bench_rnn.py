"""Benchmark: character-LM training speed of the seed's Keras LSTM model and its PyTorch twin.

Both frameworks train the same model (LSTM(128) -> LSTM(128) -> Dense(vocab) softmax, one-hot
inputs, categorical / integer cross-entropy, Adam) on the same windows of real text, with the same
batch size and sequence length, on the CPU with the same number of threads. Reported: training
tokens per second (median of a few alternating rounds, after a warm-up that pays for graph
tracing) and the ratio torch / keras. The headline is 2 threads; the same measurement at 1 thread
runs in a second process (TensorFlow fixes its thread pools at start-up) because small LSTMs are
latency-bound and, on a busy machine, PyTorch's OpenMP threads spin-wait against other work: the
two numbers together show whether a second thread helps here. Writes ``bench-results/rnn.json``.

    python tests/benchmarks/bench_rnn.py [--threads 2] [--also-threads 1] [--steps 30] [--batch 32]
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
    parser.add_argument("--also-threads", type=int, default=1, help="a second thread count (0 = skip)")
    parser.add_argument("--steps", type=int, default=30, help="optimisation steps timed per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--timesteps", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--out", default=str(REPO / "bench-results" / "rnn.json"))
    args = parser.parse_args()

    if args.also_threads and args.also_threads != args.threads:
        import subprocess
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            other_out = Path(tmp) / "other.json"
            command = [sys.executable, __file__, "--threads", str(args.also_threads), "--also-threads", "0"]
            for flag in ("steps", "rounds", "batch", "timesteps", "hidden"):
                command += [f"--{flag}", str(getattr(args, flag))]
            subprocess.run([*command, "--out", str(other_out)], check=True)
            other = json.loads(other_out.read_text(encoding="utf-8"))
    else:
        other = None

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # a CPU benchmark, even on a GPU machine
    import numpy as np
    import tensorflow as tf
    import torch
    from torch.nn import functional as F

    from ptft_utils import data
    from ptft_utils.data import text
    from ptft_utils.keras import parity
    from ptft_utils.keras import rnn as keras_rnn
    from ptft_utils.keras.device import set_tensorflow_threads
    from ptft_utils.models import rnn
    from ptft_utils.train.device import set_cpu_threads

    set_cpu_threads(args.threads)
    set_tensorflow_threads(args.threads)
    tf.keras.utils.set_random_seed(0)
    torch.manual_seed(0)

    corpus = data.load_text("auto")
    chars = text.CharVocab.build(corpus.text)
    vocab = len(chars)
    n = args.batch * args.steps
    x_ids, y_ids = keras_rnn.char_windows(
        chars.encode(corpus.text[: (n + args.batch) * (args.timesteps + 1) * 2]), args.timesteps
    )
    x_ids, y_ids = x_ids[:n], y_ids[:n]
    X, Y = keras_rnn.one_hot(x_ids, vocab), keras_rnn.one_hot(y_ids, vocab)

    model = keras_rnn.build_seed_lstm(args.timesteps, vocab, vocab, hidden=args.hidden)
    twin = parity.copy_keras_seed_model(model, rnn.SeedLSTM(vocab, vocab, hidden=args.hidden))
    optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3, eps=1e-7)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y_ids)

    def keras_round(count: int) -> float:
        start = time.perf_counter()
        model.fit(
            X[: count * args.batch], Y[: count * args.batch], batch_size=args.batch, epochs=1, shuffle=False, verbose=0
        )
        return time.perf_counter() - start

    def torch_round(count: int) -> float:
        twin.train()
        start = time.perf_counter()
        for b in range(0, count * args.batch, args.batch):
            logits, _ = twin(X_t[b : b + args.batch])
            loss = F.cross_entropy(logits.reshape(-1, vocab), y_t[b : b + args.batch].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start

    keras_round(3)  # warm-up: tracing and compilation
    torch_round(3)
    keras_times, torch_times = [], []
    for _ in range(args.rounds):
        keras_times.append(keras_round(args.steps))
        torch_times.append(torch_round(args.steps))
    tokens = args.steps * args.batch * args.timesteps
    keras_tps = tokens / statistics.median(keras_times)
    torch_tps = tokens / statistics.median(torch_times)
    result = {
        "benchmark": "rnn",
        "what": "character-LM training tokens/second, seed LSTM model (Keras) vs PyTorch twin",
        "corpus": corpus.provenance,
        "threads": args.threads,
        "batch": args.batch,
        "timesteps": args.timesteps,
        "hidden": args.hidden,
        "vocab": vocab,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "keras_tokens_per_second": keras_tps,
        "torch_tokens_per_second": torch_tps,
        "torch_over_keras": torch_tps / keras_tps,
        "keras_round_seconds": keras_times,
        "torch_round_seconds": torch_times,
        "versions": {
            "tensorflow": tf.__version__,
            "keras": tf.keras.__version__ if hasattr(tf.keras, "__version__") else None,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "cpu_count": os.cpu_count(),
    }
    if other is not None:
        result[f"threads_{other['threads']}"] = {
            k: other[k] for k in ("keras_tokens_per_second", "torch_tokens_per_second", "torch_over_keras")
        }
    print(f"{'framework':<10} {'tokens/s':>12} {'median round (s)':>18}")
    print(f"{'keras':<10} {keras_tps:>12,.0f} {statistics.median(keras_times):>18.3f}")
    print(f"{'torch':<10} {torch_tps:>12,.0f} {statistics.median(torch_times):>18.3f}")
    print(
        f"torch / keras = {result['torch_over_keras']:.2f}  (threads={args.threads}, batch={args.batch}, "
        f"timesteps={args.timesteps}, hidden={args.hidden}, vocab={vocab})"
    )
    if other is not None:
        print(
            f"at {other['threads']} thread(s): keras {other['keras_tokens_per_second']:,.0f}, "
            f"torch {other['torch_tokens_per_second']:,.0f} tokens/s, torch / keras = {other['torch_over_keras']:.2f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("wrote", out)
    return result


if __name__ == "__main__":
    main()
