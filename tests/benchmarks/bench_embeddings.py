"""Benchmark: our PyTorch SGNS against gensim's skip-gram, same corpus, same settings, 2 threads.

Run with ``python tests/benchmarks/bench_embeddings.py`` (``make bench``). It trains both on the
default corpus of chapter 03 (Lee background + Tiny Shakespeare + the polarity sentences, all
unlabelled), with dimension 100, window 5, 5 negatives, subsampling 1e-3, ``min_count`` 5, for
each of several seeds, with ``torch.set_num_threads(2)`` and gensim ``workers=2``, and reports:

* throughput: corpus tokens x epochs / training seconds, and ours / gensim's;
* quality: WordSim-353 Spearman on the in-vocabulary pairs (the same pairs for both), mean over
  seeds, and the difference ours - gensim's.

Targets (from the chapter's issue): Spearman within 0.05 of gensim's, throughput at least a
quarter of gensim's. The measured numbers are reported whatever they are, and written to
``bench-results/embeddings.json``. Times depend on the machine's load: on a shared machine the
absolute words/second are low and the ratio is what to read.

``OMP_WAIT_POLICY=PASSIVE`` is set before torch loads (see the comment at the top), unless the
environment already sets it; the JSON records the value used.

Options: ``--epochs N`` (default 10), ``--seeds N`` (default 3), ``--threads N`` (default 2),
``--corpus lee`` for a quick run on the Lee corpus alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# PyTorch's OpenMP threads spin while they wait at the end of each parallel op. On a machine that
# is busy with other work, a spinning thread holds a core that the other thread needs: measured
# here, 2 threads ran ~20x slower than 1. Passive waiting (read once, when torch loads) avoids it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def build_corpus(name: str) -> tuple[list[list[str]], dict[str, str]]:
    from ptft_utils import data
    from ptft_utils.data import text

    lee = data.load_text("lee_background")
    sentences = text.sentences(lee.text)
    provenance = {"lee_background": lee.provenance}
    if name == "default":
        shakespeare = data.load_text("tinyshakespeare")
        polarity = data.load_polarity("auto")
        sentences += text.sentences(shakespeare.text)
        sentences += [text.tokenize(t) for t in polarity.texts]
        provenance |= {"tinyshakespeare": shakespeare.provenance, "polarity": polarity.provenance}
    return [s for s in sentences if s], provenance


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--corpus", choices=("default", "lee"), default="default")
    parser.add_argument("--output", default=str(ROOT / "bench-results" / "embeddings.json"))
    args = parser.parse_args(argv)

    import torch
    from gensim.models import Word2Vec

    from ptft_utils import data
    from ptft_utils.eval import embeddings as embedding_eval
    from ptft_utils.kit.atomic import atomic_write_text
    from ptft_utils.kit.repro import environment
    from ptft_utils.models import embeddings as emb
    from ptft_utils.models import sgns

    torch.set_num_threads(args.threads)
    settings = {"dim": 100, "window": 5, "negatives": 5, "sample": 1e-3, "min_count": 5, "epochs": args.epochs}
    sentences, provenance = build_corpus(args.corpus)
    corpus = emb.encode_corpus(sentences, min_count=settings["min_count"])
    wordsim = data.load_word_similarity("wordsim353")
    work = corpus.raw_tokens * args.epochs
    print(
        f"corpus: {corpus.raw_tokens:,} tokens, {len(corpus.words):,} words; {args.threads} threads; "
        f"{args.epochs} epochs; seeds {args.seeds}"
    )

    runs = []
    for seed in range(args.seeds):
        model = Word2Vec(
            vector_size=settings["dim"],
            window=settings["window"],
            min_count=settings["min_count"],
            sg=1,
            hs=0,
            negative=settings["negatives"],
            sample=settings["sample"],
            epochs=args.epochs,
            workers=args.threads,
            seed=seed,
        )
        model.build_vocab(sentences)  # vocabulary building is not timed, for either trainer
        start = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=args.epochs)
        gensim_seconds = time.perf_counter() - start
        print(f"seed {seed}: gensim trained in {gensim_seconds:.1f} s", flush=True)
        vectors, log = sgns.train_sgns(
            corpus,
            dim=settings["dim"],
            window=settings["window"],
            negatives=settings["negatives"],
            epochs=args.epochs,
            sample=settings["sample"],
            seed=seed,
        )
        gensim_ws = embedding_eval.word_similarity(model.wv, wordsim)
        ours_ws = embedding_eval.word_similarity(vectors, wordsim)
        assert gensim_ws["used"] == ours_ws["used"], "both must be scored on the same pairs"
        run = {
            "seed": seed,
            "gensim_seconds": gensim_seconds,
            "ours_seconds": log.seconds,
            "gensim_words_per_second": work / gensim_seconds,
            "ours_words_per_second": log.words_per_second,
            "speed_ratio": log.words_per_second / (work / gensim_seconds),
            "gensim_wordsim353": gensim_ws["spearman"],
            "ours_wordsim353": ours_ws["spearman"],
            "spearman_difference": ours_ws["spearman"] - gensim_ws["spearman"],
            "pairs_used": ours_ws["used"],
        }
        runs.append(run)
        print(
            f"seed {seed}: gensim {run['gensim_words_per_second']:>10,.0f} w/s  rho {run['gensim_wordsim353']:.3f} | "
            f"ours {run['ours_words_per_second']:>10,.0f} w/s  rho {run['ours_wordsim353']:.3f}",
            flush=True,
        )

    def mean(key: str) -> float:
        return statistics.fmean(r[key] for r in runs)

    summary = {
        "speed_ratio_mean": mean("speed_ratio"),
        "gensim_words_per_second_mean": mean("gensim_words_per_second"),
        "ours_words_per_second_mean": mean("ours_words_per_second"),
        "gensim_wordsim353_mean": mean("gensim_wordsim353"),
        "ours_wordsim353_mean": mean("ours_wordsim353"),
        "spearman_difference_mean": mean("spearman_difference"),
        "wordsim353_pairs_used": runs[0]["pairs_used"],
        "wordsim353_oov_rate": 1 - runs[0]["pairs_used"] / len(wordsim),
    }
    summary["meets_speed_target"] = summary["speed_ratio_mean"] >= 0.25
    summary["meets_quality_target"] = abs(summary["spearman_difference_mean"]) <= 0.05
    record = {
        "benchmark": "embeddings",
        "settings": settings
        | {
            "threads": args.threads,
            "seeds": args.seeds,
            "corpus": args.corpus,
            "corpus_tokens": corpus.raw_tokens,
            "vocabulary": len(corpus.words),
        },
        "data": provenance,
        "environment": environment("cpu")
        | {"load_average_1min": os.getloadavg()[0], "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
        "targets": {"speed_ratio_at_least": 0.25, "abs_spearman_difference_at_most": 0.05},
        "summary": summary,
        "runs": runs,
        "limits": (
            "gensim's inner loop is Cython/C calling BLAS per (centre, context) pair with hogwild threads; ours "
            "runs batched PyTorch ops (gather rows, elementwise products, index_add_ scatter) whose cost is "
            "dominated by memory traffic for the gathered (B, 1+K, D) blocks and per-op dispatch, and PyTorch's "
            "intra-op threads gain little on such small ops (on a loaded machine they can even lose)."
        ),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(record, indent=2) + "\n")

    print()
    print(f"{'':28}{'gensim':>14}{'ours (PyTorch)':>16}{'ours / gensim':>15}")
    print(
        f"{'words per second (mean)':28}{summary['gensim_words_per_second_mean']:>14,.0f}"
        f"{summary['ours_words_per_second_mean']:>16,.0f}{summary['speed_ratio_mean']:>15.2f}"
    )
    print(
        f"{'WordSim-353 Spearman (mean)':28}{summary['gensim_wordsim353_mean']:>14.3f}"
        f"{summary['ours_wordsim353_mean']:>16.3f}{summary['spearman_difference_mean']:>+15.3f} (difference)"
    )
    print(
        f"pairs used: {summary['wordsim353_pairs_used']} of {len(wordsim)}; "
        f"speed target (>= 0.25): {'met' if summary['meets_speed_target'] else 'NOT met'}; "
        f"quality target (|diff| <= 0.05): {'met' if summary['meets_quality_target'] else 'NOT met'}"
    )
    print(f"written {out}")
    return record


if __name__ == "__main__":
    main()
