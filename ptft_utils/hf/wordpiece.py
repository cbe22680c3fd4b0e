"""Train a BERT-style WordPiece tokenizer on the book's own text, with ``tokenizers``.

:func:`train_wordpiece` lower-cases and strips accents like BERT's uncased tokenizer, splits on
whitespace and punctuation, learns a WordPiece vocabulary of ``vocab_size`` entries (the five
special tokens first: ``[PAD]`` is id 0), and wraps the result as a transformers fast tokenizer
that adds ``[CLS] ... [SEP]``. It needs no downloaded file, so the ``smoke`` profile and the tests
use it instead of MiniLM's vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def train_wordpiece(texts: Iterable[str], vocab_size: int = 8000, min_frequency: int = 2,
                    max_length: int = 512) -> PreTrainedTokenizerFast:  # fmt: skip
    """A WordPiece tokenizer learned from ``texts`` (``vocab_size`` entries at most).

    Taught in: 07 §3
    """
    if vocab_size < len(SPECIAL_TOKENS) + 1:
        raise ValueError(f"vocab_size must exceed the {len(SPECIAL_TOKENS)} special tokens, got {vocab_size}")
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(SPECIAL_TOKENS)
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        model_max_length=max_length,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def pretokenized(tokenizer: PreTrainedTokenizerFast, text: str) -> str:
    """``text`` normalised and split as the tokenizer sees it, words joined by single spaces.

    What decoding the ids of ``text`` gives back when no word is unknown (the round trip).

    Taught in: 07 §3
    """
    backend = tokenizer.backend_tokenizer
    normal = backend.normalizer.normalize_str(text) if backend.normalizer is not None else text
    return " ".join(word for word, _ in backend.pre_tokenizer.pre_tokenize_str(normal))
