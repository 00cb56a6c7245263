"""Why ESCA converges slowly early and has worse coherence than collapsed Gibbs (issue 15).

Trains LDA variants on one train split (``esca.split.split_holdout``, fraction 0.1, seed 1)
and records, at iterations 1, 2, 5, 10, 20, 50, 100, 200, held-out perplexity by esca's own
document-completion evaluator (``esca.metrics.document_completion``, its defaults) and the
training log-likelihood per token (Griffiths & Steyvers), and at the end the top 10 words of
every topic, from which ``report`` computes u_mass and c_npmi coherence
(``esca.metrics.topic_coherence``). Quality only: no timings are recorded.

Variants (``--variant``, repeatable):

``cgs``
    ``esca.train(sampler="cgs")`` (the baseline).
``esca``
    ``esca.train(sampler="esca")`` as shipped (sparse kernel at K >= 100).
``esca+BN``, ``esca+excl``, ``esca+BN+excl``
    ``esca.train`` with ``init_blocks=N`` (the product's sequential first pass, before
    iteration 1) and/or ``own_topic="exclude"``.
``incl``
    This script's dense ESCA: every token drawn in parallel from the previous iteration's
    counts, its own previous assignment included, p(k) ∝ (n_dk + alpha)(n_wk + beta) /
    (n_k + V beta). The same update as ``esca`` (a check of this script's kernel).
``excl``
    Dense ESCA with the token's own previous assignment z_old removed from the stale counts,
    as collapsed Gibbs does: p(k) ∝ (n_dk - [k=z_old] + alpha)(n_wk - [k=z_old] + beta) /
    (n_k - [k=z_old] + V beta); all other counts stale.
``blockB+incl``, ``blockB+excl``
    Iteration 1 is a blockwise first pass: the documents are cut into B blocks of about N/B
    tokens in corpus order (independent of threads), the counts start empty, and each block
    is drawn from the word-topic counts after the previous blocks; within a document the
    tokens are drawn in order, each seeing the document's topics drawn so far (a
    sequential-like initialization; the document's state is local to one thread, so the
    result does not depend on the thread count). Iterations 2.. are ``incl`` or ``excl``.
``blockBs+incl``, ``blockBs+excl``
    The same, but within a block the document counts stay empty (each token sees only its
    word's counts after the previous blocks).

For the dense kernels the script also records, per iteration, the mean over tokens of
q(z_old)/Z_q (how often a draw from the frozen, own-token-included distribution q hits the
token's old topic) and of (q(z_old) - p(z_old))/Z_q, the probability that such a draw is
rejected when the ``excl`` distribution p is sampled by rejection against q
(p <= q pointwise; see README.md in the results folder).

Usage (from the repo root)::

    .venv/bin/esca prepare ../shared/corpora/20newsgroups/docword.20newsgroups.txt.gz \\
        --format uci --vocab ../shared/corpora/20newsgroups/vocab.20newsgroups.txt \\
        --out /tmp/study_20news.h5
    .venv/bin/python experiments/burn_in_study.py run --name 20newsgroups \\
        --corpus /tmp/study_20news.h5 \\
        --texts ../shared/corpora/20newsgroups/20newsgroups.tokens.txt.gz \\
        -k 100 --iterations 200 --variant cgs --variant esca --variant excl \\
        --out experiments/results/burn_in_study
    .venv/bin/python experiments/burn_in_study.py report --out experiments/results/burn_in_study

Each (corpus, alpha, variant) run is kept in ``OUT/NAME/VARIANT[@aALPHA].json`` and is not
run again unless ``--force``; ``report`` adds the coherences to every run file (one gensim
pass per corpus and measure for all runs) and writes ``OUT/burn_in_study.json``,
``OUT/table.md`` and ``OUT/perplexity.png``.
"""

import argparse
import glob
import gzip
import json
import math
import os
import re

import numpy as np
from numba import njit, prange

