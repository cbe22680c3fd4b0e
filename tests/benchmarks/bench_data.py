"""Benchmark the data loaders: shipped digits, MNIST test parse, polarity, Tiny Shakespeare.

Run: ``python tests/benchmarks/bench_data.py`` (uses ``PTFT_DATA_MIRROR``, or ``../shared/data``
beside the repository when it exists). Each loader runs a few times in this process after one
cold call; the table shows the cold time and the median of the warm runs. MNIST is parsed from a
fresh cache filled from the mirror (the first call includes the verified copy). Results go to
``bench-results/data.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

REPEATS = 5


def timed(fn: Callable[[], object], repeats: int = REPEATS) -> dict[str, float]:
    start = time.perf_counter()
    fn()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - start)
    return {"cold_s": round(cold, 4), "median_s": round(statistics.median(warm), 4), "repeats": repeats}


def main() -> dict[str, object]:
    shared = REPO_ROOT.parent / "shared" / "data"
    if not os.environ.get("PTFT_DATA_MIRROR") and shared.is_dir():
        os.environ["PTFT_DATA_MIRROR"] = str(shared)
    with tempfile.TemporaryDirectory(prefix="ptft-bench-cache-") as cache:
        os.environ["PTFT_DATA"] = cache  # a fresh cache: the first MNIST call copies and verifies
        return _run()


def _run() -> dict[str, object]:
    from ptft_utils import data
    from ptft_utils.data.download import verify

    results: dict[str, dict[str, float]] = {}
    results["load_digits28"] = timed(data.load_digits28)  # warm calls hit the in-process cache

    def digits_uncached() -> object:
        data._digits28_arrays.cache_clear()
        return data.load_digits28()

    results["load_digits28 (no cache)"] = timed(digits_uncached)
    results["load_polarity(shipped)"] = timed(lambda: data.load_polarity("shipped"))
    mirror = os.environ.get("PTFT_DATA_MIRROR")
    if mirror:
        results["load_mnist(test)"] = timed(lambda: data.load_mnist("test"))
        path = data.fetch("mnist-test-images")
        results["verify mnist test images"] = timed(lambda: verify("mnist-test-images", path))
        results["load_polarity(polarity)"] = timed(lambda: data.load_polarity("polarity"))
        results["load_text(tinyshakespeare)"] = timed(lambda: data.load_text("tinyshakespeare"))
    print(f"{'loader':32s} {'cold (s)':>10s} {'median warm (s)':>16s}")
    for name, row in results.items():
        print(f"{name:32s} {row['cold_s']:10.3f} {row['median_s']:16.3f}")
    if not mirror:
        print("(no PTFT_DATA_MIRROR and no ../shared/data: registry loaders not timed)")
    record = {"topic": "data", "mirror": mirror, "cpu_count": os.cpu_count(), "results": results}
    out = REPO_ROOT / "bench-results" / "data.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return record


if __name__ == "__main__":
    main()
