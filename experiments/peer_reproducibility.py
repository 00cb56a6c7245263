"""Do tomotopy and scikit-learn give the same model for a seed twice, and at another worker count?

For the README's comparison table (issue 12, item 10). tomotopy's maintainer says the result
for a fixed seed is the same on one machine with ``workers=1`` (bab2min/tomotopy#63) and
that it depends on the SIMD build (#63, #60); ``LDAModel.train`` itself warns "The training
result may differ even with fixed seed if `workers` != 1". This script trains the same
``LDAModel`` (seed 1, ``optim_interval=0``) twice for each parallel scheme and worker count
and compares the topic-word distributions bit for bit (a SHA-256 of
``get_topic_word_dist`` for every topic) and the log-likelihood per word.

Usage (from the repo root; tomotopy comes with ``pip install '.[bench]'``)::

    .venv/bin/python experiments/tomotopy_reproducibility.py \\
        ../shared/corpora/kjv_chapters/kjv_chapters.tokens.txt.gz -k 20 -n 100 --workers 1 2 3 4

The input is a text file (optionally gzipped), one document per line, tokens separated by
whitespace. Prints a markdown table. ``--only sklearn`` runs scikit-learn's
``LatentDirichletAllocation`` (batch variational Bayes, ``max_iter=10``) on the same documents
counted by ``CountVectorizer``, twice for each ``n_jobs`` in ``--workers``, and compares
``components_`` bit for bit.
"""

import argparse
import gzip
import hashlib

import numpy as np


def read_docs(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [line.split() for line in f if line.strip()]


def train(docs, k, iterations, workers, scheme, seed):
    """(SHA-256 prefix of the K x V topic-word distributions, log-likelihood per word)."""
    import tomotopy as tp  # noqa: PLC0415 - an optional peer

    model = tp.LDAModel(k=k, alpha=5.0 / k, eta=0.01, seed=seed)
    model.optim_interval = 0
    for doc in docs:
        model.add_doc(doc)
    model.train(iterations, workers=workers, parallel=scheme)
    phi = np.array([model.get_topic_word_dist(t) for t in range(model.k)])
    return hashlib.sha256(phi.tobytes()).hexdigest()[:16], model.ll_per_word


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("docs", help="text file, one document per line (.gz allowed)")
    ap.add_argument("-k", type=int, default=20)
    ap.add_argument("-n", "--iterations", type=int, default=100)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=["tomotopy", "sklearn"], default=None)
    args = ap.parse_args(argv)
    docs = read_docs(args.docs)
    if args.only != "sklearn":
        run_tomotopy(docs, args)
    if args.only != "tomotopy":
        run_sklearn(docs, args)


def sklearn_fit(X, k, workers, seed):
    from sklearn.decomposition import LatentDirichletAllocation  # noqa: PLC0415 - sklearn is slow to import
    lda = LatentDirichletAllocation(n_components=k, doc_topic_prior=5.0 / k, topic_word_prior=0.01,
                                    max_iter=10, random_state=seed, n_jobs=workers)
    return lda.fit(X).components_


def run_sklearn(docs, args):
    import sklearn  # noqa: PLC0415 - sklearn is slow to import
    from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415 - slow to import
    X = CountVectorizer(analyzer=lambda d: d).fit_transform(docs)
    print(f"\nscikit-learn {sklearn.__version__}, D = {X.shape[0]}, K = {args.k}, 10 batch EM "
          f"iterations, random_state {args.seed}\n")
    print("| n_jobs | run 1: components_ SHA-256 | run 2 | same? | max abs difference from n_jobs "
          f"{args.workers[0]} |")
    print("|---:|---|---|---|---:|")
    first = None
    for workers in args.workers:
        a = sklearn_fit(X, args.k, workers, args.seed)
        b = sklearn_fit(X, args.k, workers, args.seed)
        first = a if first is None else first
        ha, hb = (hashlib.sha256(c.tobytes()).hexdigest()[:16] for c in (a, b))
        print(f"| {workers} | `{ha}` | `{hb}` | {'yes' if ha == hb else 'no'} | "
              f"{np.abs(a - first).max():.3g} |", flush=True)


def run_tomotopy(docs, args):
    import tomotopy as tp  # noqa: PLC0415 - an optional peer
    print(f"tomotopy {tp.__version__} ({tp.isa}), D = {len(docs)}, K = {args.k}, "
          f"{args.iterations} iterations, seed {args.seed}\n")
    print("| parallel scheme | workers | run 1: phi SHA-256, LL/word | run 2 | same? |")
    print("|---|---:|---|---|---|")
    for scheme in (tp.ParallelScheme.DEFAULT, tp.ParallelScheme.PARTITION,
                   tp.ParallelScheme.COPY_MERGE):
        for workers in args.workers:
            a = train(docs, args.k, args.iterations, workers, scheme, args.seed)
            b = train(docs, args.k, args.iterations, workers, scheme, args.seed)
            print(f"| {scheme.name} | {workers} | `{a[0]}`, {a[1]:.6f} | `{b[0]}`, {b[1]:.6f} "
                  f"| {'yes' if a == b else 'no'} |", flush=True)


if __name__ == "__main__":
    main()
