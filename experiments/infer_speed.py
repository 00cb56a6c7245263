"""Inference speed: ``esca infer`` (fold-in Gibbs) against gensim's ``get_document_topics``.

The same trained model, exported to gensim with :func:`esca.export.to_gensim`, infers the
topic proportions theta of the same unseen documents. Reported per setting:

* documents/s (median of ``--repeats`` timed calls, after one untimed call that compiles
  the Numba kernels); gensim is timed calling ``get_document_topics(bow,
  minimum_probability=0)`` document by document, as users call it;
* accuracy: the mean total-variation distance of each method's theta from a reference theta
  (fold-in with ``--reference`` sweeps and another seed), and the held-out perplexity by
  document completion (:func:`esca.evaluate.document_completion`) with the same sweeps.

Usage (from the repo root)::

    .venv/bin/python experiments/infer_speed.py MODEL.h5 TEST.h5 --threads 2 \\
        --settings 50:10 20:5 10:2 5:1 --out infer_speed.json

Writes a JSON result and prints a markdown table.
"""

import argparse
import json
import math
import sys
import time

import numba
import numpy as np

import esca
from esca.bench import git_revision, library_versions, machine_info
from esca.evaluate import document_completion, fold_in
from esca.export import to_gensim


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("corpus", help="unseen documents (esca corpus, matched to the model by word)")
    p.add_argument("--settings", nargs="+", default=["50:10", "20:5", "10:2", "5:1"],
                   metavar="SWEEPS:BURN_IN")
    p.add_argument("--reference", default="200:20", metavar="SWEEPS:BURN_IN")
    p.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    p.add_argument("--docs", type=int, default=0, help="use the first N documents (0: all)")
    p.add_argument("--gensim-docs", type=int, default=300,
                   help="documents timed with gensim (it is slow; default 300)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, metavar="RESULT.json")
    args = p.parse_args(argv)
    numba.set_num_threads(args.threads)

    model = esca.load_model(args.model)
    doc_ptr, word_ids, skipped = model.map_documents(esca.read_corpus(args.corpus))
    if args.docs:
        doc_ptr = doc_ptr[:args.docs + 1]
        word_ids = word_ids[:doc_ptr[-1]]
    D = len(doc_ptr) - 1
    phi, alpha = model.phi, model.alpha
    ref_s, ref_b = map(int, args.reference.split(":"))
    reference = fold_in(phi, alpha, doc_ptr, word_ids, sweeps=ref_s, burn_in=ref_b,
                        seed=args.seed + 1000)

    def tv(theta, rows=slice(None)):
        return float(0.5 * np.abs(theta - reference[rows]).sum(axis=1).mean())

    rows = []
    for setting in args.settings:
        sweeps, burn_in = map(int, setting.split(":"))
        fold_in(phi, alpha, doc_ptr[:2], word_ids[:doc_ptr[1]], sweeps=sweeps, burn_in=burn_in,
                seed=args.seed)  # compile
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            theta = fold_in(phi, alpha, doc_ptr, word_ids, sweeps=sweeps, burn_in=burn_in,
                            seed=args.seed)
            times.append(time.perf_counter() - t0)
        sec = float(np.median(times))
        h = document_completion(phi, alpha, (doc_ptr, word_ids), sweeps=sweeps, burn_in=burn_in,
                                seed=args.seed)
        rows.append({"method": f"esca fold-in {sweeps}:{burn_in}", "sweeps": sweeps,
                     "burn_in": burn_in, "threads": args.threads, "docs": D,
                     "seconds": sec, "docs_per_s": D / sec, "tokens_per_s": len(word_ids) / sec,
                     "tv_to_reference": tv(theta),
                     "completion_perplexity": h["perplexity"]})

    lda = to_gensim(model)
    G = min(D, args.gensim_docs)
    bows = [list(zip(*(x.tolist() for x in np.unique(word_ids[a:b], return_counts=True)),
                     strict=True))
            for a, b in zip(doc_ptr[:G], doc_ptr[1:G + 1], strict=True)]
    lda.get_document_topics(bows[0], minimum_probability=0)
    theta_g = np.zeros((G, model.num_topics))
    t0 = time.perf_counter()
    for d, bow in enumerate(bows):
        for k, p in lda.get_document_topics(bow, minimum_probability=0):
            theta_g[d, k] = p
    sec = time.perf_counter() - t0
    rows.append({"method": "gensim get_document_topics", "threads": 1, "docs": G,
                 "seconds": sec, "docs_per_s": G / sec,
                 "tokens_per_s": float(doc_ptr[G]) / sec,
                 "tv_to_reference": tv(theta_g, slice(0, G)),
                 "gensim_iterations": lda.iterations,
                 "gensim_gamma_threshold": lda.gamma_threshold})
    gensim_rate = rows[-1]["docs_per_s"]
    for r in rows:
        r["speed_vs_gensim"] = r["docs_per_s"] / gensim_rate
    sha, dirty = git_revision()
    result = {"command": " ".join(sys.argv), "model": args.model, "corpus": args.corpus,
              "K": model.num_topics, "V": model.num_words, "docs": D,
              "tokens": int(len(word_ids)), "mean_doc_tokens": len(word_ids) / max(D, 1),
              "tokens_of_unknown_words_skipped": skipped, "reference": args.reference,
              "rows": rows, "git_sha": sha, "git_dirty": dirty,
              "versions": library_versions(), "machine": machine_info()}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"K={model.num_topics}, {D} documents of {result['mean_doc_tokens']:.0f} tokens on "
          f"average; theta reference: fold-in {args.reference}\n")
    print("| method | threads | docs/s | × gensim | TV to reference | completion perplexity |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        cp = r.get("completion_perplexity")
        print(f"| {r['method']} | {r['threads']} | {r['docs_per_s']:,.0f} | "
              f"{r['speed_vs_gensim']:.2f} | {r['tv_to_reference']:.4f} | "
              f"{'-' if cp is None or math.isnan(cp) else f'{cp:,.1f}'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
