"""``esca infer``: topic proportions of new documents under a trained model."""

DESCRIPTION = """\
Infer theta (document-topic proportions) for the documents of CORPUS.h5 under
MODEL.h5 by fold-in Gibbs sampling with the model's phi fixed: each token is
resampled from (n_dk + alpha_k) phi_kw for --sweeps sweeps, and theta averages
the sweeps after --burn-in. Documents run in parallel over Numba threads and
the result depends only on --seed. Words of CORPUS.h5 are matched to the
model's vocabulary by string; unknown words are skipped and counted.

writes OUT.h5 (atomically):
  /theta      float64 (D, K)   rows sum to 1
  /doc_index  int64   (D,)     the corpus's doc_index, when it has one
  attrs: format="esca-theta", model, corpus, sweeps, burn_in, seed, tokens,
         tokens_skipped, seconds, docs_per_s

Progress: the documents are folded in in chunks of about 1% of the tokens
(at least 200,000 tokens each; the result is bit-identical to one call of
esca.evaluate.fold_in). When standard error is a terminal, a run longer than
a second draws a bar over the documents there; otherwise a line is logged
every 10 seconds. --quiet (before or after 'infer') hides both.

examples:
  esca prepare new.txt --format text --out new.h5
  esca infer model.h5 new.h5 --out theta.h5 --sweeps 50 --burn-in 10 --seed 1
  esca infer model.h5 new.h5 -o theta.h5 --threads 4 --quiet
"""

#: Fold-in runs in about this many chunks of documents (progress is reported after each) ...
CHUNKS = 100
#: ... of at least this many tokens each, so that small inputs run in one chunk.
MIN_CHUNK_TOKENS = 200_000


