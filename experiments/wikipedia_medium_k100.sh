#!/usr/bin/env bash
# ESCA on ../shared/corpora/wikipedia_medium (D=6,619, V=55,457, N=10,091,986), K=100,
# 100 iterations, seed 1: 1 rank x 1 thread, 2 ranks x 1 thread, 1 rank x 2 threads, and the
# collapsed Gibbs baseline at 1 rank. Then prints experiments/train_report.py's summary.
# Usage: experiments/wikipedia_medium_k100.sh [OUT_DIR]   (run from the repo root after `make install`)
set -euo pipefail
B=${B:-.venv/bin}
SHARED=${SHARED:-../shared/corpora/wikipedia_medium}
OUT=${1:-out/wikipedia_medium}
mkdir -p "$OUT"
C="$OUT/wikipedia_medium.h5"
[ -f "$C" ] || "$B/esca" prepare "$SHARED/docword.wikipedia_medium.txt.gz" --format uci \
    --vocab "$SHARED/vocab.wikipedia_medium.txt" --out "$C"
common=(--num-topics 100 --iterations 100 --seed 1 --top 0)
"$B/esca" train "$C" "${common[@]}" --threads 1 --out "$OUT/esca_r1t1.h5" > "$OUT/esca_r1t1.log"
"$B/mpiexec" -n 2 "$B/esca" train "$C" "${common[@]}" --threads 1 --out "$OUT/esca_r2t1.h5" \
    > "$OUT/esca_r2t1.log"
"$B/esca" train "$C" "${common[@]}" --threads 2 --out "$OUT/esca_r1t2.h5" > "$OUT/esca_r1t2.log"
"$B/esca" train "$C" "${common[@]}" --sampler cgs --out "$OUT/cgs_r1.h5" > "$OUT/cgs_r1.log"
"$B/python" experiments/train_report.py "$OUT"/esca_r1t1.h5 "$OUT"/esca_r2t1.h5 \
    "$OUT"/esca_r1t2.h5 "$OUT"/cgs_r1.h5
