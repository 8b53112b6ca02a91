"""Vector stores: FAISS and Milvus behind one small protocol (`DenseStore`), chosen by the config.

base.py (the protocol, shared helpers, backend choice) <- faiss_index.py <- milvus.py <- stores.py
(create/open/release/discard a signal's dense store); nothing here imports upward.
"""
from .base import BACKEND_ENV, MILVUS_URI_ENV, DenseStore, dense_backend
from .faiss_index import BinaryIndex, DenseIndex
from .stores import create_dense_store, discard_dense_store, open_dense_store, release_dense_store

__all__ = ["BACKEND_ENV", "MILVUS_URI_ENV", "BinaryIndex", "DenseIndex", "DenseStore", "create_dense_store",
           "dense_backend", "discard_dense_store", "open_dense_store", "release_dense_store"]