def setup_arguments(subparsers):
    """Add the ``infer`` subcommand to an argparse ``subparsers`` object."""
    import argparse
    p = subparsers.add_parser("infer", help="infer topic proportions of new documents",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL.h5")
    p.add_argument("corpus", metavar="CORPUS.h5", help="esca corpus (see esca prepare)")
    p.add_argument("--out", "-o", required=True, metavar="OUT.h5")
    p.add_argument("--sweeps", type=int, default=50, help="Gibbs sweeps (default 50)")
    p.add_argument("--burn-in", type=int, default=10,
                   help="sweeps discarded before averaging theta (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="Numba threads (default: all)")
    p.set_defaults(func=run)


def run(args):
    """Run ``esca infer``; returns the exit status (0).

    Raises
    ------
    UserError
        On an unreadable model or corpus, bad options or an unwritable output.
    """
    import json
    import os
    import time

    import h5py
    import numba

    import esca
    from esca._io import atomic_path, check_output_file
    from esca.corpus import BUILTIN_PREFIX, read_doc_index
    from esca.errors import UserError
    from esca.progress import StageProgress

    from .main import show_progress_bar
    check_output_file(args.out)
    for name, path in (("MODEL.h5", args.model), ("CORPUS.h5", args.corpus)):
        if (not path.startswith(BUILTIN_PREFIX) and os.path.exists(path)
                and os.path.exists(args.out) and os.path.samefile(path, args.out)):
            raise UserError(f"--out {args.out} would overwrite the input {name} {path}")
    if args.threads is not None:
        if not 1 <= args.threads <= numba.config.NUMBA_NUM_THREADS:
            raise UserError(f"--threads must be in 1..{numba.config.NUMBA_NUM_THREADS}, "
                            f"got {args.threads}")
        numba.set_num_threads(args.threads)
    model = esca.load_model(args.model)
    corpus = esca.read_corpus(args.corpus)
    doc_ptr, word_ids, skipped = model.map_documents(corpus)
    t0 = time.perf_counter()
    with StageProgress(bar=show_progress_bar(args)) as progress:
        theta = fold_in_chunks(model.phi, model.alpha, doc_ptr, word_ids, sweeps=args.sweeps,
                               burn_in=args.burn_in, seed=args.seed, progress=progress)
    sec = time.perf_counter() - t0
    D = theta.shape[0]
    doc_index = read_doc_index(args.corpus)
    with atomic_path(args.out) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("theta", data=theta)
        if doc_index is not None:
            f.create_dataset("doc_index", data=doc_index)
        f.attrs.update({"format": "esca-theta", "model": os.path.abspath(args.model),
                        "corpus": os.path.abspath(args.corpus), "sweeps": args.sweeps,
                        "burn_in": args.burn_in, "seed": args.seed,
                        "tokens": int(len(word_ids)), "tokens_skipped": skipped,
                        "seconds": sec, "docs_per_s": D / sec if sec > 0 else 0.0,
                        "esca_version": esca.__version__,
                        "options": json.dumps(vars(args), default=str)})
    print(f"inferred theta of {D} documents ({len(word_ids)} tokens, {skipped} of unknown words "
          f"skipped) in {sec:.2f} s: {D / sec if sec > 0 else 0.0:,.0f} documents/s "
          f"(including Numba compilation on a first run); wrote {args.out}")
    return 0


def fold_in_chunks(phi, alpha, doc_ptr, word_ids, *, sweeps=50, burn_in=10, seed=0,
                   progress=None, chunk_tokens=None):
    """:func:`esca.evaluate.fold_in` over chunks of documents, reporting after each chunk.

    The same steps as ``esca.evaluate._run_fold_in``, with the fold-in
    kernel called once per chunk: the word-major phi rows and (sparse kernel,
    K >= ``SPARSE_MIN_K``) the Walker alias tables are built once for all
    distinct words, then the documents run in contiguous chunks balanced by
    tokens (:func:`esca.distributed.partition_documents`), each token keyed
    by its index in the whole ``word_ids``. Documents are independent and
    random numbers are keyed by (seed, sweep, token index), so theta is
    bit-identical to ``fold_in(phi, alpha, doc_ptr, word_ids, sweeps=...,
    burn_in=..., seed=...)`` for any chunk size (tests/test_progress.py
    checks it for both kernels).

    Parameters
    ----------
    phi, alpha, doc_ptr, word_ids, sweeps, burn_in, seed
        As in :func:`esca.evaluate.fold_in`.
    progress : callable, optional
        Called as ``progress("fold-in", done, D)`` with the documents done:
        once before the first chunk (0) and after each chunk.
    chunk_tokens : int, optional
        Tokens per chunk (about; a document is never split). Default:
        ``max(MIN_CHUNK_TOKENS, ceil(N / CHUNKS))``.

    Returns
    -------
    theta : ndarray of float64, shape (D, K)
        Rows sum to 1.

    Raises
    ------
    UserError
        As :func:`esca.evaluate.fold_in`, before any chunk runs.
    """
    import numba
    import numpy as np

    from esca.distributed import partition_documents
    from esca.evaluate import (
        SPARSE_MIN_K,
        _alias_tables,
        _check_docs,
        _check_model,
        _check_seed,
        _check_sweeps,
        _chunks,
        _fold_in_dense,
        _fold_in_sparse,
        _word_rows,
    )
    from esca.rng import split_seed
    phi, alpha = _check_model(phi, alpha, "fold_in")
    doc_ptr, word_ids = _check_docs(doc_ptr, word_ids, phi.shape[1], "fold_in")
    sweeps, burn_in = _check_sweeps(sweeps, burn_in)
    seed = _check_seed(seed)
    K, sparse = phi.shape[0], phi.shape[0] >= SPARSE_MIN_K
    D, N = len(doc_ptr) - 1, len(word_ids)
    if chunk_tokens is None:
        chunk_tokens = max(MIN_CHUNK_TOKENS, -(-N // CHUNKS))
    bounds = partition_documents(doc_ptr, max(1, min(D, -(-N // max(1, chunk_tokens)))))
    words, word_loc = np.unique(word_ids, return_inverse=True)
    phi_loc = _word_rows(phi, words.astype(np.int64), "fold_in")
    word_loc = word_loc.astype(np.int32).ravel()
    seed_lo, seed_hi = split_seed(seed)
    W = len(words)
    if sparse:
        prob = np.empty((W, K), dtype=np.float64)
        alias = np.empty((W, K), dtype=np.int32)
        qsum = np.empty(W, dtype=np.float64)
        row_chunks = np.linspace(0, W, _chunks(W) + 1).astype(np.int64)
        with numba.parallel_chunksize(1):
            _alias_tables(phi_loc, alpha, row_chunks, prob, alias, qsum)
    theta = np.empty((D, K), dtype=np.float64)
    if progress is not None:
        progress("fold-in", 0, D)
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        if a == b:
            continue
        t0, t1 = int(doc_ptr[a]), int(doc_ptr[b])
        ptr = doc_ptr[a:b + 1] - t0
        loc = word_loc[t0:t1]
        chunk_ptr = partition_documents(ptr, _chunks(b - a))
        z = np.empty(t1 - t0, dtype=np.int32)
        out = np.empty((b - a, K), dtype=np.float64)
        with numba.parallel_chunksize(1):
            if sparse:
                _fold_in_sparse(ptr, loc, chunk_ptr, phi_loc, alpha, prob, alias, qsum, sweeps,
                                burn_in, seed_lo, seed_hi, np.int64(t0), True, z,
                                np.zeros(t1 - t0), out)
            else:
                _fold_in_dense(ptr, loc, chunk_ptr, phi_loc, alpha, sweeps, burn_in, seed_lo,
                               seed_hi, np.int64(t0), True, z, out)
        theta[a:b] = out
        if progress is not None:
            progress("fold-in", b, D)
    return theta
