"""The vector layer: float16 vector files and the FAISS index with stable ids, exact or IVF by size."""

from __future__ import annotations

import numpy as np
import pytest

import embeddings.index as vectors_module
from embeddings import FLAT_LIMIT, VectorFile, VectorIndex, plan


def _clustered(n: int, dim: int = 64, *, seed: int = 0) -> np.ndarray:
    """Normalised vectors as news passages gather: 50 topics, 5,000 stories within them, passages
    around their story. The spread is set so that a vector's 1st, 10th and 100th neighbours among
    70,000 lie at cosine 0.65, 0.55, 0.44: the shared archive's MiniLM vectors give 0.69, 0.53, 0.39
    (synthetic clusters with one crowded level are far harder than real text for any graph)."""
    structure = np.random.default_rng(0)
    topics = structure.normal(size=(50, dim))
    stories = topics[structure.integers(0, 50, 5000)] + structure.normal(size=(5000, dim))
    rng = np.random.default_rng(seed + 1)
    x = stories[rng.integers(0, 5000, n)] + 1.3 * rng.normal(size=(n, dim))
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


def test_plan_is_exact_up_to_the_limit_then_hnsw():
    assert plan(10) == plan(FLAT_LIMIT) == "flat"
    assert plan(FLAT_LIMIT + 1) == plan(1_000_000) == "hnsw"


def test_vector_file_rows_are_ids_and_float16(tmp_path):
    file = VectorFile(tmp_path / "v.f16", 4)
    file.write(3, np.array([[1, 2, 3, 4], [0.5, 0.25, 0.125, 1 / 3]], np.float32))
    assert file.rows == 5 and (tmp_path / "v.f16").stat().st_size == 5 * 4 * 2
    got = file.read(np.array([4, 3, 0]))
    np.testing.assert_allclose(got, [[0.5, 0.25, 0.125, 1 / 3], [1, 2, 3, 4], [0, 0, 0, 0]], atol=1e-3)
    with pytest.raises(vectors_module.IndexFileError, match="vector 9 is missing"):
        file.read(np.array([9]))


def test_hnsw_recall_at_10_against_exact_search(stored):
    ids, file, exact, ivf = stored
    assert ivf.kind == "hnsw" and len(ivf) == len(ids)
    queries = _clustered(300, seed=1)
    recall = []
    for q in queries:
        _, found = ivf.search(q, 10, exact=file.read)
        _, truth = exact.search(q, 10)
        recall.append(len(set(found.tolist()) & set(truth.tolist())) / 10)
    assert np.mean(recall) >= 0.98


def test_results_are_reranked_by_the_exact_vectors(stored):
    _, file, _, ivf = stored
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
    many = np.sort(ids[::2])  # 35,000 allowed: through the graph
    _, found = ivf.search(q, 10, allowed=many, exact=file.read)
    assert len(found) == 10 and set(found.tolist()) <= set(many.tolist())


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_ids_are_stable_when_others_are_removed_and_added(tmp_path, kind):
    x = _clustered(500)
    index = VectorIndex(64, kind=kind)
    index.train(x)
    index.add(np.arange(500), x)
    index.remove(np.arange(0, 500, 2))
    index.add(np.array([1000, 1001]), x[:2])
    assert index.ids().tolist() == [*range(1, 500, 2), 1000, 1001] and len(index) == 252
    _, found = index.search(x[3], 1)
    assert found.tolist() == [3]  # vector 3 kept its id
    _, found = index.search(x[4], 5)
    assert 4 not in found.tolist() and all(i % 2 or i >= 1000 for i in found.tolist())  # removed ids never come back
    index.save(tmp_path / "i.faiss")
    again = VectorIndex.load(tmp_path / "i.faiss", dimension=64, dead=index.dead)
    assert again.ids().tolist() == index.ids().tolist() and again.kind == kind
    assert again.search(x[3], 5)[1].tolist() == index.search(x[3], 5)[1].tolist()


def test_an_index_that_outgrows_its_kind_says_so(monkeypatch):
    monkeypatch.setattr(vectors_module, "FLAT_LIMIT", 100)
    x = _clustered(300)
    flat = VectorIndex(64)
    flat.add(np.arange(100), x[:100])
    assert not flat.needs_rebuild
    flat.add(np.arange(100, 300), x[100:])
    assert flat.needs_rebuild  # past the flat limit
    graph = VectorIndex(64, kind="hnsw")
    graph.train(x)
    graph.add(np.arange(300), x)
    assert not graph.needs_rebuild
    graph.remove(np.arange(40))
    assert graph.needs_rebuild  # over a tenth of its nodes removed


def test_the_store_switches_to_hnsw_past_the_limit_and_records_it(corpus_copy, tmp_path, monkeypatch):
    """With the flat limit lowered to 20 passages, the corpus's 39 get an HNSW index, recorded in the
    manifest; its answers are those of the exact index, also after a removal."""
    from qa import Assistant

    from .conftest import FakeEncoder

    exact = Assistant.load(corpus=corpus_copy, index=tmp_path / "exact", encoder=FakeEncoder(), progress=False)
    monkeypatch.setattr(vectors_module, "FLAT_LIMIT", 20)
    graph = Assistant.load(corpus=corpus_copy, index=tmp_path / "hnsw", encoder=FakeEncoder(), progress=False)
    assert graph.store.manifest["vector_index"]["kind"] == "hnsw"
    assert exact.store.manifest["vector_index"]["kind"] == "flat"
    vector = FakeEncoder().encode(["prisoner exchange in Istanbul"])[0]
    assert graph.store.search_dense(vector, 10).tolist() == exact.store.search_dense(vector, 10).tolist()
    for assistant in (graph, exact):
        assistant.remove(["002_99214e3abbb71cf3.txt"])
    assert graph.store.search_dense(vector, 10).tolist() == exact.store.search_dense(vector, 10).tolist()
    reopened = Assistant.load(corpus=corpus_copy, index=tmp_path / "hnsw", encoder=FakeEncoder(), progress=False)
    assert reopened.store.search_dense(vector, 10).tolist() == exact.store.search_dense(vector, 10).tolist()
