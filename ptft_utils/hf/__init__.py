"""Hugging Face: the only subpackage that imports transformers, peft or tokenizers."""
