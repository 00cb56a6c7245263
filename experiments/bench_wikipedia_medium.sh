#!/usr/bin/env bash
# `esca bench` on ../shared/corpora/wikipedia_medium (D=6,619, V=55,457, N=10,091,986) at K=100
# and K=1000, 100 iterations, seed 1, every system: ESCA at 1 rank x 1 and 2 threads and at
# 2 ranks x 1 thread, the collapsed Gibbs baseline, and the installed peers (tomotopy, gensim
# LdaMulticore, lda). lda and gensim are O(K) per token (gensim: one pass = one iteration) and
# take minutes per iteration at K=1000 on 2 cores, so they run fewer iterations by default
# (LDA_ITERS, GENSIM_PASSES); the tables show the iterations each system ran.
# Writes SCRATCH/wikipedia_medium.h5 (prepared once) and SCRATCH/bench/ (bench.json, bench.md,
# tokens_per_s.png, perplexity_vs_seconds.png, data/, logs/). Several hours on 2 cores.
# Usage: experiments/bench_wikipedia_medium.sh [SCRATCH]   (default /tmp/esca-bench; run from
#        the repo root after `make install` and `.venv/bin/pip install -e '.[bench]'`)
# Environment: ITERS (100), REPEATS (1), LDA_ITERS (20), GENSIM_PASSES (5), B (.venv/bin),
#              SHARED (the corpus folder).
set -euo pipefail
B=${B:-.venv/bin}
SHARED=${SHARED:-../shared/corpora/wikipedia_medium}
SCRATCH=${1:-/tmp/esca-bench}
mkdir -p "$SCRATCH"
C="$SCRATCH/wikipedia_medium.h5"
[ -f "$C" ] || "$B/esca" prepare "$SHARED/docword.wikipedia_medium.txt.gz" --format uci \
    --vocab "$SHARED/vocab.wikipedia_medium.txt" --out "$C"
"$B/esca" bench "$C" --num-topics 100 1000 --iterations "${ITERS:-100}" --seed 1 \
    --repeats "${REPEATS:-1}" --iterations-for "lda=${LDA_ITERS:-20}" \
    --iterations-for "gensim=${GENSIM_PASSES:-5}" --out "$SCRATCH/bench"
