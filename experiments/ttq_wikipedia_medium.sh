#!/usr/bin/env bash
# Time to quality (issue 15) on wikipedia_medium: ESCA (2 threads; 2 ranks x 1 thread) against
# tomotopy's 2-worker PARTITION scheme, 200 iterations at K = 100 and 100 at
# K = 1000 for every system, alpha = 5/K (esca's default) and alpha = 0.1 per topic,
# beta = 0.01, seed 1, 10% of the documents held out, held-out perplexity by esca's
# document-completion evaluator every 10 iterations. P* is tomotopy's final perplexity (the
# issue's reference), TTQ interpolated between evaluations. With alpha = 5/K more ESCA runs
# (2 threads) against the same P*: the random start of earlier versions (init_blocks=0) at
# both K, and own_topic=exclude at K = 100.
# Usage: experiments/ttq_wikipedia_medium.sh CORPUS.h5 OUT   (CORPUS.h5 from `esca prepare` of
#        ../shared/corpora/wikipedia_medium; about 75 minutes on 2 cores; idle machine)
set -euo pipefail
B=${B:-.venv/bin}
C=$1
OUT=$2
mkdir -p "$OUT"
ESCA="esca 1r x 2t,esca 2r x 1t"
TOMO="tomotopy w2 partition"
ppl() {  # P* of a finished bench folder: tomotopy's final held-out perplexity
    "$B/python" -c "import json,sys; d=json.load(open(sys.argv[1]))['results']; \
k=next(iter(d)); print(d[k]['$TOMO']['heldout_perplexity'])" "$1/bench.json"
}
for K in 100 1000; do
    if [ "$K" = 100 ]; then IT=200; TIT=200; else IT=100; TIT=100; fi
    for A in default 0.1; do
        AL=(); [ "$A" = default ] || AL=(--alpha "$A")
        D="$OUT/k${K}_alpha_${A}"
        [ -f "$D/bench.json" ] || "$B/esca" bench "$C" -k "$K" "${AL[@]}" --seed 1 \
            --systems "$ESCA,$TOMO" --iterations "$IT" --iterations-for "$TOMO=$TIT" \
            --eval-every 10 --out "$D"
    done
done
for K in 100 1000; do
    if [ "$K" = 100 ]; then IT=200; SETS="init_blocks=0 own_topic=exclude"; else IT=100; SETS="init_blocks=0"; fi
    P=$(ppl "$OUT/k${K}_alpha_default")
    for SET in $SETS; do
        D="$OUT/k${K}_alpha_default_${SET/=/_}"
        [ -f "$D/bench.json" ] || "$B/esca" bench "$C" -k "$K" --seed 1 --systems "esca 1r x 2t" \
            --iterations "$IT" --eval-every 10 --esca-set "$SET" --target-perplexity "$P" --out "$D"
    done
done
# With alpha 0.1 at K = 100, the random start against P*.
D="$OUT/k100_alpha_0.1_init_blocks_0"
[ -f "$D/bench.json" ] || "$B/esca" bench "$C" -k 100 --alpha 0.1 --seed 1 --systems "esca 1r x 2t" \
    --iterations 200 --eval-every 10 --esca-set init_blocks=0 \
    --target-perplexity "$(ppl "$OUT/k100_alpha_0.1")" --out "$D"
# At K = 1000 ESCA needs more than tomotopy's 100 iterations: longer runs (2 threads) against the
# same P*, with the default start at each alpha (random at 5/K, the first pass at 0.1) and the
# random start at 0.1.
P=$(ppl "$OUT/k1000_alpha_default")
D="$OUT/k1000_alpha_default_long"
[ -f "$D/bench.json" ] || "$B/esca" bench "$C" -k 1000 --seed 1 --systems "esca 1r x 2t" \
    --iterations 300 --eval-every 20 --target-perplexity "$P" --out "$D"
P=$(ppl "$OUT/k1000_alpha_0.1")
D="$OUT/k1000_alpha_0.1_long_blocks"
[ -f "$D/bench.json" ] || "$B/esca" bench "$C" -k 1000 --alpha 0.1 --seed 1 --systems "esca 1r x 2t" \
    --iterations 200 --eval-every 20 --target-perplexity "$P" --out "$D"
D="$OUT/k1000_alpha_0.1_long"
[ -f "$D/bench.json" ] || "$B/esca" bench "$C" -k 1000 --alpha 0.1 --seed 1 --systems "esca 1r x 2t" \
    --iterations 200 --eval-every 20 --esca-set init_blocks=0 --target-perplexity "$P" --out "$D"
