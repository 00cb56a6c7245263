"""Plain-Python reference implementations that the Numba kernels must equal exactly.

Everything here loops over Python ints and floats (numpy arrays are only
containers, read element by element and converted with ``int``/``float``),
and performs the floating-point operations in the same order as the kernel it
mirrors, so kernel and reference agree bit for bit. No Numba.

Array conventions are those of ``esca/samplers/_kernels.py``: ``doc_ptr``
(D+1,), ``word_ids`` (N,), ``z`` (N,), ``n_dk`` (D, K), ``n_wk`` (V, K)
word-major, ``n_k`` (K,), ``alpha`` (K,).
"""

import math

import numpy as np

MASK32 = 0xFFFFFFFF

# Philox4x32 constants (Salmon et al., SC 2011, section 5; Random123 philox.h).
PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9  # golden ratio
PHILOX_W1 = 0xBB67AE85  # sqrt(3) - 1

STREAM_INIT = 0  # the counter word 3 used by esca.rng for the initial topics
STREAM_INIT_BLOCKS = 6  # the counter word 3 of the sequential first pass (init_blocks)


def _mulhilo32(a, b):
    """High and low 32-bit halves of the 64-bit product a * b."""
    p = a * b
    return p >> 32, p & MASK32


def philox4x32_10(ctr, key):
    """Philox4x32-10 of Random123; mirrors ``esca.rng.philox4x32_10``."""
    c0, c1, c2, c3 = (int(c) & MASK32 for c in ctr)
    k0, k1 = (int(k) & MASK32 for k in key)
    for rnd in range(10):
        if rnd > 0:  # key schedule: bump the key between rounds
            k0 = (k0 + PHILOX_W0) & MASK32
            k1 = (k1 + PHILOX_W1) & MASK32
        hi0, lo0 = _mulhilo32(PHILOX_M0, c0)
        hi1, lo1 = _mulhilo32(PHILOX_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def token_uniform(seed, iteration, stream, token):
    """Uniform in [0, 1) of (seed, iteration, stream, token); mirrors ``rng.token_uniform``."""
    seed, token = int(seed), int(token)
    r0, r1, _, _ = philox4x32_10((token & MASK32, token >> 32, int(iteration), int(stream)),
                                 (seed & MASK32, seed >> 32))
    return ((r0 >> 5) * 67108864 + (r1 >> 6)) / 2**53


def pair_uniform(seed, iteration, stream, token):
    """Token's uniform from its half of Philox block token // 2; mirrors ``rng.pair_block``
    followed by ``rng.u64_uniform``."""
    seed, token = int(seed), int(token)
    pair = token >> 1
    r0, r1, r2, r3 = philox4x32_10((pair & MASK32, pair >> 32, int(iteration), int(stream)),
                                   (seed & MASK32, seed >> 32))
    x = (r2 << 32 | r3) if token & 1 else (r0 << 32 | r1)
    return (x >> 11) / 2**53


def _search(cum, target):
    """Smallest k with cum[k] > target, else len(cum) - 1 (linear scan)."""
    for k, c in enumerate(cum):
        if c > target:
            return k
    return len(cum) - 1


def init_topics(N, token_start, seed, K):
    """Uniform random initial topics, int32 (N,); mirrors ``_kernels.init_topics``."""
    z = np.zeros(N, dtype=np.int32)
    for i in range(N):
        k = int(token_uniform(seed, 0, STREAM_INIT, token_start + i) * K)
        z[i] = k if k < K else K - 1
    return z


def init_block(doc_ptr, word_ids, z, n_dk, n_wk, n_k, alpha, beta, token_start, lo, hi, seed):
    """The first pass's block [lo, hi) of global token indices -> new (z, n_dk); mirrors
    ``_kernels.init_block``: within a document sequential (``n_dk`` grows as tokens are
    drawn), ``n_wk``, ``n_k`` frozen; a run of one word keeps the sums of its first drawn
    token and adds its own draws."""
    D, K = n_dk.shape
    vbeta = n_wk.shape[0] * float(beta)
    inv = [1.0 / (int(n_k[k]) + vbeta) for k in range(K)]
    z = np.array(z, dtype=np.int32, copy=True)
    n_dk = np.array(n_dk, dtype=np.int32, copy=True)

    def factor(w, k):
        return (int(n_wk[w, k]) + float(beta)) * inv[k]

    for d in range(D):
        prev_w, s, cum, drawn = -1, 0.0, [], []
        for i in range(int(doc_ptr[d]), int(doc_ptr[d + 1])):
            if not lo <= token_start + i < hi:
                continue
            w = int(word_ids[i])
            if w != prev_w:
                prev_w, s, cum, drawn = w, 0.0, [], []
                for k in range(K):
                    s += (int(n_dk[d, k]) + float(alpha[k])) * factor(w, k)
                    cum.append(s)
            extra = 0.0
            for k in drawn:
                extra += factor(w, k)
            t = token_uniform(seed, 0, STREAM_INIT_BLOCKS, token_start + i) * (s + extra)
            if t < s or not drawn:
                k = _search(cum, t)
            else:
                r, k = t - s, drawn[-1]
                for j in drawn:
                    if r < factor(w, j):
                        k = j
                        break
                    r -= factor(w, j)
            z[i] = k
            n_dk[d, k] += 1
            drawn.append(k)
    return z, n_dk


def count_doc_topics(doc_ptr, z, K):
    """Document-topic counts, int32 (D, K); mirrors ``_kernels.count_doc_topics``."""
    D = len(doc_ptr) - 1
    n_dk = np.zeros((D, K), dtype=np.int32)
    for d in range(D):
        for i in range(int(doc_ptr[d]), int(doc_ptr[d + 1])):
            n_dk[d, int(z[i])] += 1
    return n_dk


def count_word_topics(word_ids, z, V, K):
    """Word-topic counts n_wk, int32 (V, K); mirrors ``_kernels.count_word_topics``."""
    n_wk = np.zeros((V, K), dtype=np.int32)
    for i in range(len(z)):
        n_wk[int(word_ids[i]), int(z[i])] += 1
    return n_wk


def word_factor(n_wk, n_k, beta):
    """(n_wk + beta) / (n_k + V beta) as float64 (V, K); mirrors ``_kernels.word_factor``."""
    V, K = n_wk.shape
    vbeta = V * float(beta)
    inv = [1.0 / (int(n_k[k]) + vbeta) for k in range(K)]
    out = np.empty((V, K), dtype=np.float64)
    for w in range(V):
        for k in range(K):
            out[w, k] = (int(n_wk[w, k]) + float(beta)) * inv[k]
    return out


def own_excluded_weight(n_d, n_w, n_t, alpha_o, beta, vbeta):
    """(n_d - 1 + alpha_o)(n_w - 1 + beta)/(n_t - 1 + V beta); mirrors
    ``_kernels.own_excluded_weight``."""
    return (((int(n_d) - 1) + float(alpha_o)) * ((int(n_w) - 1) + float(beta))) / \
        ((int(n_t) - 1) + vbeta)


def esca_sweep(doc_ptr, word_ids, z, n_dk, n_wk, n_k, alpha, beta, token_start, seed, iteration,
               stream, exclude_own=False):
    """One ESCA sweep from stale counts -> new (z, n_dk); mirrors ``_kernels.esca_sweep_dense``.

    With ``exclude_own``, token i's old topic o = z[i] gets the weight
    ``own_excluded_weight`` instead of its frozen one, and the one uniform is
    inverted against that distribution (below o, o, above o), or, when the removed mass is
    over half the total, used for the O(K) draw ``_own_excluded_draw``."""
    D, K = n_dk.shape
    V = n_wk.shape[0]
    vbeta = V * float(beta)
    phi_w = word_factor(n_wk, n_k, beta)
    z_new = np.array(z, dtype=np.int32, copy=True)
    n_dk_new = np.zeros((D, K), dtype=np.int32)
    for d in range(D):
        a = [int(n_dk[d, k]) + float(alpha[k]) for k in range(K)]
        for i in range(int(doc_ptr[d]), int(doc_ptr[d + 1])):
            w = int(word_ids[i])
            s = 0.0
            cum = []
            for k in range(K):
                s += a[k] * float(phi_w[w, k])
                cum.append(s)
            u = pair_uniform(seed, iteration, stream, token_start + i)
            if exclude_own:
                o = int(z[i])
                qo = a[o] * float(phi_w[w, o])
                po = own_excluded_weight(n_dk[d, o], n_wk[w, o], n_k[o], alpha[o], beta, vbeta)
                lo = cum[o - 1] if o > 0 else 0.0
                t = u * ((s - qo) + po)
                if qo - po > 0.5 * s:
                    k = _own_excluded_draw(u, o, w, n_dk[d], n_wk, n_k, alpha, beta, vbeta)
                elif t < lo:
                    k = _search(cum, t)
                elif t - lo < po or o == K - 1:
                    k = o
                else:
                    k = o + 1 + _search(cum[o + 1:], (t - po) + qo)
            else:
                k = _search(cum, u * s)
            z_new[i] = k
            n_dk_new[d, k] += 1
    return z_new, n_dk_new


def cgs_sweep(doc_ptr, word_ids, z, n_dk, n_wk, n_k, alpha, beta, token_start, seed, iteration,
              stream):
    """One collapsed Gibbs sweep -> new (z, n_dk, n_wk, n_k); mirrors ``_kernels.cgs_sweep``."""
    z = [int(x) for x in z]
    D, K = n_dk.shape
    V = n_wk.shape[0]
    ndk = [[int(n_dk[d, k]) for k in range(K)] for d in range(D)]
    nwk = [[int(n_wk[w, k]) for k in range(K)] for w in range(V)]
    nk = [int(x) for x in n_k]
    beta = float(beta)
    vbeta = V * beta
    for d in range(D):
        for i in range(int(doc_ptr[d]), int(doc_ptr[d + 1])):
            w = int(word_ids[i])
            old = z[i]
            ndk[d][old] -= 1
            nwk[w][old] -= 1
            nk[old] -= 1
            s = 0.0
            cum = []
            for k in range(K):
                s += (ndk[d][k] + float(alpha[k])) * (nwk[w][k] + beta) / (nk[k] + vbeta)
                cum.append(s)
            u = token_uniform(seed, iteration, stream, token_start + i)
            k = _search(cum, u * s)
            z[i] = k
            ndk[d][k] += 1
            nwk[w][k] += 1
            nk[k] += 1
    return (np.array(z, dtype=np.int32), np.array(ndk, dtype=np.int32).reshape(D, K),
            np.array(nwk, dtype=np.int32).reshape(V, K), np.array(nk, dtype=np.int64))


def loglik(doc_ptr, n_dk, n_wk, n_k, alpha, beta):
    """Joint log p(w, z), G&S 2004 eqs. 2-3; mirrors ``_kernels.loglik_words + loglik_docs``."""
    V, K = n_wk.shape
    D = n_dk.shape[0]
    beta = float(beta)
    alpha = [float(a) for a in alpha]
    asum = sum(alpha)
    total = K * (math.lgamma(V * beta) - V * math.lgamma(beta))
    for k in range(K):
        total += sum(math.lgamma(int(n_wk[w, k]) + beta) for w in range(V))
        total -= math.lgamma(int(n_k[k]) + V * beta)
    const = math.lgamma(asum) - sum(math.lgamma(a) for a in alpha)
    for d in range(D):
        n_d = int(doc_ptr[d + 1]) - int(doc_ptr[d])
        total += const - math.lgamma(n_d + asum)
        total += sum(math.lgamma(int(n_dk[d, k]) + alpha[k]) for k in range(K))
    return total


def word_doc_freq(doc_ptr, word_ids, V):
    """Number of documents containing each word, int64 (V,); mirrors ``_kernels.word_doc_freq``."""
    df = np.zeros(V, dtype=np.int64)
    for d in range(len(doc_ptr) - 1):
        for w in {int(x) for x in word_ids[int(doc_ptr[d]):int(doc_ptr[d + 1])]}:
            df[w] += 1
    return df


def count_nonzeros(n_wk, word_chunks):
    """Nonzero entries of n_wk per row range word_chunks[c]:word_chunks[c+1], int64 (C,);
    mirrors ``esca.exchange.count_nonzeros``."""
    K = n_wk.shape[1]
    out = np.zeros(len(word_chunks) - 1, dtype=np.int64)
    for c in range(len(word_chunks) - 1):
        for w in range(int(word_chunks[c]), int(word_chunks[c + 1])):
            for k in range(K):
                if int(n_wk[w, k]) != 0:
                    out[c] += 1
    return out


def pack_nonzeros(n_wk, idx_dtype=np.int32):
    """The nonzero entries of n_wk as (flat index w K + k, count) in increasing index order:
    (idx of ``idx_dtype``, cnt int32); mirrors ``esca.exchange.pack_nonzeros``."""
    V, K = n_wk.shape
    idx, cnt = [], []
    for w in range(V):
        for k in range(K):
            if int(n_wk[w, k]) != 0:
                idx.append(w * K + k)
                cnt.append(int(n_wk[w, k]))
    return np.array(idx, dtype=idx_dtype), np.array(cnt, dtype=np.int32)


def add_entries(flat, idx, cnt):
    """A copy of ``flat`` with flat[idx[j]] += cnt[j] for every j (int32);
    mirrors ``esca.exchange.add_entries``."""
    out = flat.copy()
    for j in range(len(idx)):
        out[int(idx[j])] += int(cnt[j])
    return out


def vose_alias(p):
    """Vose's alias table of weights p -> (prob, alias); mirrors ``_kernels.vose_alias``
    (same stack discipline, same float operations)."""
    m = len(p)
    total = 0.0
    for x in p:
        total += x
    scale = m / total
    p = [x * scale for x in p]
    prob, alias = [0.0] * m, [0] * m
    small = [j for j in range(m) if p[j] < 1.0]
    large = [j for j in range(m) if p[j] >= 1.0]
    while small and large:
        s = small.pop()
        g = large[-1]
        prob[s] = p[s]
        alias[s] = g
        p[g] = (p[g] + p[s]) - 1.0
        if p[g] < 1.0:
            large.pop()
            small.append(g)
    for j in large + small:
        prob[j] = 1.0
        alias[j] = j
    return prob, alias


def alias_draw(u, prob, alias):
    """Index from one uniform; mirrors ``_kernels.alias_draw``."""
    m = len(prob)
    r = u * m
    b = min(int(r), m - 1)
    return b if r - b < prob[b] else alias[b]


def word_alias_tables(n_wk, n_k, alpha, beta):
    """Per word: (topics, counts, prob, alias, mass) of alpha_k n_wk/(n_k + V beta) over its
    nonzero topics; mirrors ``_kernels.word_alias_tables``."""
    V, K = n_wk.shape
    inv = [1.0 / (int(n_k[k]) + V * beta) for k in range(K)]
    out = []
    for w in range(V):
        topics = [k for k in range(K) if n_wk[w, k] != 0]
        counts = [int(n_wk[w, k]) for k in topics]
        p = [float(alpha[k]) * int(n_wk[w, k]) * inv[k] for k in topics]
        total = 0.0
        for x in p:
            total += x
        prob, alias = vose_alias(p) if topics else ([], [])
        out.append((topics, counts, prob, alias, total))
    return out


def global_alias_table(n_k, alpha, beta, V):
    """(prob, alias, mass) of alpha_k beta/(n_k + V beta).

    Mirrors ``_kernels.global_alias_table``.
    """
    K = len(n_k)
    p = [float(alpha[k]) * beta * (1.0 / (int(n_k[k]) + V * beta)) for k in range(K)]
    total = 0.0
    for x in p:
        total += x
    prob, alias = vose_alias(p)
    return prob, alias, total


def token_draw(seed, iteration, stream, token):
    """(u, b2, b3) of one Philox block; mirrors ``rng.token_draw``."""
    seed, token = int(seed), int(token)
    r0, r1, r2, r3 = philox4x32_10((token & MASK32, token >> 32, int(iteration), int(stream)),
                                   (seed & MASK32, seed >> 32))
    return ((r0 >> 5) * 67108864 + (r1 >> 6)) / 2**53, r2, r3


MAX_PROPOSALS = 8  # mirrors _kernels.MAX_PROPOSALS
ATTEMPT_SHIFT = 8  # mirrors rng.ATTEMPT_SHIFT


def attempt_uniforms(seed, iteration, stream, token, attempt):
    """The two uniforms of retry ``attempt`` of a token; mirrors ``rng.attempt_uniforms``."""
    seed, token = int(seed), int(token)
    c3 = int(stream) + (int(attempt) << ATTEMPT_SHIFT)
    r0, r1, r2, r3 = philox4x32_10((token & MASK32, token >> 32, int(iteration), c3),
                                   (seed & MASK32, seed >> 32))
    return (((r0 << 32) | r1) >> 11) / 2**53, (((r2 << 32) | r3) >> 11) / 2**53


def esca_sweep_sparse(doc_ptr, word_ids, z, n_dk, n_wk, n_k, alpha, beta, token_start, seed,
                      iteration, stream, exclude_own=False):
    """Four-part sparse ESCA sweep -> new (z, n_dk); mirrors ``_kernels.esca_sweep_sparse``.

    With ``exclude_own``: a proposal of token i's old topic o = z[i] is accepted with
    probability (a-1)(b-1)c / (a b (c-1)), else redrawn with ``attempt_uniforms``; after
    ``MAX_PROPOSALS`` rejected proposals the token is drawn from the exclude distribution
    over all K topics."""
    D, K = n_dk.shape
    V = n_wk.shape[0]
    beta = float(beta)
    vbeta = V * beta
    words = word_alias_tables(n_wk, n_k, alpha, beta)
    g_prob, g_alias, gsum = global_alias_table(n_k, alpha, beta, V)
    inv = [1.0 / (int(n_k[k]) + V * beta) for k in range(K)]
    z_new = np.array(z, dtype=np.int32, copy=True)
    n_dk_new = np.zeros((D, K), dtype=np.int32)
    for d in range(D):
        # the document's topics by decreasing count, ties by topic id
        topics = sorted((k for k in range(K) if n_dk[d, k] != 0), key=lambda k: (-n_dk[d, k], k))
        dcnt = {k: int(n_dk[d, k]) * inv[k] for k in topics}
        r, rcum = 0.0, []
        for k in topics:
            r += beta * dcnt[k]
            rcum.append(r)
        for i in range(int(doc_ptr[d]), int(doc_ptr[d + 1])):
            w = int(word_ids[i])
            w_topics, w_counts, w_prob, w_alias, qw = words[w]
            if len(w_topics) <= len(topics):   # walk the word's list
                pairs = list(zip(w_topics, w_counts, strict=True))
            else:                               # walk the document's list
                pairs = [(k, int(n_wk[w, k])) for k in topics]
            q, qk, qcum = 0.0, [], []
            for k, n in pairs:                  # weight 0 where the other side is absent
                q += dcnt.get(k, 0.0) * n
                qk.append(k)
                qcum.append(q)
            parts = (q, qk, qcum, r, rcum, topics, qw, w_topics, w_prob, w_alias, gsum, g_prob,
                     g_alias)
            k = _sparse_pick(pair_uniform(seed, iteration, stream, token_start + i), *parts)
            if exclude_own:
                o = int(z[i])
                nd, nw, nt = int(n_dk[d, o]), int(n_wk[w, o]), int(n_k[o])
                ratio = (own_excluded_weight(nd, nw, nt, alpha[o], beta, vbeta) * (nt + vbeta)) \
                    / ((nd + float(alpha[o])) * (nw + beta))
                attempt = 0
                while k == o:
                    attempt += 1
                    v, u = attempt_uniforms(seed, iteration, stream, token_start + i, attempt)
                    if v < ratio:
                        break
                    if attempt == MAX_PROPOSALS:
                        k = _own_excluded_draw(u, o, w, n_dk[d], n_wk, n_k, alpha, beta, vbeta)
                        break
                    k = _sparse_pick(u, *parts)
            z_new[i] = k
            n_dk_new[d, k] += 1
    return z_new, n_dk_new


def _sparse_pick(u, q, qk, qcum, r, rcum, topics, qw, w_topics, w_prob, w_alias, gsum, g_prob,
                 g_alias):
    """The topic uniform u picks from the four parts; mirrors ``_kernels.sparse_pick``."""
    t = u * (((q + r) + qw) + gsum)
    if t < q:
        return qk[_search(qcum, t)]
    if t - q < r:
        return topics[_search(rcum, t - q)]
    if (t - q) - r < qw:
        return w_topics[alias_draw(((t - q) - r) / qw, w_prob, w_alias)]
    return alias_draw((((t - q) - r) - qw) / gsum, g_prob, g_alias)


def _own_excluded_draw(u, o, w, n_d, n_wk, n_k, alpha, beta, vbeta):
    """O(K) draw from the exclude distribution; mirrors ``_kernels.own_excluded_draw``."""
    s, cum = 0.0, []
    for k in range(len(n_k)):
        if k == o:
            s += own_excluded_weight(n_d[k], n_wk[w, k], n_k[k], alpha[k], beta, vbeta)
        else:
            s += ((int(n_d[k]) + float(alpha[k])) * (int(n_wk[w, k]) + beta)) / \
                (int(n_k[k]) + vbeta)
        cum.append(s)
    return _search(cum, u * s)


# -- fold-in (esca/infer.py) ---------------------------------------------------------------------

STREAM_FOLDIN = 3  # the counter word 3 used by esca.infer's fold-in


def _fold_in_theta(acc, alpha, nsamp, n_d, asum):
    return [(acc[k] / nsamp + alpha[k]) / (n_d + asum) for k in range(len(alpha))]


def fold_in_dense(phi, alpha, doc_ptr, word_ids, sweeps, burn_in, seed, rao_blackwell=True):
    """Collapsed Gibbs fold-in with phi (K, V) fixed, O(K) per token -> theta (D, K);
    mirrors ``infer._fold_in_dense``. Sweep 0 initialises sequentially from
    (n_dk^<i + alpha_k) phi_kw; sweeps 1..sweeps resample from (n_dk^-i + alpha_k) phi_kw;
    theta = (acc / (sweeps - burn_in) + alpha) / (n_d + sum alpha), where acc adds, over the
    sweeps > burn_in, every token's conditional before its draw (``rao_blackwell``) or the
    counts n_dk after the sweep."""
    K = phi.shape[0]
    alpha = [float(a) for a in alpha]
    asum = 0.0
    for a in alpha:
        asum += a
    D = len(doc_ptr) - 1
    theta = np.zeros((D, K))
    for d in range(D):
        i0, i1 = int(doc_ptr[d]), int(doc_ptr[d + 1])
        n = [0] * K
        acc = [0.0] * K
        z = {}
        for it in range(sweeps + 1):
            for i in range(i0, i1):
                w = int(word_ids[i])
                if it > 0:
                    n[z[i]] -= 1
                s = 0.0
                cum = []
                for k in range(K):
                    s += (n[k] + alpha[k]) * float(phi[k, w])
                    cum.append(s)
                if rao_blackwell and it > burn_in:
                    inv = 1.0 / s
                    for k in range(K):
                        acc[k] += (n[k] + alpha[k]) * float(phi[k, w]) * inv
                k = _search(cum, token_uniform(seed, it, STREAM_FOLDIN, i) * s)
                z[i] = k
                n[k] += 1
            if it > burn_in and not rao_blackwell:
                acc = [acc[k] + n[k] for k in range(K)]
        theta[d] = _fold_in_theta(acc, alpha, sweeps - burn_in, i1 - i0, asum)
    return theta


def fold_in_sparse(phi, alpha, doc_ptr, word_ids, sweeps, burn_in, seed, rao_blackwell=True):
    """Sparse + alias fold-in -> theta (D, K); mirrors ``infer._fold_in_sparse``.

    (n_dk^-i + alpha_k) phi_kw = n_dk^-i phi_kw over the document's topic list
    (swap-with-last removal, append on arrival) + alpha_k phi_kw from a Vose alias table.
    With ``rao_blackwell`` the conditional's two parts are added to acc separately: the
    listed topics' n_dk phi_kw / Z at each token, alpha_k phi_kw times the token's summed
    1 / Z at the end of the document."""
    K = phi.shape[0]
    alpha = [float(a) for a in alpha]
    asum = 0.0
    for a in alpha:
        asum += a
    tables = {}
    for w in {int(x) for x in word_ids}:
        q = [alpha[k] * float(phi[k, w]) for k in range(K)]
        qsum = 0.0
        for x in q:
            qsum += x
        tables[w] = vose_alias(q) + (qsum,)
    D = len(doc_ptr) - 1
    theta = np.zeros((D, K))
    for d in range(D):
        i0, i1 = int(doc_ptr[d]), int(doc_ptr[d + 1])
        n = [0] * K
        acc = [0.0] * K
        inv_z = [0.0] * (i1 - i0)
        topics = []
        z = {}
        for it in range(sweeps + 1):
            for i in range(i0, i1):
                w = int(word_ids[i])
                if it > 0:
                    k = z[i]
                    n[k] -= 1
                    if n[k] == 0:
                        j = topics.index(k)
                        last = topics.pop()
                        if last != k:
                            topics[j] = last
                s = 0.0
                cum = []
                for k in topics:
                    s += n[k] * float(phi[k, w])
                    cum.append(s)
                prob, alias, qsum = tables[w]
                if rao_blackwell and it > burn_in:
                    inv = 1.0 / (s + qsum)
                    for k in topics:
                        acc[k] += n[k] * float(phi[k, w]) * inv
                    inv_z[i - i0] += inv
                u, b2, b3 = token_draw(seed, it, STREAM_FOLDIN, i)
                t = u * (s + qsum)
                if t < s:
                    k = topics[_search(cum, t)]
                else:
                    b = (b2 * K) >> 32
                    k = b if b3 / 2**32 < prob[b] else alias[b]
                z[i] = k
                if n[k] == 0:
                    topics.append(k)
                n[k] += 1
            if it > burn_in and not rao_blackwell:
                for k in topics:
                    acc[k] += n[k]
        if rao_blackwell:
            for i in range(i0, i1):
                w = int(word_ids[i])
                for k in range(K):
                    acc[k] += alpha[k] * float(phi[k, w]) * inv_z[i - i0]
        theta[d] = _fold_in_theta(acc, alpha, sweeps - burn_in, i1 - i0, asum)
    return theta


# -- left-to-right estimator (esca/left_to_right.py) ---------------------------------------------

STREAM_L2R = 4           # counter word 3 of the draw of z_n
STREAM_L2R_RESAMPLE = 5  # counter word 3 of the resampling of the earlier topics


def left_to_right(phi, alpha, doc_ptr, word_ids, particles, resample, seed, token_offset=0):
    """Per-document log p(w_d) by the left-to-right estimator (Wallach et al., ICML 2009,
    Algorithm 3), float64 (D,); mirrors ``left_to_right._left_to_right``.

    Particle r, position j (0-based): with ``resample``, positions 0..j-1 are resampled in
    order from (n_k^-j' + alpha_k) phi_kw (uniform of iteration r * N_d + j, stream 5);
    p_j^r = sum_k (n_k + alpha_k) phi_kw / (j + sum alpha) is added to acc[j]; z_j is drawn
    from the same weights (iteration r, stream 4). log p(w_d) = sum_j log(acc[j] / R)."""
    K = phi.shape[0]
    alpha = [float(a) for a in alpha]
    asum = 0.0
    for a in alpha:
        asum += a
    D = len(doc_ptr) - 1
    out = np.zeros(D)
    for d in range(D):
        i0, i1 = int(doc_ptr[d]), int(doc_ptr[d + 1])
        nd = i1 - i0
        words = [int(word_ids[i]) for i in range(i0, i1)]
        acc = [0.0] * nd
        for r in range(particles):
            n = [0] * K
            z = [None] * nd
            for j in range(nd):
                if resample:
                    for jp in range(j):
                        n[z[jp]] -= 1
                        s = 0.0
                        cum = []
                        for k in range(K):
                            s += (n[k] + alpha[k]) * float(phi[k, words[jp]])
                            cum.append(s)
                        u = token_uniform(seed, r * nd + j, STREAM_L2R_RESAMPLE,
                                          token_offset + i0 + jp)
                        z[jp] = _search(cum, u * s)
                        n[z[jp]] += 1
                s = 0.0
                cum = []
                for k in range(K):
                    s += (n[k] + alpha[k]) * float(phi[k, words[j]])
                    cum.append(s)
                acc[j] += s / (j + asum)
                z[j] = _search(cum, token_uniform(seed, r, STREAM_L2R, token_offset + i0 + j) * s)
                n[z[j]] += 1
        total = 0.0
        for j in range(nd):
            total += math.log(acc[j] / particles)
        out[d] = total
    return out
