"""``esca bench``: speed, memory and held-out perplexity of ESCA and the LDA trainers a user
would pick instead, on one corpus, with one evaluator.

The corpus is split once into ``DIR/data/train.h5`` and ``DIR/data/test.h5``
(:func:`esca.evaluate.split_holdout`); every system trains on exactly the training tokens with
the same K, alpha (per topic), beta, iteration count and seed, each run in its own process
(:mod:`esca._bench_worker`) so that its peak RSS is its own. Held-out perplexity is computed
for every system by :func:`esca.evaluate.document_completion` from the system's topic-word
matrix phi, outside the timed region. Results go to ``DIR/bench.json`` (configuration, git SHA,
library versions, machine, every run), ``DIR/bench.md`` (one table per K, and the command),
``DIR/tokens_per_s.png`` and ``DIR/perplexity_vs_seconds.png``; the workers' output is kept in
``DIR/logs/``.

The package: :mod:`~esca.bench.protocol` (:func:`run_bench`, the split, the option objects),
:mod:`~esca.bench.systems` (the systems and their worker specs), :mod:`~esca.bench.runner`
(one system in its worker processes; the peers' adapters are in :mod:`esca._bench_worker`),
:mod:`~esca.bench.ttq` (time to quality and its target), :mod:`~esca.bench.context` (git,
versions, machine), :mod:`~esca.bench.report` (bench.md) and :mod:`~esca.bench.figures` (the two
PNGs).
"""

from .context import git_revision, library_versions, machine_info
from .figures import BENCH_DPI, perplexity_figure, plot_perplexity, plot_tokens_per_s
from .protocol import (
    OUTPUTS,
    WRITES,
    Evaluation,
    Training,
    check_esca_settings,
    check_evaluation,
    command_line,
    run_bench,
    write_split,
)
from .report import COLUMNS, markdown, write_text
from .runner import MPI_LAUNCHER_PREFIXES, THREAD_VARS, bench_system, find_mpiexec
from .systems import (
    BINARIES,
    ESCA_OWNED,
    ESCA_SYSTEMS,
    FAMILIES,
    MODULES,
    SYSTEMS,
    select_systems,
    worker_spec,
)
from .ttq import reference_system, time_to_quality, ttq_table

__all__ = ["BENCH_DPI", "BINARIES", "COLUMNS", "ESCA_OWNED", "ESCA_SYSTEMS", "FAMILIES", "MODULES",
           "MPI_LAUNCHER_PREFIXES", "OUTPUTS", "SYSTEMS", "THREAD_VARS", "WRITES", "Evaluation",
           "Training", "bench_system", "check_esca_settings", "check_evaluation", "command_line",
           "find_mpiexec", "git_revision", "library_versions", "machine_info", "markdown",
           "perplexity_figure", "plot_perplexity", "plot_tokens_per_s", "reference_system",
           "run_bench", "select_systems", "time_to_quality", "ttq_table", "worker_spec",
           "write_split", "write_text"]