import esca
from esca.corpus import Corpus, read_corpus
from esca.metrics import bag_of_words, document_completion, topic_coherence
from esca.model import top_word_ids
from esca.plot import new_figure, save_png
from esca.rng import split_seed, token_uniform
from esca.split import split_holdout

EVAL_AT = (1, 2, 5, 10, 20, 50, 100, 200)
STREAM = 11        # this script's random-number stream (esca uses 0..5)
STREAM_INIT = 12
TOPN = 10


# -- kernels ---------------------------------------------------------------------------------

@njit(cache=True)
def _search(cum, K, x):
    """First k with cum[k] > x (cum nondecreasing, x < cum[K-1])."""
    lo, hi = 0, K - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(parallel=True, cache=True)
def init_uniform(z, K, seed_lo, seed_hi):
    for i in prange(len(z)):
        z[i] = min(int(token_uniform(seed_lo, seed_hi, 0, STREAM_INIT, i) * K), K - 1)


@njit(parallel=True, cache=True)
def count_docs(doc_ptr, z, n_dk):
    for d in prange(len(doc_ptr) - 1):
        n_dk[d, :] = 0
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            n_dk[d, z[i]] += 1


@njit(cache=True)
def count_words(word_ids, z, n_wk, n_k):
    n_wk[:, :] = 0
    n_k[:] = 0
    for i in range(len(z)):
        n_wk[word_ids[i], z[i]] += 1
        n_k[z[i]] += 1


@njit(parallel=True, cache=True)
def esca_sweep(doc_ptr, word_ids, z, n_dk_old, n_dk_new, n_wk, n_k, alpha, beta, exclude,  # noqa: PLR0913, E501 - kernel
               seed_lo, seed_hi, iteration, stats):
    """One ESCA sweep from stale counts; writes z and n_dk_new; stats[d] = (sum over the
    document's tokens of q(z_old)/Z_q, of (q(z_old) - p(z_old))/Z_q)."""
    V, K = n_wk.shape
    vbeta = V * beta
    inv = 1.0 / (n_k + vbeta)
    for d in prange(len(doc_ptr) - 1):
        cum = np.empty(K)
        for k in range(K):
            n_dk_new[d, k] = 0
        hit = 0.0
        rej = 0.0
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            w = word_ids[i]
            zo = z[i]
            s = 0.0
            for k in range(K):
                s += (n_dk_old[d, k] + alpha[k]) * (n_wk[w, k] + beta) * inv[k]
                cum[k] = s
            q_old = (n_dk_old[d, zo] + alpha[zo]) * (n_wk[w, zo] + beta) * inv[zo]
            p_old = ((n_dk_old[d, zo] - 1 + alpha[zo]) * (n_wk[w, zo] - 1 + beta)
                     / (n_k[zo] - 1 + vbeta))
            hit += q_old / s
            rej += (q_old - p_old) / s
            if exclude:
                delta = q_old - p_old
                for k in range(zo, K):
                    cum[k] -= delta
                s -= delta
            u = token_uniform(seed_lo, seed_hi, iteration, STREAM, i)
            k = _search(cum, K, u * s)
            z[i] = k
            n_dk_new[d, k] += 1
        stats[d, 0] = hit
        stats[d, 1] = rej


@njit(parallel=True, cache=True)
def block_pass(doc_ptr, word_ids, z, n_dk, n_wk, n_k, alpha, beta, d0, d1, doc_seq,  # noqa: PLR0913 - kernel
               seed_lo, seed_hi, iteration):
    """Draw the tokens of documents d0..d1 from n_wk, n_k (the counts of the earlier blocks)
    and, with ``doc_seq``, each document's topics drawn so far; writes z and n_dk rows."""
    V, K = n_wk.shape
    vbeta = V * beta
    inv = 1.0 / (n_k + vbeta)
    for d in prange(d0, d1):
        cum = np.empty(K)
        for k in range(K):
            n_dk[d, k] = 0
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            w = word_ids[i]
            s = 0.0
            for k in range(K):
                nd = n_dk[d, k] if doc_seq else 0
                s += (nd + alpha[k]) * (n_wk[w, k] + beta) * inv[k]
                cum[k] = s
            u = token_uniform(seed_lo, seed_hi, iteration, STREAM, i)
            k = _search(cum, K, u * s)
            z[i] = k
            n_dk[d, k] += 1


