"""Measuring and showing results: statistics, plots, embedding and language-model evaluation.

``stats`` and ``plots`` import no framework; ``embeddings`` reads word vectors from ours or gensim's.
"""
