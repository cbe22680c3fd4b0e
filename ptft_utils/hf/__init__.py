"""Hugging Face: the only subpackage that imports transformers, peft or tokenizers.

``encoder`` (all-MiniLM-L6-v2 from its pinned, verified files, loaded with ``safetensors``; tiny
random BERTs for fast runs), ``classify`` (fine-tuning a BERT encoder for sentence classification:
full, LoRA through peft, frozen, from scratch), ``parity`` (our from-scratch transformer pieces
against PyTorch's and Hugging Face's) and ``wordpiece`` (training a WordPiece tokenizer with
``tokenizers``). Importing this package imports none of them; its modules do.
"""