@njit(cache=True)
def add_words(word_ids, z, a, b, n_wk, n_k):
    for i in range(a, b):
        n_wk[word_ids[i], z[i]] += 1
        n_k[z[i]] += 1


@njit(parallel=True, cache=True)
def _lgamma_sum_rows(counts, prior, out):
    R, K = counts.shape
    for r in prange(R):
        s = 0.0
        for k in range(K):
            s += math.lgamma(counts[r, k] + prior[k])
        out[r] = s


def loglik_per_token(n_dk, n_wk, n_k, alpha, beta):
    """Joint log p(w, z) / N (Griffiths & Steyvers, PNAS 2004, eqs. 2-3)."""
    V, K = n_wk.shape
    N = int(n_k.sum())
    rows = np.empty(V)
    _lgamma_sum_rows(n_wk, np.full(K, beta), rows)
    words = (K * (math.lgamma(V * beta) - V * math.lgamma(beta)) + math.fsum(rows.tolist())
             - sum(math.lgamma(n + V * beta) for n in n_k.tolist()))
    docs_rows = np.empty(n_dk.shape[0])
    _lgamma_sum_rows(n_dk, alpha, docs_rows)
    a = float(alpha.sum())
    lens = n_dk.sum(axis=1)
    docs = (len(lens) * (math.lgamma(a) - sum(math.lgamma(x) for x in alpha.tolist()))
            + math.fsum(docs_rows.tolist()) - sum(math.lgamma(n + a) for n in lens.tolist()))
    return (words + docs) / N


# -- runs ------------------------------------------------------------------------------------

def parse_variant(name):
    """(first pass blocks or 0, doc_seq, exclude) of a dense variant name."""
    m = re.fullmatch(r"(?:block(\d+)(s?)\+)?(incl|excl)", name)
    if not m:
        raise SystemExit(f"unknown variant {name!r}")
    return int(m.group(1) or 0), m.group(2) != "s", m.group(3) == "excl"


def block_bounds(doc_ptr, B):
    """Document boundaries of B blocks of about N/B tokens each (corpus order)."""
    N = doc_ptr[-1]
    cuts = np.searchsorted(doc_ptr, np.arange(1, B) * N / B, side="left")
    return np.unique(np.concatenate([[0], cuts, [len(doc_ptr) - 1]])).astype(np.int64)


class Evaluator:
    """Perplexity on the held-out documents at the evaluation iterations."""

    def __init__(self, test, beta):
        self.test, self.beta = test, beta
        self.curve = []

    def __call__(self, it, n_wk, n_k, alpha, ll, stats=None):
        V = n_wk.shape[0]
        phi = ((n_wk + self.beta) / (n_k + V * self.beta)).T
        phi = np.ascontiguousarray(phi / phi.sum(axis=1, keepdims=True))
        dc = document_completion(phi, alpha, self.test)
        row = {"iteration": it, "perplexity": dc["perplexity"], "loglik_per_token": ll}
        if stats is not None:
            row.update(stats)
        self.curve.append(row)
        print(f"  it {it:4d}  perplexity {dc['perplexity']:9.1f}  LL/token {ll:8.4f}"
              + (f"  hit {stats['hit_old']:.3f} reject {stats['reject']:.3f}" if stats else ""),
              flush=True)


