"""The only place that imports TensorFlow and Keras: the seed's Keras models, devices, weight copying.

``cnn`` (the seed CNN), ``rnn`` (the seed LSTM and its data), ``device`` (GPUs, threads, seeding)
and ``parity`` (copying Keras weights into the PyTorch twins and checking they agree). Importing
this package does not import TensorFlow; its modules do.
"""
