"""Counter-based random numbers: Philox4x32-10 keyed by (seed, iteration, global token index).

Philox4x32-10 is from Salmon, Moraes, Dror and Shaw, "Parallel random numbers:
as easy as 1, 2, 3", SC 2011 (the Random123 library). It maps a 128-bit
counter and a 64-bit key to 128 random bits; here the key is the seed and the
counter is ``(token index low 32 bits, token index high 32 bits, iteration,
stream)`` (a retry of a token's draw adds its attempt number to the stream word,
see :func:`attempt_uniforms`). Every token's random number is therefore a pure function
of the seed, the iteration and the token's position in the corpus, not of the thread
or MPI rank that draws it, which is what makes ESCA runs bit-identical across
thread and rank counts. ``tests/naive.py::philox4x32_10`` is the plain-Python
reference, checked against Random123's known-answer vectors.
"""

import numpy as np
from numba import njit

# Streams: which use of the random numbers a draw is for (counter word 3).
STREAM_INIT = 0
STREAM_ESCA = 1
STREAM_CGS = 2
STREAM_FOLDIN = 3
STREAM_L2R = 4            # left-to-right estimator: the draw of z_n
STREAM_L2R_RESAMPLE = 5   # left-to-right estimator: resampling of the earlier tokens
STREAM_INIT_BLOCKS = 6    # the sequential first pass (TrainConfig.init_blocks)
#: Counter word 3 is ``stream + (attempt << ATTEMPT_SHIFT)`` for a token's retry ``attempt`` >= 1
#: (see :func:`attempt_uniforms`): streams stay below 2**ATTEMPT_SHIFT, so a retry's counter
#: never equals a first draw's.
ATTEMPT_SHIFT = 8

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


@njit(inline="always", cache=True)
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 block: four uint64 words (each < 2**32) from counter c0..c3 and key k0, k1."""
    c0 = np.uint64(c0)
    c1 = np.uint64(c1)
    c2 = np.uint64(c2)
    c3 = np.uint64(c3)
    k0 = np.uint64(k0)
    k1 = np.uint64(k1)
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        n0 = ((p1 >> _S32) ^ c1 ^ k0) & _MASK
        n1 = p1 & _MASK
        n2 = ((p0 >> _S32) ^ c3 ^ k1) & _MASK
        n3 = p0 & _MASK
        c0, c1, c2, c3 = n0, n1, n2, n3
    return c0, c1, c2, c3


@njit(inline="always", cache=True)
def token_uniform(seed_lo, seed_hi, iteration, stream, token):
    """Uniform float64 in [0, 1) with 53 random bits for one (seed, iteration, stream, token)."""
    return token_draw(seed_lo, seed_hi, iteration, stream, token)[0]


@njit(inline="always", cache=True)
def token_draw(seed_lo, seed_hi, iteration, stream, token):
    """One Philox block for a token: (u, b2, b3) with u as in :func:`token_uniform`
    and b2, b3 the block's other two 32-bit words (as uint64), for alias-table draws."""
    t = np.uint64(token)
    r0, r1, r2, r3 = philox4x32_10(t & _MASK, t >> _S32, np.uint64(iteration), np.uint64(stream),
                                   seed_lo, seed_hi)
    u = ((r0 >> np.uint64(5)) * 67108864.0 + (r1 >> np.uint64(6))) * (1.0 / 9007199254740992.0)
    return u, r2, r3


@njit(inline="always", cache=True)
def pair_block(seed_lo, seed_hi, iteration, stream, pair):
    """The two 64-bit halves (as uint64) of the Philox block of token pair ``pair``.

    Tokens 2j and 2j+1 share block j: token 2j takes the first half and
    token 2j+1 the second, so one block serves two tokens (see
    :func:`u64_uniform`). The counter is (pair low, pair high, iteration, stream).
    """
    p = np.uint64(pair)
    r0, r1, r2, r3 = philox4x32_10(p & _MASK, p >> _S32, np.uint64(iteration), np.uint64(stream),
                                   seed_lo, seed_hi)
    return (r0 << _S32) | r1, (r2 << _S32) | r3


@njit(inline="always", cache=True)
def u64_uniform(x):
    """Uniform float64 in [0, 1) from the top 53 bits of a uint64."""
    return (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always", cache=True)
def pair_uniform(seed_lo, seed_hi, iteration, stream, token, blk, h0, h1):
    """Token ``token``'s uniform: :func:`u64_uniform` of its half of Philox block ``token // 2``.

    (blk, h0, h1) is the block computed last (start with blk = -1); it is
    reused when ``token`` belongs to the same pair, so consecutive tokens
    cost one Philox block per two. Returns (u, blk, h0, h1).
    """
    if (token >> 1) != blk:
        blk = token >> 1
        h0, h1 = pair_block(seed_lo, seed_hi, iteration, stream, blk)
    return u64_uniform(h1 if token & 1 else h0), blk, h0, h1


@njit(inline="always", cache=True)
def attempt_uniforms(seed_lo, seed_hi, iteration, stream, token, attempt):
    """Two uniforms in [0, 1) for retry ``attempt`` (1 <= attempt < 2**24) of token ``token``.

    One Philox block with counter (token low, token high, iteration,
    ``stream + (attempt << ATTEMPT_SHIFT)``): :func:`u64_uniform` of its first
    and of its second 64-bit half. A token's first draw comes from
    :func:`pair_uniform`, whose counter word 3 is ``stream`` itself (attempt
    0), so no retry reuses a first draw's block, and every retry is a pure
    function of (seed, iteration, stream, global token index, attempt).
    """
    t = np.uint64(token)
    c3 = np.uint64(stream) + (np.uint64(attempt) << np.uint64(ATTEMPT_SHIFT))
    r0, r1, r2, r3 = philox4x32_10(t & _MASK, t >> _S32, np.uint64(iteration), c3,
                                   seed_lo, seed_hi)
    return u64_uniform((r0 << _S32) | r1), u64_uniform((r2 << _S32) | r3)


def split_seed(seed):
    """The two 32-bit key words of a seed (0 <= seed < 2**64), as uint64."""
    seed = int(seed)
    return np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