def run_esca_train(train, test, variant, K, iterations, alpha, beta, seed, threads):
    ev = Evaluator(test, beta)

    def callback(rec):
        it = rec["iteration"]
        if it in EVAL_AT or it == iterations:
            ev(it, np.asarray(rec["n_kw"]).T, np.asarray(rec["n_k"]), np.asarray(rec["alpha"]),
               rec["loglik_per_token"])

    m = re.fullmatch(r"(esca|cgs)(?:\+B(\d+))?(\+excl)?", variant)
    model = esca.train(train, num_topics=K, iterations=iterations, alpha=alpha, beta=beta,
                       seed=seed, sampler=m.group(1), threads=threads, eval_every=1,
                       init_blocks=int(m.group(2) or 0),
                       own_topic="exclude" if m.group(3) else "include",
                       callback=callback, progress=False)
    check = loglik_per_token(model.n_dk, np.ascontiguousarray(model.n_kw.T), model.n_k,
                             model.alpha, beta)
    return ev.curve, model.n_kw, {"loglik_check": [check, float(model.log["loglik_per_token"][-1])],
                                  "kernel": model.info.get("kernel")}


def run_dense(train, test, variant, K, iterations, alpha, beta, seed):
    blocks, doc_seq, exclude = parse_variant(variant)
    doc_ptr, word_ids = train.doc_ptr, train.word_ids
    D, V, N = train.num_docs, train.num_words, len(word_ids)
    alpha_v = np.full(K, alpha)
    lo, hi = split_seed(seed)
    z = np.empty(N, dtype=np.int32)
    n_dk = np.zeros((D, K), dtype=np.int32)
    n_dk2 = np.zeros((D, K), dtype=np.int32)
    n_wk = np.zeros((V, K), dtype=np.int32)
    n_k = np.zeros(K, dtype=np.int64)
    stats = np.zeros((D, 2))
    ev = Evaluator(test, beta)
    hit_curve = []
    first = 1
    if blocks:
        bounds = block_bounds(doc_ptr, blocks)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            block_pass(doc_ptr, word_ids, z, n_dk, n_wk, n_k, alpha_v, beta, a, b, doc_seq,
                       lo, hi, 1)
            add_words(word_ids, z, doc_ptr[a], doc_ptr[b], n_wk, n_k)
        first = 2
        if 1 in EVAL_AT:
            ev(1, n_wk, n_k, alpha_v, loglik_per_token(n_dk, n_wk, n_k, alpha_v, beta))
    else:
        init_uniform(z, K, lo, hi)
        count_docs(doc_ptr, z, n_dk)
        count_words(word_ids, z, n_wk, n_k)
    for it in range(first, iterations + 1):
        esca_sweep(doc_ptr, word_ids, z, n_dk, n_dk2, n_wk, n_k, alpha_v, beta, exclude,
                   lo, hi, it, stats)
        n_dk, n_dk2 = n_dk2, n_dk
        count_words(word_ids, z, n_wk, n_k)
        st = {"hit_old": float(stats[:, 0].sum() / N), "reject": float(stats[:, 1].sum() / N)}
        hit_curve.append({"iteration": it, **st})
        if it in EVAL_AT or it == iterations:
            ev(it, n_wk, n_k, alpha_v, loglik_per_token(n_dk, n_wk, n_k, alpha_v, beta), st)
    return ev.curve, np.ascontiguousarray(n_wk.T), {"draw_stats": hit_curve,
                                                    "blocks": blocks, "doc_seq": doc_seq,
                                                    "exclude": exclude}


def load_split(path, docs):
    c = read_corpus(path)
    if docs and docs < c.num_docs:
        ptr = c.doc_ptr[:docs + 1].copy()
        c = Corpus(ptr, c.word_ids[:ptr[-1]].copy(), list(c.vocab), attrs=dict(c.attrs))
    train, test, info = split_holdout(c, 0.1, 1)
    return train, test, info


