"""Measuring and showing results: statistics, plots, embedding and language-model evaluation.

``stats`` and ``plots`` import no framework; ``embeddings`` reads word vectors from ours or gensim's.
For chapter 08's applications: ``detection`` (COCO mAP through pycocotools), ``generation``
(classifier accuracy on samples, Fréchet distance), ``summaries`` (ROUGE, lead-k, centrality) and
``translation`` (linear and orthogonal maps between word-vector spaces, precision@k).
For chapter 09: ``calibration`` (ECE, reliability bins), ``attribution`` (integrated gradients and
saliency, ours and Captum's, the randomisation check; the only importer of Captum), ``domain``
(proxy A-distance, MMD) and ``probing`` (linear probes with a control task).
"""
