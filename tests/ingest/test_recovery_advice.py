"""The advice that ends a message about a damaged or mismatched index names the index folder actually used:
`sesam ingest --rebuild --index <folder>` unless it is the default .sesam/index, so following it rebuilds the
index that is damaged. The public message of the error (what an HTTP client sees) names no folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.errors import IndexCorruptError, IndexMismatchError
from ingest.store import IndexVersion, current_version_dir
from tests.conftest import CORPUS


def _truncate(index: Path, name: str) -> None:
    path = current_version_dir(index) / name
    path.write_bytes(path.read_bytes()[:-8])


@pytest.mark.parametrize("damage", ["truncated", "no-version", "no-manifest"])
def test_the_rebuild_advice_names_the_index_folder_used(shipped_index: Path, tmp_path: Path, damage: str) -> None:
    index = tmp_path / "elsewhere" / "index"
    shutil.copytree(shipped_index, index)
    if damage == "truncated":
        _truncate(index, "embeddings.npy")
    elif damage == "no-version":
        (index / "CURRENT").write_text("gone\n")
    else:
        (current_version_dir(index) / "manifest.json").unlink()
    with pytest.raises(IndexCorruptError) as caught:
        IndexVersion.open(index)
    assert f"run `sesam ingest --rebuild --index {index}` to build a fresh index." in str(caught.value)
    assert str(tmp_path) not in caught.value.public and "sesam ingest" not in caught.value.public


def test_the_default_index_folder_is_not_named(shipped_index: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(shipped_index, tmp_path / ".sesam" / "index")
    _truncate(Path(".sesam/index"), "embeddings.npy")
    with pytest.raises(IndexCorruptError) as caught:
        IndexVersion.open(Path(".sesam/index"))
    # from here ./corpus is not the folder the index was built from, which the advice therefore names
    assert str(caught.value).endswith(f"run `sesam ingest --rebuild --corpus {CORPUS}` to build a fresh index.")


def test_the_embedder_advice_names_the_index_folder_used(shipped_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "elsewhere" / "index"
    shutil.copytree(shipped_index, index)
    with pytest.raises(IndexMismatchError) as caught:
        IndexVersion.open(index, embedder_spec="st:other-model")
    assert f"`sesam ingest --rebuild --embedder st:other-model --index {index}`" in str(caught.value)
    assert str(tmp_path) not in caught.value.public
