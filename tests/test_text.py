"""Tokenization, sentences, vocabularies and padding."""

from __future__ import annotations

import numpy as np
import pytest

from ptft_utils.data.text import PAD, UNK, CharVocab, Vocab, pad_sequences, sentences, tokenize


# -------------------------------------------------------------------------------------- tokenize
def test_tokenize_lowercases_and_splits_punctuation() -> None:
    assert tokenize("Hello, World!") == ["hello", ",", "world", "!"]


def test_tokenize_keeps_inner_apostrophes() -> None:
    assert tokenize("It's the boys' toy, isn't it") == ["it's", "the", "boys", "'", "toy", ",", "isn't", "it"]
    assert tokenize("don’t") == ["don't"]  # a typographic apostrophe too


def test_tokenize_keeps_numbers_whole() -> None:
    assert tokenize("2.5 times 1,000 in 2024.") == ["2.5", "times", "1,000", "in", "2024", "."]


def test_tokenize_keeps_accented_words() -> None:
    assert tokenize("El ladrón de orquídeas") == ["el", "ladrón", "de", "orquídeas"]


def test_tokenize_of_empty_text_is_empty() -> None:
    assert tokenize("   \n") == []


def test_tokenize_matches_the_polarity_datasets_own_tokens() -> None:
    line = "the rock is destined to be the 21st century's new \" conan \" and that he's going to make a splash"
    assert tokenize(line) == line.split()


# ------------------------------------------------------------------------------------- sentences
def test_sentences_split_at_end_marks_and_lines() -> None:
    text = "Pretraining helps. Does it always?\nNo! Not with 2.5 examples."
    assert sentences(text) == [
        ["pretraining", "helps", "."],
        ["does", "it", "always", "?"],
        ["no", "!"],
        ["not", "with", "2.5", "examples", "."],
    ]


def test_sentences_drop_empty_pieces() -> None:
    assert sentences("\n\nOne.\n\n   \nTwo") == [["one", "."], ["two"]]


# ----------------------------------------------------------------------------------------- Vocab
DOCS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat", "ran"]]


def test_vocab_puts_pad_and_unk_first_then_frequency_order() -> None:
    vocab = Vocab.build(DOCS)

    assert vocab.itos == [PAD, UNK, "the", "cat", "sat", "dog", "ran"]  # ties alphabetical
    assert (vocab[PAD], vocab[UNK]) == (0, 1)
    assert len(vocab) == 7
    assert vocab.counts["the"] == 3


def test_vocab_min_count_and_max_size() -> None:
    assert Vocab.build(DOCS, min_count=2).itos == [PAD, UNK, "the", "cat", "sat"]
    assert Vocab.build(DOCS, max_size=2).itos == [PAD, UNK, "the", "cat"]


def test_vocab_encodes_unknown_tokens_as_unk() -> None:
    vocab = Vocab.build(DOCS)
    assert vocab.encode(["the", "zebra", "ran"]) == [2, 1, 6]
    assert "zebra" not in vocab and "cat" in vocab


def test_vocab_decode_inverts_encode_and_drops_padding() -> None:
    vocab = Vocab.build(DOCS)
    ids = vocab.encode(["the", "dog", "ran"]) + [0, 0]
    assert vocab.decode(ids) == ["the", "dog", "ran"]
    assert vocab.decode(ids, skip_pad=False)[-1] == PAD


def test_vocab_never_counts_the_special_tokens_as_words() -> None:
    vocab = Vocab.build([["<pad>", "<unk>", "a"]])
    assert vocab.itos == [PAD, UNK, "a"]


def test_vocab_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="min_count"):
        Vocab.build(DOCS, min_count=0)
    with pytest.raises(ValueError, match="starts with"):
        Vocab(["a", "b"])


# -------------------------------------------------------------------------------- pad_sequences
def test_pad_sequences_pads_right_and_reports_lengths() -> None:
    ids, lengths = pad_sequences([[5, 6, 7], [8], []])

    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]
    assert lengths.tolist() == [3, 1, 0]


def test_pad_sequences_truncates_at_max_len() -> None:
    ids, lengths = pad_sequences([[1, 2, 3, 4], [5]], max_len=2, pad_id=9)

    assert ids.tolist() == [[1, 2], [5, 9]]
    assert lengths.tolist() == [2, 1]


def test_pad_sequences_of_nothing_is_an_empty_batch() -> None:
    ids, lengths = pad_sequences([])
    assert ids.shape == (0, 0) and lengths.shape == (0,)


# ------------------------------------------------------------------------------------- CharVocab
def test_char_vocab_round_trips_text() -> None:
    text = "To be, or not to be\n"
    vocab = CharVocab.build(text)

    ids = vocab.encode(text)

    assert ids.dtype == np.int64 and len(ids) == len(text)
    assert vocab.decode(ids) == text
    assert vocab.chars == sorted(set(text)) and len(vocab) == len(set(text))


def test_char_vocab_names_an_unknown_character() -> None:
    with pytest.raises(KeyError, match="'z' is not in this CharVocab"):
        CharVocab.build("abc").encode("abz")
