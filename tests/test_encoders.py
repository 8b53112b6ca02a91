"""Title encoders (simgov.encoders) on a tiny BERT with random weights that the test builds itself.

Nothing here touches the bundled all-MiniLM-L6-v2: the loading, distilling, caching and
identity code must work on any local sentence-transformers folder.
"""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from simgov.config import Config
from simgov.encoders import (ExactEncoder, StaticEncoder, StaticModel, create_encoder, default_static_dir,
                             distill_static, weights_digest)
from simgov.errors import IndexMismatch, SimgovError

WORDS = ["acme", "trail", "runner", "shoe", "blue", "red", "steel", "bottle", "green", "phone", "black", "bag",
         "lamp", "led", "desk", "white", "wool", "hat", "grey", "mug", "kids", "bike", "inch", "size", "pro",
         "max", "mini", "run", "##s", "##er", "##ing", "##x", "##2", "##0", "1", "2", "3", "4", "5", "0",
         "a", "b", "c", "d", "e", "x", "k", "l", "-", "/", ",", ".", "(", ")", '"', "é"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 2-layer, 32-wide BERT with random weights and a 70-token vocabulary, saved as a
    sentence-transformers folder (Transformer + mean Pooling + Normalize)."""
    import torch
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, BertTokenizerFast

    root = tmp_path_factory.mktemp("tiny")
    raw = root / "bert"
    raw.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused1]", *WORDS]
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                      cls_token="[CLS]", mask_token="[MASK]").save_pretrained(raw)
    torch.manual_seed(0)
    bert = BertModel(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                intermediate_size=64, max_position_embeddings=64))
    bert.save_pretrained(raw)
    word = Transformer(str(raw), max_seq_length=60)
    st = SentenceTransformer(modules=[word, Pooling(32, "mean"), Normalize()], device="cpu")
    folder = root / "st"
    st.save(str(folder))
    assert (folder / "tokenizer.json").is_file()
    return folder


@pytest.fixture(scope="module")
def tiny_static(tiny_model, tmp_path_factory):
    return distill_static(tiny_model, tmp_path_factory.mktemp("static") / "m", dims=8)


def test_distilled_folder_is_a_model2vec_layout(tiny_static):
    assert {p.name for p in tiny_static.iterdir()} == {"model.safetensors", "config.json", "tokenizer.json"}
    cfg = json.loads((tiny_static / "config.json").read_text())
    assert cfg["model_type"] == "model2vec" and cfg["hidden_dim"] == 8 and cfg["normalize"] is True
    model = StaticModel(tiny_static)
    assert model.dim == 8
    unused = model.tokenizer.token_to_id("[unused0]")
    assert not model.embeddings[unused].any() and not model.embeddings[model.tokenizer.token_to_id("[CLS]")].any()


def test_static_vectors_are_the_normalised_mean_of_token_rows(tiny_static):
    model = StaticModel(tiny_static)
    texts = ["Acme trail runner shoe, blue", "steel bottle green", "zzz qqq", "", "RED red red"]
    vectors = model.encode(texts)
    assert vectors.shape == (5, 8) and vectors.dtype == np.float32
    for text, vec in zip(texts, vectors):
        ids = [i for i in model.tokenizer.encode(text, add_special_tokens=False).ids if i != model.unk_id]
        if not ids:  # nothing known: the zero vector (cosine 0 with everything)
            assert not vec.any()
            continue
        want = model.embeddings[ids].mean(axis=0)
        np.testing.assert_allclose(vec, want / np.linalg.norm(want), rtol=1e-5, atol=1e-6)
    assert abs(float(vectors[4] @ model.encode(["red"])[0]) - 1.0) < 1e-5  # repetition does not change the mean


def test_chunk_cache_gives_the_tokenizer_ids(tiny_static):
    """The per-chunk cache must reproduce tokenising whole texts (truncation and unknowns too)."""
    model = StaticModel(tiny_static)
    model.max_tokens = 12
    rng = random.Random(3)
    alphabet = list("abcdexkl0123 -/,.()\"é") + ["\t", "\u3000", "\x1c", "\x00", "中", "Ü", "\u00a0"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(300)]
    texts += ["runner" * 30, "shoe " * 40, "", " ", "a\x1cb", "x\x1fy z"]
    for batch in (texts[:7], texts, texts[::-1]):  # cold cache, then warm, then reordered
        flat, offsets = model.token_ids(batch)
        got = [flat[offsets[i]:offsets[i + 1]].tolist() for i in range(len(batch))]
        want = [[t for t in e.ids[:12] if t != model.unk_id]
                for e in model.tokenizer.encode_batch(batch, add_special_tokens=False)]
        assert got == want


def test_chunk_cache_is_bounded(tiny_static):
    model = StaticModel(tiny_static)
    model._chunks.max_chunks = 50
    words = [f"a{i}b" for i in range(200)]
    for start in range(0, 200, 20):
        model.encode([" ".join(words[start:start + 20])])
        assert len(model._chunks.index) <= 50
    np.testing.assert_allclose(model.encode(["a5b c"]), StaticModel(tiny_static).encode(["a5b c"]), atol=1e-6)


def test_exact_encoder_loads_the_tiny_model(tiny_model):
    enc = ExactEncoder(tiny_model)
    vectors = enc.encode(["acme shoe", "green bottle", "acme shoe"])
    assert enc.dim == 32 and vectors.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)
    assert enc.encode([]).shape == (0, 32)


def test_model2vec_reads_the_folder(tiny_static):
    model2vec = pytest.importorskip("model2vec")
    theirs = model2vec.StaticModel.from_pretrained(str(tiny_static))
    texts = ["acme trail runner shoe blue", "steel bottle, green", "kids bike 3 inch"]
    np.testing.assert_allclose(theirs.encode(texts), StaticModel(tiny_static).encode(texts), atol=1e-4)


def test_static_encoder_distils_into_the_cache_at_first_use(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMGOV_CACHE", str(tmp_path / "cache"))
    cfg = Config.model_validate({"text_model": {"path": str(tiny_model), "engine": "static", "static_dims": 8}})
    enc = create_encoder(cfg.text_model)
    assert isinstance(enc, StaticEncoder)
    folder = default_static_dir(tiny_model, 8)
    assert folder.parent.parent == tmp_path / "cache" and not folder.exists()
    assert enc.encode(["acme shoe"]).shape == (1, 8)
    assert (folder / "model.safetensors").is_file()
    ident = enc.identity()
    assert ident == {"engine": "static", "static_dims": 8, "static_sha256": weights_digest(folder, (".safetensors",))}
    # exact adds nothing, so indexes made before engines existed (no "engine" recorded) still open
    exact = {"path": str(tiny_model), "engine": "exact"}
    assert create_encoder(Config.model_validate({"text_model": exact}).text_model).identity() == {}


def test_explicit_static_path_is_never_distilled(tiny_model, tmp_path):
    cfg = Config.model_validate({"text_model": {"path": str(tiny_model), "engine": "static",
                                                "static_path": str(tmp_path / "nothing")}})
    with pytest.raises(SimgovError, match="simgov models distill"):
        create_encoder(cfg.text_model).encode(["x"])


def test_cli_distill(tiny_model, tmp_path, capsys):
    from simgov.cli import main

    out = tmp_path / "m"
    assert main(["models", "distill", "--model", str(tiny_model), "--dims", "4", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert StaticModel(out).dim == 4
    made = (out / "model.safetensors").stat().st_mtime_ns
    # again (as `make install` runs it): the same model's distillation is kept, not made again
    assert main(["models", "distill", "--model", str(tiny_model), "--dims", "4", "--out", str(out)]) == 0
    assert (out / "model.safetensors").stat().st_mtime_ns == made
    assert main(["models", "distill", "--model", str(tiny_model), "--dims", "8", "--out", str(out)]) == 0
    assert StaticModel(out).dim == 8  # other dimensions: distilled again
    made = (out / "model.safetensors").stat().st_mtime_ns
    assert main(["models", "distill", "--model", str(tiny_model), "--dims", "8", "--out", str(out), "--force"]) == 0
    assert (out / "model.safetensors").stat().st_mtime_ns != made


def test_index_remembers_the_engine(tiny_model, tiny_static, tmp_path):
    """An index built with the static engine opens only with that engine and that distillation."""
    from simgov.build.local import build
    from simgov.index import SimIndex

    items = tmp_path / "items.jsonl"
    rows = [{"item_id": f"i{n}", "seller_id": f"s{n % 3}", "title": f"acme {w} shoe size {n % 5}"}
            for n, w in enumerate(["blue", "red", "green", "black", "white", "grey"])]
    rows.append({"item_id": "copy", "seller_id": "s9", "title": "Acme blue shoe, size 0"})
    items.write_text("".join(json.dumps(r) + "\n" for r in rows))
    static = {"path": str(tiny_model), "engine": "static", "static_path": str(tiny_static)}
    index_dir = tmp_path / "idx"
    build(items, index_dir, Config.model_validate({"text_model": static}))

    manifest = json.loads((index_dir / "manifest.json").read_text())
    title = manifest["signals"]["title"]
    assert title["engine"] == "static" and title["static_dims"] == 8 and len(title["static_sha256"]) == 64

    index = SimIndex.open(index_dir)
    try:
        got = index.similar("copy", k=3)
        assert got[0].item_id == "i0" and "title" in got[0].signals
    finally:
        index.close()
    with pytest.raises(IndexMismatch, match="engine: index 'static' vs now None"):
        SimIndex.open(index_dir, create_with=Config.model_validate({"text_model": {"path": str(tiny_model),
                                                                                   "engine": "exact"}}))
    other = distill_static(tiny_model, tmp_path / "other", dims=4)
    with pytest.raises(IndexMismatch, match="static_sha256"):
        SimIndex.open(index_dir, create_with=Config.model_validate(
            {"text_model": {**static, "static_path": str(other), "static_dims": 4}}))


def test_title_profile_to_dict_is_asdict():
    """The hand-written TitleProfile.to_dict (a build hot path) must equal dataclasses.asdict."""
    from dataclasses import asdict, fields

    from simgov.signals import text as pt

    for title, kw in [('Sony KDL-46V3000 46" LCD TV black 1080p', {"brand": "Sony"}), ("", {}),
                      ("plain words only", {"description": "fits MB942Z/A and 500GB disks"}),
                      ("Canon EF 17mm - 85mm lens 2008", {"attributes": {"model": "EF-S 18-55"}})]:
        p = pt.profile(title, **kw)
        d = p.to_dict()
        assert d == asdict(p) and list(d) == [f.name for f in fields(p)]
        d["tokens"].append("x")
        assert "x" not in p.tokens


def test_mutual_best_arrays_matches_mutual_best():
    """The columnar mutual-best of the self-join gives mutual_best's flags, ties included."""
    from simgov.matching.decision import mutual_best, mutual_best_arrays

    rng = random.Random(7)
    for _ in range(30):
        pairs = []
        for _ in range(rng.randint(0, 60)):
            a, b = rng.sample(range(25), 2)
            pairs.append((min(a, b), max(a, b), f"s{min(a, b) % 4}", f"s{max(a, b) % 4}",
                          rng.choice([0.1, 0.5, 0.5, 0.9, rng.random()])))
        codes = {}
        cols = [np.array([p[i] for p in pairs], dtype=np.int64) for i in (0, 1)]
        sellers = [np.array([codes.setdefault(p[i], len(codes)) for p in pairs], dtype=np.int64) for i in (2, 3)]
        got = mutual_best_arrays(cols[0], cols[1], sellers[0], sellers[1], np.array([p[4] for p in pairs]))
        assert got.tolist() == mutual_best(pairs)


def test_exact_vector_cache_encodes_each_text_once(tiny_model):
    from simgov.encoders import ExactVectorCache

    exact = ExactEncoder(tiny_model)
    cache = ExactVectorCache(exact, max_texts=3)
    got = cache.encode(["acme shoe", "red bag", "acme shoe"])
    np.testing.assert_allclose(got, exact.encode(["acme shoe", "red bag", "acme shoe"]), atol=1e-6)
    cache.encode(["red bag"])
    assert cache.encoded == 2
    cache.encode(["blue hat", "wool mug"])  # over max_texts: emptied, what this call asks for kept
    assert cache.encoded == 4 and len(cache.vectors) <= 3
    assert cache.encode([]).shape == (0, exact.dim)


def test_static_engine_rescores_pairs_near_the_decision(tiny_model, tiny_static):
    """With every band re-scored, the static engine decides each pair as the exact model does: a pair
    whose decision no title band changes is the same either way, every other gets the exact cosine."""
    from simgov.compare import Comparer, Listing

    rng = random.Random(3)
    words = [w for w in WORDS if w.isalpha() and len(w) > 2]
    titles = [" ".join(rng.sample(words, 4)) + f" {rng.randint(1, 5)}" for _ in range(12)]
    pairs = [(Listing(title=a), Listing(title=b)) for a in titles for b in titles if a < b]
    pairs += [(Listing(title=t), Listing(title=t.replace(t.split()[0], rng.choice(words)))) for t in titles]
    decide = {}
    for name, text_model in [("exact", {"engine": "exact"}), ("static", {"engine": "static", "rescore_bands": 0}),
                             ("rescored", {"engine": "static", "rescore_bands": 6})]:
        config = Config.model_validate({"text_model": {"path": str(tiny_model), "static_path": str(tiny_static),
                                                       **text_model}})
        comparer = Comparer.bundled(config)
        decide[name] = comparer.compare_many(pairs, [])
        if name == "rescored":
            encoded = comparer.title.exact_encoded
        else:
            assert comparer.title.exact_encoded == 0  # exact: nothing to re-score; static: bands 0
    assert [c.match for c in decide["rescored"]] == [c.match for c in decide["exact"]]
    moved = [n for n, (s, e) in enumerate(zip(decide["static"], decide["exact"])) if s.levels != e.levels]
    assert moved and 0 < encoded <= len({p.title for pair in pairs for p in pair})
    rescored = [n for n, c in enumerate(decide["rescored"]) if c.signals != decide["static"][n].signals]
    assert rescored and all(decide["rescored"][n].posterior == decide["exact"][n].posterior for n in rescored)


def test_self_join_rescores_pairs_near_the_decision(tiny_model, tiny_static, tmp_path):
    """Every band re-scored: each titled pair of the self-join is decided as on its exact cosine's
    band (the static band where no band would decide otherwise), and only pairs near the decision
    cost an exact encoding."""
    from simgov.build.local import build
    from simgov.index import SimIndex
    from simgov.matching.catalogue import listing_texts
    from simgov.matching.levels import bundled_model, title_level
    from simgov.signals.text.levels import text_levels
    from simgov.title_rescore import rescore_pairs

    rng = random.Random(5)
    words = [w for w in WORDS if w.isalpha() and len(w) > 2]
    rows = [{"item_id": f"i{n}", "seller_id": f"s{n % 2}", "title": " ".join(rng.sample(words, 4)) + f" {n % 4}"}
            for n in range(40)]
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = Config.model_validate({"text_model": {"path": str(tiny_model), "engine": "static",
                                                   "static_path": str(tiny_static), "rescore_bands": 6}})
    build(items, tmp_path / "idx", config)
    index = SimIndex.open(tmp_path / "idx", create_with=config)
    try:
        table, names, item_ids, knn = index._pair_table(index.config.search.pairs_k, 20_000, 1)
        flags = index._decide_levels(table, names, item_ids, None, knn)
        static = table.copy()
        rescored = rescore_pairs(index, table, names, flags)
        title = index.signals["title"]
        stored = {v: s.item for v, s in index.store.items_by_vec(item_ids).items()}
        texts = listing_texts(stored)
        idf = index.signals["text"].idf()
        threshold = index.matcher.threshold
    finally:
        index.close()
    column = 6 + names.index("title")
    changed = np.flatnonzero(~((table == static) | (np.isnan(table) & np.isnan(static))).all(axis=1))
    assert 0 < rescored and len(changed) <= rescored <= title.exact_encoded < 2 * len(table)
    model = bundled_model()
    for row in range(len(table)):
        a, b = int(table[row, 0]), int(table[row, 1])
        exact = ExactEncoder(tiny_model).encode([stored[a].title, stored[b].title])
        levels = text_levels(texts[a], texts[b], idf, idf).levels
        before = model.logit({**levels, "title": title_level(float(static[row, column]))})
        after = model.logit({**levels, "title": title_level(float(exact[0] @ exact[1]))})
        p = static[row, 5] if flags[row] else static[row, 4]
        expected = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + after - before))) >= threshold
        assert ((table[row, 5] if flags[row] else table[row, 4]) >= threshold) == expected
