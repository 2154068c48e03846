"""The vector layer: float16 vector files and the FAISS index with stable ids, exact or IVF by size."""

from __future__ import annotations

import numpy as np
import pytest

import embeddings.index as vectors_module
from embeddings import FLAT_LIMIT, VectorFile, VectorIndex, plan


def _clustered(n: int, dim: int = 64, *, seed: int = 0) -> np.ndarray:
    """Normalised vectors around 500 centres, as passages gather around stories."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(500, dim))
    x = centres[rng.integers(0, 500, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """70,000 vectors under sparse ids in a vector file, with an exact index and the one plan() picks."""
    n = FLAT_LIMIT + 20_000
    x = _clustered(n)
    ids = np.arange(n, dtype=np.int64) * 3 + 7  # ids with holes, as after removals
    file = VectorFile(tmp_path_factory.mktemp("vectors") / "v.f16", 64)
    full = np.zeros((int(ids[-1]) + 1, 64), np.float32)
    full[ids] = x
    file.write(0, full)
    file.sync()
    exact = VectorIndex(64)
    exact.add(ids, file.read(ids))
    return ids, file, exact, VectorIndex.build(ids, file.read(ids))


def test_plan_is_exact_up_to_the_limit_then_ivf():
    assert plan(10) == ("flat", 0) and plan(FLAT_LIMIT) == ("flat", 0)
    kind, lists = plan(FLAT_LIMIT + 1)
    assert kind == "ivf" and lists >= 64 and lists & (lists - 1) == 0
    assert plan(1_000_000) == ("ivf", 1024)


def test_vector_file_rows_are_ids_and_float16(tmp_path):
    file = VectorFile(tmp_path / "v.f16", 4)
    file.write(3, np.array([[1, 2, 3, 4], [0.5, 0.25, 0.125, 1 / 3]], np.float32))
    assert file.rows == 5 and (tmp_path / "v.f16").stat().st_size == 5 * 4 * 2
    got = file.read(np.array([4, 3, 0]))
    np.testing.assert_allclose(got, [[0.5, 0.25, 0.125, 1 / 3], [1, 2, 3, 4], [0, 0, 0, 0]], atol=1e-3)
    with pytest.raises(vectors_module.IndexFileError, match="vector 9 is missing"):
        file.read(np.array([9]))


def test_ivf_recall_at_10_against_exact_search(stored):
    ids, file, exact, ivf = stored
    assert ivf.kind == "ivf" and len(ivf) == len(ids)
    queries = _clustered(300, seed=1)
    recall = []
    for q in queries:
        _, found = ivf.search(q, 10, exact=file.read)
        _, truth = exact.search(q, 10)
        recall.append(len(set(found.tolist()) & set(truth.tolist())) / 10)
    assert np.mean(recall) >= 0.98


def test_results_are_reranked_by_the_exact_vectors(stored):
    ids, file, exact, ivf = stored
    q = _clustered(1, seed=2)[0]
    scores, found = ivf.search(q, 10, exact=file.read)
    np.testing.assert_allclose(scores, file.read(found) @ q, rtol=1e-6)
    assert list(scores) == sorted(scores, reverse=True)


def test_filters_return_only_allowed_ids_and_small_ones_are_exact(stored):
    ids, file, exact, ivf = stored
    q = _clustered(1, seed=3)[0]
    few = np.sort(ids[::700])  # 100 allowed: searched exactly
    _, found = ivf.search(q, 10, allowed=few, exact=file.read)
    _, truth = exact.search(q, 10, allowed=few)
    assert found.tolist() == truth.tolist()
    many = np.sort(ids[::2])  # 35,000 allowed: through the IVF lists
    _, found = ivf.search(q, 10, allowed=many, exact=file.read)
    assert len(found) == 10 and set(found.tolist()) <= set(many.tolist())


def test_ids_are_stable_when_others_are_removed_and_added(tmp_path):
    x = _clustered(500)
    index = VectorIndex.build(np.arange(500), x)
    index.remove(np.arange(0, 500, 2))
    index.add(np.array([1000, 1001]), x[:2])
    assert index.ids().tolist() == [*range(1, 500, 2), 1000, 1001]
    _, found = index.search(x[3], 1)
    assert found.tolist() == [3]  # vector 3 kept its id
    index.save(tmp_path / "i.faiss")
    again = VectorIndex.load(tmp_path / "i.faiss", dimension=64)
    assert again.ids().tolist() == index.ids().tolist() and again.kind == "flat"


def test_an_index_that_outgrows_its_kind_says_so():
    x = _clustered(200)
    flat = VectorIndex.build(np.arange(200), x)
    assert not flat.needs_rebuild
    ivf = VectorIndex(64, kind="ivf", lists=64)
    ivf.train(_clustered(FLAT_LIMIT + 1000))
    ivf.add(np.arange(200), x)
    assert ivf.needs_rebuild  # far fewer vectors than it was planned for


def test_the_store_switches_to_ivf_past_the_limit_and_records_it(corpus_copy, tmp_path, monkeypatch):
    """With the flat limit lowered to 20 passages, the corpus's 39 get an IVF index, recorded in the
    manifest; its answers are those of the exact index."""
    from qa import Assistant

    from .conftest import FakeEncoder

    exact = Assistant.load(corpus=corpus_copy, index=tmp_path / "exact", encoder=FakeEncoder(), progress=False)
    monkeypatch.setattr(vectors_module, "FLAT_LIMIT", 20)
    monkeypatch.setattr(vectors_module, "plan", lambda n: ("flat", 0) if n <= 20 else ("ivf", 4))
    ivf = Assistant.load(corpus=corpus_copy, index=tmp_path / "ivf", encoder=FakeEncoder(), progress=False)
    assert ivf.store.manifest["vector_index"]["kind"] == "ivf" and ivf.store.vector_index.probes == 4
    assert exact.store.manifest["vector_index"]["kind"] == "flat"
    vector = FakeEncoder().encode(["prisoner exchange in Istanbul"])[0]
    assert ivf.store.search_dense(vector, 10).tolist() == exact.store.search_dense(vector, 10).tolist()
