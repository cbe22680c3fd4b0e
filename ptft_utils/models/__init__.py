"""PyTorch models: the seed CNN's twin, recurrent models, SGNS and GloVe, and what they cost.

``cnn``, ``rnn``, ``embeddings`` (word-vector tables and corpus statistics), ``sgns``, ``glove``,
``kim_cnn`` (Kim's sentence CNN in its four embedding variants), ``transformer``, ``boxes`` and
``detector`` (box geometry and a grid detector on the seed CNN), ``vae`` (a small conditional VAE)
and ``cost`` (parameters and FLOPs).
"""

from ptft_utils.models.cnn import SEED_CNN_PARAMETERS, SeedCNN
from ptft_utils.models.cost import count_parameters, forward_flops, training_flops

__all__ = ["SEED_CNN_PARAMETERS", "SeedCNN", "count_parameters", "forward_flops", "training_flops"]