def cmd_run(args):
    train, test, info = load_split(args.corpus, args.docs)
    alpha = args.alpha if args.alpha is not None else 5.0 / args.k
    folder = os.path.join(args.out, args.name)
    os.makedirs(folder, exist_ok=True)
    print(f"{args.name}: train D={train.num_docs} V={train.num_words} N={len(train.word_ids)}; "
          f"test D={test.num_docs}; K={args.k} alpha={alpha:g} beta={args.beta:g}", flush=True)
    for variant in args.variant:
        tag = (variant + ("" if args.alpha is None else f"@a{args.alpha:g}")
               + (f"@s{args.seed}" if args.seed else ""))
        path = os.path.join(folder, tag + ".json")
        if os.path.exists(path) and not args.force:
            print(f"{tag}: done already ({path})")
            continue
        print(f"{tag}:", flush=True)
        if re.fullmatch(r"(esca|cgs)(\+B\d+)?(\+excl)?", variant):
            curve, n_kw, extra = run_esca_train(train, test, variant, args.k, args.iterations,
                                                alpha, args.beta, args.seed, args.threads)
        else:
            curve, n_kw, extra = run_dense(train, test, variant, args.k, args.iterations, alpha,
                                           args.beta, args.seed)
        top = top_word_ids(n_kw, TOPN)
        out = {"corpus": args.name, "variant": variant, "tag": tag, "K": args.k,
               "alpha": alpha, "beta": args.beta, "seed": args.seed,
               "iterations": args.iterations, "corpus_path": args.corpus, "docs": args.docs,
               "texts": args.texts, "train_docs": train.num_docs,
               "train_tokens": int(len(train.word_ids)), "V": train.num_words,
               "test_docs": test.num_docs, "curve": curve,
               "top_words": [[train.vocab[w] for w in row] for row in top], **extra}
        with open(path, "w") as f:
            json.dump(out, f, indent=1)


# -- report ----------------------------------------------------------------------------------

def coherences(runs):
    """Add u_mass and c_npmi (mean over topics) to every run of one corpus, in one gensim
    pass per measure over all runs' topics."""
    from gensim.corpora import Dictionary  # noqa: PLC0415 - gensim is slow to import
    r0 = runs[0]
    train, _, info = load_split(r0["corpus_path"], r0["docs"])
    dictionary = Dictionary()
    dictionary.token2id = {w: i for i, w in enumerate(train.vocab)}
    topics = [t for r in runs for t in r["top_words"]]
    umass = topic_coherence(topics, dictionary, "u_mass", corpus=bag_of_words(train))[1]
    wanted = set(info["train_doc_ids"].tolist())
    texts = []
    with gzip.open(r0["texts"], "rt", encoding="utf-8") as f:
        for d, line in enumerate(f):
            if r0["docs"] and d >= r0["docs"]:
                break
            if d in wanted:
                texts.append(line.split())
    assert len(texts) == train.num_docs
    npmi = topic_coherence(topics, dictionary, "c_npmi", texts=texts)[1]
    pos = 0
    for r in runs:
        K = len(r["top_words"])
        r["u_mass"] = float(np.mean(umass[pos:pos + K]))
        r["c_npmi"] = float(np.mean(npmi[pos:pos + K]))
        pos += K


def at(run, it):
    for row in run["curve"]:
        if row["iteration"] == it:
            return row["perplexity"]
    return math.nan


