"""The training configuration: frozen dataclasses, validated once.

:class:`TrainConfig` holds the hyperparameters and settings of a run (stored in every model
and checkpoint); :class:`CheckpointPolicy` says where and how often :func:`esca.train` writes
checkpoints, and what it saves when stopped by a signal.
"""

import dataclasses
import json
import os

import numpy as np

from ._checks import MAX_ITERATIONS, MAX_SEED, check_int, check_prior
from .errors import UserError

SAMPLERS = ("esca", "cgs")
KERNELS = ("auto", "dense", "sparse")
OWN_TOPICS = ("include", "exclude")
#: Largest default ``optimize_burn_in`` (Mallet's default); shorter runs use iterations // 4.
DEFAULT_BURN_IN = 200
#: Most blocks of the esca sampler's default first pass (``init_blocks=None``) ...
DEFAULT_INIT_BLOCKS = 8
#: ... each of at least this many tokens (a smaller corpus gets fewer blocks, at least one) ...
MIN_BLOCK_TOKENS = 200_000
#: ... and only when every alpha_k is at least this (with esca's default alpha = 5/K: K <= 100).
INIT_MIN_ALPHA = 0.05
#: Fields added after models and checkpoints were first written, with the value that does
#: what esca did before the field existed: a file without the field loads with that value.
ADDED_FIELDS = {"own_topic": "include", "init_blocks": 0}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters and settings of one training run.

    Parameters
    ----------
    num_topics : int
        K, the number of topics (>= 1).
    iterations : int
        Number of sweeps over the corpus, 1..2**32-1 (the iteration is a 32-bit word of
        the random-number counter, see :mod:`esca._checks`).
    alpha : float or tuple of float, optional
        Document-topic Dirichlet prior, *per topic*. A scalar gives the
        symmetric prior alpha_k = alpha; a length-K tuple an asymmetric one.
        Mallet's ``--alpha`` is the *sum* over topics, so Mallet's
        ``--alpha 5.0`` equals ``alpha = 5.0 / K`` here. Default: 5.0 / K,
        Mallet's default sum.
    beta : float
        Topic-word Dirichlet prior (symmetric). gensim calls it ``eta``.
        Default 0.01 (Mallet's and tomotopy's default).
    seed : int
        Key of the counter-based random numbers, 0..2**63-1 (:data:`esca._checks.MAX_SEED`).
    sampler : {"esca", "cgs"}
        ESCA (parallel, stale tables) or the collapsed Gibbs baseline.
    threads : int or None
        Numba threads per MPI rank; None picks cores per rank on the node.
    eval_every : int
        Compute the log-likelihood every this many iterations (and at the
        last one); 0 turns it off except at the last iteration.
    kernel : {"auto", "dense", "sparse"}
        ESCA kernel: dense O(K) per token, or sparse + alias tables O(K_d)
        per token; "auto" picks by K (see :class:`esca.samplers.EscaSampler`).
        Both are exact. Ignored by the cgs sampler.
    optimize_interval : int
        After every iteration ``it`` with ``it > optimize_burn_in`` and ``it %
        optimize_interval == 0``, re-estimate an asymmetric alpha and a
        symmetric beta by Minka's fixed point (Wallach, Mimno & McCallum,
        NIPS 2009; Mallet's names); 0 (default) keeps them.
    optimize_burn_in : int or None
        Iterations before the first optimization. None (default): a quarter
        of ``iterations``, at most 200 (Mallet's fixed default), so that
        short runs optimize too; the field then holds that number. Training
        logs a warning when no optimization falls within ``iterations``.
    own_topic : {"include", "exclude"}
        Whether ESCA's stale counts for token i include i's own previous topic
        z_old. "include" (default): p(k) ∝ (n_dk + alpha_k)(n_wk + beta)/(n_k + V beta)
        with the previous iteration's counts, as Zaheer et al. (AISTATS 2016, Alg. 2)
        count it. "exclude": z_old's counts lose the token, (n_dk - 1 + alpha_k)
        (n_wk - 1 + beta)/(n_k - 1 + V beta) at k = z_old, as collapsed Gibbs's z_-i
        (Griffiths & Steyvers, PNAS 2004, eq. 5); every other count stays the previous
        iteration's. Both are sampled exactly. "exclude" gave lower held-out perplexity
        and better coherence in experiments/results/burn_in_study/README.md; its models
        store every token's topic (as cgs's do). Ignored by the cgs sampler, which always
        excludes it. Files written before this field existed load as "include".
    init_blocks : int or None
        How the topics start. 0: uniform random topics. B >= 1: a sequential
        first pass over the corpus in B blocks of consecutive global token indices (about
        N/B tokens each, in document order). Each token is drawn from
        (n_dk + alpha_k)(n_wk + beta)/(n_k + V beta) where n_wk, n_k count the tokens of
        the earlier blocks (the whole corpus's, exchanged between ranks after every block)
        and n_dk the tokens of its own document drawn before it, as a collapsed Gibbs
        initialization draws them (Griffiths & Steyvers, PNAS 2004, eq. 5). The result does
        not depend on the thread or rank count. It costs about one dense ESCA sweep
        (O(K) per run of a word in a document) and B count exchanges, and starts the
        sampler near where uniform random topics are after several iterations (see
        experiments/results/burn_in_study/README.md, "block8"). 0..2**31-1. None
        (default): for the esca sampler 8 blocks (:data:`DEFAULT_INIT_BLOCKS`) of at least
        200,000 tokens each (:data:`MIN_BLOCK_TOKENS`; fewer on smaller corpora, at least
        one: small blocks let the first blocks' arbitrary topics steer the rest) when every
        alpha_k >= 0.05 (:data:`INIT_MIN_ALPHA`), else 0; for cgs 0 (the baseline of
        Griffiths & Steyvers starts from random topics). The field stays None and
        :meth:`first_pass_blocks` gives the number (models record it in
        ``info["init_blocks"]``). Why the alpha bound: on wikipedia_medium (docs/benchmarks.md,
        "Time to quality") the pass helped at K = 100 (alpha 0.05 and 0.1) and at K = 1000
        with alpha 0.1, but at K = 1000 with alpha = 0.005 ESCA ended worse (perplexity
        3,955 against 3,834 after 100 iterations; likely because so small an alpha makes the
        sequential draws put nearly every document on one topic). Files written before this
        field existed load as 0.

    Raises
    ------
    UserError
        On any value outside the ranges above (K < 1, alpha or beta <= 0,
        NaN or inf, or outside 1e-100..1e6 (see :func:`esca._checks.check_prior`),
        iterations < 1, unknown sampler, ...).
    """

    num_topics: int = 100
    iterations: int = 1000
    alpha: object = None
    beta: float = 0.01
    seed: int = 0
    sampler: str = "esca"
    threads: object = None
    eval_every: int = 10
    kernel: str = "auto"
    optimize_interval: int = 0
    optimize_burn_in: object = None
    own_topic: str = "include"
    init_blocks: object = None

    def __post_init__(self):
        def set_(name, value):
            object.__setattr__(self, name, value)

        set_("num_topics", check_int("num_topics (K)", self.num_topics, 1))
        set_("iterations", check_int("iterations", self.iterations, 1, MAX_ITERATIONS))
        set_("eval_every", check_int("eval_every", self.eval_every, 0))
        set_("optimize_interval", check_int("optimize_interval", self.optimize_interval, 0))
        if self.optimize_burn_in is None:
            set_("optimize_burn_in", min(DEFAULT_BURN_IN, self.iterations // 4))
        set_("optimize_burn_in", check_int("optimize_burn_in", self.optimize_burn_in, 0))
        set_("seed", check_int("seed", self.seed, 0, MAX_SEED))
        if self.init_blocks is not None:
            set_("init_blocks", check_int("init_blocks", self.init_blocks, 0, 2**31 - 1))
        if self.threads is not None:
            set_("threads", check_int("threads", self.threads, 1))
        if self.sampler not in SAMPLERS:
            raise UserError(f"unknown sampler {self.sampler!r} (choose from {', '.join(SAMPLERS)})")
        if self.kernel not in KERNELS:
            raise UserError(f"unknown kernel {self.kernel!r} (choose from {', '.join(KERNELS)})")
        if self.own_topic not in OWN_TOPICS:
            raise UserError(f"unknown own_topic {self.own_topic!r} (choose from "
                            f"{', '.join(OWN_TOPICS)})")
        K = self.num_topics
        if self.alpha is None:
            set_("alpha", 5.0 / K)
        if np.ndim(self.alpha) == 0:
            set_("alpha", check_prior("alpha", self.alpha))
        else:
            try:
                values = np.asarray(self.alpha, dtype=float).ravel()
            except (TypeError, ValueError):
                raise UserError(f"alpha must be a number or a sequence of K numbers, "
                                f"got {self.alpha!r}") from None
            a = tuple(check_prior("alpha", x) for x in values)
            if len(a) != K:
                raise UserError(f"alpha has {len(a)} values but there are K={K} topics")
            set_("alpha", a)
        set_("beta", check_prior("beta", self.beta))

    def optimizes_at(self, iteration):
        """True if the priors are re-estimated after iteration ``iteration`` (1-based).

        That is, ``optimize_interval`` > 0, ``iteration`` > ``optimize_burn_in`` and
        ``iteration`` a multiple of ``optimize_interval`` (Mallet's schedule).

        Parameters
        ----------
        iteration : int

        Returns
        -------
        bool
        """
        return bool(self.optimize_interval) and iteration > self.optimize_burn_in \
            and iteration % self.optimize_interval == 0

    def first_optimization(self):
        """The first iteration after which the priors are re-estimated (it may exceed
        ``iterations``: then none is), or None when ``optimize_interval`` is 0."""
        if not self.optimize_interval:
            return None
        return (self.optimize_burn_in // self.optimize_interval + 1) * self.optimize_interval

    def first_pass_blocks(self, N):
        """The number of blocks of the sequential first pass on a corpus of N tokens (0: the
        topics start uniform random): ``init_blocks`` when set, else the default above.

        Parameters
        ----------
        N : int
            Tokens of the whole training corpus.

        Returns
        -------
        int
        """
        if self.init_blocks is not None:
            return self.init_blocks
        if self.sampler != "esca" or min(np.ravel(self.alpha)) < INIT_MIN_ALPHA:
            return 0
        return min(DEFAULT_INIT_BLOCKS, max(1, N // MIN_BLOCK_TOKENS))

    def alpha_vector(self):
        """alpha as a float64 array of shape (K,)."""
        return np.broadcast_to(np.asarray(self.alpha, dtype=np.float64),
                               (self.num_topics,)).copy()

    def to_json(self):
        """The configuration as a JSON string (stored in models)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text, where="configuration"):
        """Inverse of :meth:`to_json`; unknown keys are ignored, and a field of
        :data:`ADDED_FIELDS` that ``text`` lacks gets its value there (what esca did before
        the field existed), not the default.

        Parameters
        ----------
        text : str
            A JSON object.
        where : str
            Names the source in error messages.

        Raises
        ------
        UserError
            If ``text`` is not a JSON object or holds an invalid value.
        """
        try:
            d = json.loads(text)
        except (TypeError, ValueError) as e:
            raise UserError(f"{where} is not valid JSON ({e})") from None
        if not isinstance(d, dict):
            raise UserError(f"{where} must be a JSON object, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        d = {**ADDED_FIELDS, **d}  # a file from before a field existed: its old value
        try:
            return cls(**{k: v for k, v in d.items() if k in names})
        except UserError as e:
            raise UserError(f"{where}: {e}") from None


@dataclasses.dataclass(frozen=True)
class CheckpointPolicy:
    """Where and how often :func:`esca.train` writes checkpoints (:mod:`esca.checkpoint`).

    Pass it as ``esca.train(corpus, config, checkpoints=CheckpointPolicy(...))``. The default,
    ``CheckpointPolicy()``, writes nothing.

    Parameters
    ----------
    directory : str or os.PathLike, optional
        Folder of the checkpoints (created if missing; its parent must exist). Needed by
        ``every``; with ``handle_signals=True`` of :func:`esca.train` a SIGTERM or SIGINT
        also writes a checkpoint of the last finished iteration here.
    every : int
        Write a checkpoint after every this many iterations; 0 (default): never (>= 0).
    keep : int
        Keep only this many newest checkpoints of the run (>= 1; default 3).
    model_on_interrupt : str or os.PathLike, optional
        With ``handle_signals=True`` of :func:`esca.train`: on SIGTERM or SIGINT, rank 0
        writes the model of the last finished iteration to this file (atomically) before
        :class:`esca.errors.Interrupted` is raised; ``esca.train(resume=that file)``
        continues it.

    Raises
    ------
    UserError
        If ``every`` is not an integer >= 0, ``keep`` not an integer >= 1, ``every`` > 0
        without a ``directory``, or a path is neither None, a str nor an os.PathLike.
    """

    directory: object = None
    every: int = 0
    keep: int = 3
    model_on_interrupt: object = None

    def __post_init__(self):
        def set_(name, value):
            object.__setattr__(self, name, value)

        set_("every", check_int("CheckpointPolicy every", self.every, 0))
        set_("keep", check_int("CheckpointPolicy keep", self.keep, 1))
        for name in ("directory", "model_on_interrupt"):
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, (str, os.PathLike)):
                    raise UserError(f"CheckpointPolicy {name} must be a path (str or "
                                    f"os.PathLike), got {type(value).__name__}")
                set_(name, os.fspath(value))
        if self.every and self.directory is None:
            raise UserError(f"CheckpointPolicy every={self.every} needs a checkpoint folder "
                            "(directory)")
