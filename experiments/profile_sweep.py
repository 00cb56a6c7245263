"""Where one ESCA sparse sweep spends its time, on a trained model's (converged) counts.

Times, on one rank with the given threads (median of 5 after a warm-up run): the whole
sweep; the sweep with the per-token draws removed (the pair part: building the
(document, word) weights); the Philox blocks alone; the per-word alias tables; and the
rebuild of the word-topic counts from z.

Usage::

    python experiments/profile_sweep.py CORPUS.h5 MODEL.h5 [THREADS]

MODEL.h5 must have been trained on CORPUS.h5 (its n_dk gives the documents' counts).
"""

import inspect
import sys
import time

import numba
import numpy as np

from esca import distributed, load_model, read_corpus
from esca.rng import pair_block, split_seed, u64_uniform
from esca.samplers import kernels as kern


def median_seconds(f, reps=5):
    f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


@numba.njit
def philox_only(n, lo, hi):
    s = 0.0
    for j in range(n // 2):
        h0, h1 = pair_block(lo, hi, 5, 1, j)
        s += u64_uniform(h0) + u64_uniform(h1)
    return s


def main(corpus_path, model_path, threads=1):
    numba.set_num_threads(threads)
    c = read_corpus(corpus_path)
    kern.sort_within_documents(c.doc_ptr, c.word_ids)
    m = load_model(model_path)
    n_wk = np.ascontiguousarray(m.n_kw.T)
    n_dk0 = m.n_dk.astype(np.int32)
    n_k = m.n_k.astype(np.int64)
    V, K = n_wk.shape
    alpha, beta = m.alpha, m.beta
    chunk_ptr = distributed.partition_documents(c.doc_ptr, 8 * threads)
    word_chunks = np.linspace(0, V, 8 * threads + 1).astype(np.int64)
    wa_ptr = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(np.minimum(n_wk.sum(axis=1), K), out=wa_ptr[1:])
    size = int(wa_ptr[-1])
    wa = (wa_ptr, np.zeros(V, np.int64), np.empty(size, np.int32), np.empty(size, np.int32),
          np.empty(size), np.empty(size, np.int32), np.empty(V))
    g_prob, g_alias = np.empty(K), np.empty(K, np.int32)
    gsum = kern.global_alias_table(n_k, alpha, beta, V, g_prob, g_alias)
    z = np.zeros(c.num_tokens, np.int32)
    n_dk = n_dk0.copy()
    seed = split_seed(1)
    N = c.num_tokens
    rows = []

    def add(name, sec):
        rows.append((name, sec))
        print(f"{name:40s} {sec:8.4f} s  ({N / sec / 1e6:7.1f} M tokens/s)", flush=True)

    add("per-word alias tables", median_seconds(
        lambda: kern.word_alias_tables(n_wk, n_k, alpha, beta, word_chunks, *wa)))
    src = inspect.getsource(kern.esca_sweep_sparse.py_func).replace(
        "@njit(parallel=True, cache=True)", "")
    a = src.index("                u, blk, h0, h1 = pair_uniform(")
    b = src.index("                z[i] = k\n")
    no_draws = "                k = np.int64(q > 0.5)\n"
    variants = {"whole sweep": src,
                "pair part only (draws removed)": src[:a] + no_draws + src[b:]}
    for name, text in variants.items():
        ns = dict(kern.__dict__)
        exec(text, ns)
        fn = numba.njit(parallel=True)(ns["esca_sweep_sparse"])

        def run(fn=fn):
            n_dk[:] = n_dk0
            fn(c.doc_ptr, c.word_ids, chunk_ptr, z, n_dk, n_wk, n_k, beta, *wa, g_prob, g_alias,
               gsum, 0, *seed, 5, 1, alpha, False)
        add(name, median_seconds(run))
    add("Philox half blocks only (1 thread)", median_seconds(lambda: philox_only(N, *seed)))
    word_ptr = np.zeros(V + 1, np.int64)
    np.cumsum(np.bincount(c.word_ids, minlength=V), out=word_ptr[1:])
    word_tok = np.argsort(c.word_ids, kind="stable").astype(np.int32)
    out = np.empty_like(n_wk)
    add("count rebuild", median_seconds(lambda: kern.count_word_topics(word_ptr, word_tok, z,
                                                                         out, len(z))))
    return rows


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