def cmd_report(args):
    by_corpus = {}
    for path in sorted(glob.glob(os.path.join(args.out, "*", "*.json"))):
        with open(path) as f:
            r = json.load(f)
        r["_path"] = path
        by_corpus.setdefault(r["corpus"], []).append(r)
    lines = ["| corpus | variant | alpha | seed | ppl @1 | ppl @10 | ppl @20 | ppl @end (it) | "
             "@20 vs cgs | @end vs cgs | LL/token @10 | u_mass | c_npmi | reject @end |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _name, runs in sorted(by_corpus.items()):
        if args.coherence or any("u_mass" not in r for r in runs):
            coherences(runs)
            for r in runs:
                path = r.pop("_path")
                with open(path, "w") as f:
                    json.dump(r, f, indent=1)
                r["_path"] = path
    panels = sorted({(name, r["alpha"]) for name, runs in by_corpus.items() for r in runs},
                    key=lambda p: (p[0], -p[1]))
    fig = new_figure((6.0 * len(panels), 4.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, alpha) in zip(axes, panels, strict=True):
        runs = sorted((r for r in by_corpus[name] if r["alpha"] == alpha),
                      key=lambda r: (r["seed"], r["variant"] != "cgs", r["variant"] != "esca",
                                     r["tag"]))
        for r in runs:
            base = next((b for b in runs if b["variant"] == "cgs" and b["seed"] == r["seed"]),
                        None)
            end = r["curve"][-1]["iteration"]
            rel20 = at(r, 20) / at(base, 20) - 1 if base else math.nan
            rel_end = at(r, end) / at(base, end) - 1 if base else math.nan
            ll10 = next((x["loglik_per_token"] for x in r["curve"] if x["iteration"] == 10),
                        math.nan)
            rej = r["curve"][-1].get("reject", math.nan)
            lines.append(f"| {name} | {r['variant']} | {r['alpha']:g} | {r['seed']} | "
                         f"{at(r, 1):,.0f} | "
                         f"{at(r, 10):,.0f} | {at(r, 20):,.0f} | {at(r, end):,.0f} ({end}) | "
                         f"{rel20:+.1%} | {rel_end:+.1%} | {ll10:.3f} | {r['u_mass']:.3f} | "
                         f"{r['c_npmi']:.4f} | {rej:.3f} |")
            it = [x["iteration"] for x in r["curve"]]
            pp = [x["perplexity"] for x in r["curve"]]
            ax.plot(it, pp, marker="o", ms=3, lw=1.6 if r["variant"] == "cgs" else 1.1,
                    color="black" if r["variant"] == "cgs" else None,
                    ls="-" if r["seed"] == 0 else ":",
                    label=r["variant"] + (f" seed {r['seed']}" if r["seed"] else ""))
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter("{x:g}")
        base = next((b for b in runs if b["variant"] == "cgs"), None)
        if base:
            ax.set_ylim(0.95 * min(x["perplexity"] for r in runs for x in r["curve"]),
                        1.6 * at(base, 10))
        ax.set_xlabel("iteration")
        ax.set_ylabel("held-out perplexity (document completion)")
        r0 = runs[0]
        ax.set_title(f"{name}: K={r0['K']}, alpha={alpha:g}, D_train={r0['train_docs']:,}, "
                     f"N={r0['train_tokens']:,}", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    save_png(fig, os.path.join(args.out, "perplexity.png"))
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    summary = {name: [{k: v for k, v in r.items() if k not in ("_path", "top_words")}
                      for r in runs] for name, runs in by_corpus.items()}
    with open(os.path.join(args.out, "burn_in_study.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("\n".join(lines))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train variants on one corpus")
    r.add_argument("--name", required=True, help="corpus name (result folder)")
    r.add_argument("--corpus", required=True, help="esca HDF5 corpus (esca prepare)")
    r.add_argument("--texts", required=True,
                   help="NAME.tokens.txt.gz (tokens in order, line d = document d) for c_npmi")
    r.add_argument("--docs", type=int, default=0, help="use only the first DOCS documents")
    r.add_argument("-k", type=int, default=100)
    r.add_argument("--iterations", type=int, default=200)
    r.add_argument("--alpha", type=float, default=None, help="per topic (default 5/K)")
    r.add_argument("--beta", type=float, default=0.01)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=2, help="for esca.train")
    r.add_argument("--variant", action="append", required=True)
    r.add_argument("--out", default="experiments/results/burn_in_study")
    r.add_argument("--force", action="store_true")
    r.set_defaults(func=cmd_run)
    q = sub.add_parser("report", help="coherence, table and figure of all runs")
    q.add_argument("--out", default="experiments/results/burn_in_study")
    q.add_argument("--coherence", action="store_true", help="recompute coherence")
    q.set_defaults(func=cmd_report)
    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
