"""The benchmark protocol: one split, the same settings for every system, every run in its own
process, one evaluator; :func:`run_bench` writes the reports (see :mod:`esca.bench`)."""

import ast
import dataclasses
import datetime
import json
import logging
import math
import os
import shlex

from .._checks import MAX_ITERATIONS, check_int
from .._io import check_not_input, check_output_dir, check_outputs_not_inputs
from ..config import TrainConfig
from ..corpus import read_corpus, write_corpus
from ..errors import UserError
from ..split import split_holdout
from .context import git_revision, library_versions, machine_info
from .figures import plot_perplexity, plot_tokens_per_s
from .report import markdown, write_text
from .runner import bench_system
from .systems import ESCA_OWNED, ESCA_SYSTEMS, select_systems, worker_spec
from .ttq import ttq_table

log = logging.getLogger("esca")

OUTPUTS = ("bench.json", "bench.md", "tokens_per_s.png", "perplexity_vs_seconds.png")
#: Every file :func:`run_bench` writes into its folder besides the logs: the split and OUTPUTS.
WRITES = ("data/train.h5", "data/test.h5", *OUTPUTS)


@dataclasses.dataclass(frozen=True)
class Training:
    """The training settings every system gets, at every K (checked as :class:`TrainConfig`).

    Parameters
    ----------
    iterations : int
        Iterations (gensim: passes) per system, unless :func:`run_bench`'s ``iterations_for``
        says otherwise.
    alpha : float, optional
        Document-topic prior per topic, the same for every system; default 5/K.
    beta : float
        Topic-word prior (gensim's and tomotopy's ``eta``).
    seed : int
        Seed of the split, of every system and of the evaluator.
    esca_settings : dict of str to object, optional
        More :class:`~esca.config.TrainConfig` settings, ``{field: value}``, for every run
        trained by :func:`esca.train` (:data:`~esca.bench.systems.ESCA_SYSTEMS`: the esca
        systems and cgs 1r; the peers do not get them), e.g. ``{"own_topic": "exclude"}``.
        A value may be given as text, parsed by the field's type
        (:func:`check_esca_settings`). The fields the bench sets itself
        (:data:`~esca.bench.systems.ESCA_OWNED`) are not allowed. Default: none.
    """

    iterations: int = 100
    alpha: float | None = None
    beta: float = 0.01
    seed: int = 1
    esca_settings: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """When and how held-out perplexity is computed (document completion), and its target.

    Parameters
    ----------
    every : int
        Held-out perplexity every this many iterations and at the end (0: at the end only).
    sweeps, burn_in : int
        Gibbs sweeps of the document-completion fold-in, and how many of them to discard
        (``burn_in < sweeps``).
    target : float, optional
        The held-out perplexity P* of time to quality (:mod:`esca.bench.ttq`), the same at
        every K; default at each K the final perplexity of tomotopy's fastest 2-worker run.
    """

    every: int = 10
    sweeps: int = 30
    burn_in: int = 10
    target: float | None = None


def check_evaluation(evaluation, names=None):
    """``evaluation`` with its values checked as ints.

    Parameters
    ----------
    evaluation : Evaluation
    names : dict of str to str, optional
        How each field is named in the messages (the CLI passes its flags:
        ``{"every": "--eval-every", ...}``); default ``evaluation.FIELD``.

    Returns
    -------
    Evaluation

    Raises
    ------
    UserError
        ``every`` not an integer >= 0, ``sweeps`` not in 1..MAX_ITERATIONS, ``burn_in`` not an
        integer >= 0 or not below ``sweeps``, ``target`` not a finite number > 0.
    """
    n = {f: f"evaluation.{f}" for f in ("every", "sweeps", "burn_in", "target")} | (names or {})
    every = check_int(n["every"], evaluation.every, 0)
    sweeps = check_int(n["sweeps"], evaluation.sweeps, 1, MAX_ITERATIONS)
    burn_in = check_int(n["burn_in"], evaluation.burn_in, 0)
    if burn_in >= sweeps:
        raise UserError(f"{n['burn_in']} ({burn_in}) must be less than {n['sweeps']} "
                        f"({sweeps})")
    target = evaluation.target
    if target is not None:
        try:
            ok = math.isfinite(float(target)) and float(target) > 0
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise UserError(f"{n['target']} must be a finite number > 0, got {target!r}")
        target = float(target)
    return Evaluation(every, sweeps, burn_in, target)


def check_esca_settings(settings, name="esca_settings"):
    """``settings`` checked as :class:`~esca.config.TrainConfig` fields, values parsed.

    Parameters
    ----------
    settings : mapping of str to object, optional
        ``{field: value}``. A str value is parsed by the field's type in
        ``dataclasses.fields(TrainConfig)``: int, float, str as such; a field of any other
        type (``object``, e.g. ``optimize_burn_in``, an int or None) takes a Python literal
        (``ast.literal_eval``), else the text itself.
        Other values are kept as they are.
    name : str
        How ``settings`` is named in the messages (the CLI passes ``"--esca-set"``).

    Returns
    -------
    dict of str to object
        The parsed settings, in the given order.

    Raises
    ------
    UserError
        A name that is no TrainConfig field, one that the bench sets itself
        (:data:`~esca.bench.systems.ESCA_OWNED`: num_topics, iterations, alpha, beta, seed,
        sampler, threads, eval_every), a value that does not parse as its field's type, or
        one that TrainConfig rejects.
    """
    fields = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    settable = [f for f in fields if f not in ESCA_OWNED]
    checked = {}
    for key, value in dict(settings or {}).items():
        key = str(key).strip()
        if key in ESCA_OWNED:
            raise UserError(f"{name} cannot set {key}: the bench sets it for every system "
                            f"(settable: {', '.join(settable)})")
        if key not in fields:
            raise UserError(f"unknown esca setting {key!r} in {name} (settable TrainConfig "
                            f"fields: {', '.join(settable)})")
        checked[key] = _parse_setting(key, value, fields[key], name)
    try:
        TrainConfig(**checked)
    except UserError as e:
        raise UserError(f"{name}: {e}") from None
    return checked


def _parse_setting(key, value, kind, name):
    """``value`` of TrainConfig field ``key`` (annotated ``kind``), parsed if it is text."""
    if not isinstance(value, str) or kind is str:
        return value
    text = value.strip()
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise UserError(f"{name} {key} takes {what}, got {value!r}") from None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value


def run_bench(corpus, num_topics, out, *, training=None, evaluation=None, holdout=0.1,
              systems=None, iterations_for=None, repeats=1):
    """Benchmark every selected system at every K and write the reports into ``out``.

    Parameters
    ----------
    corpus : str or os.PathLike
        An esca HDF5 corpus or ``builtin:wiki250``.
    num_topics : sequence of int
        The K values.
    out : str or os.PathLike
        Output folder; created if missing (its parent must exist).
    training : Training, optional
        Iterations, alpha, beta and seed of every system, and the extra TrainConfig settings
        of the runs of :func:`esca.train` (``esca_settings``); default ``Training()``.
    evaluation : Evaluation, optional
        When and how held-out perplexity is computed, and the target of time to quality;
        default ``Evaluation()``.
    holdout : float
        Fraction of documents held out for perplexity, in (0, 1).
    systems : sequence of str, optional
        System names or families (first word of a name, :data:`~esca.bench.systems.FAMILIES`),
        case-insensitive; default all of :data:`SYSTEMS`.
    iterations_for : mapping of str to int, optional
        Iterations for some systems (names or families), e.g. ``{"lda": 20}``.
    repeats : int
        Runs per system; reported times are medians over runs of each run's median.

    Returns
    -------
    dict
        The content of ``bench.json``: ``results[K][system]`` holds each system's medians
        (``tokens_per_s`` from the median iteration, ``tokens_per_s_whole_run`` = N x
        iterations / ``whole_run_s``), its evaluation points (``curve``) and its runs;
        ``ttq[K]`` the time to quality of every system (:func:`esca.bench.ttq.ttq_table`).

    Raises
    ------
    UserError
        On a bad value (K < 1, alpha or beta <= 0, holdout outside (0, 1), an unknown system,
        burn-in >= sweeps, an esca setting that :func:`check_esca_settings` rejects, ...),
        an unreadable corpus, an unusable output folder, or one
        whose files (``data/train.h5`` ...) would replace the corpus.
    """
    training = Training() if training is None else training
    ks = list(dict.fromkeys(num_topics))
    if not ks:
        raise UserError("give at least one K (num_topics)")
    settings = check_esca_settings(training.esca_settings)
    configs = {K: TrainConfig(num_topics=K, iterations=training.iterations,
                              alpha=training.alpha, beta=training.beta, seed=training.seed,
                              **settings)
               for K in ks}
    base = configs[ks[0]]
    ev = check_evaluation(Evaluation() if evaluation is None else evaluation)
    repeats = check_int("repeats", repeats, 1)
    names = select_systems(systems)
    iters = dict.fromkeys(names, base.iterations)
    for key, n in (iterations_for or {}).items():
        n = check_int(f"iterations for {key!r}", n, 1, MAX_ITERATIONS)
        iters.update((name, n) for name in select_systems([key], "iterations_for")
                     if name in iters)
    out = os.fspath(out)
    inputs = [("CORPUS.h5", os.fspath(corpus))]
    check_not_input(out, inputs)
    check_outputs_not_inputs(out, WRITES, inputs)
    check_output_dir(out)
    whole, train, test, split_info, data = write_split(corpus, holdout, base.seed, out)

    def sizes(c):
        return {"D": c.num_docs, "V": c.num_words, "N": c.num_tokens}

    sha, dirty = git_revision()
    report = {
        "command": command_line(corpus, ks, out, iterations=training.iterations,
                                alpha=training.alpha, beta=training.beta, seed=training.seed,
                                holdout=holdout, systems=names,
                                iterations_for={n: i for n, i in iters.items()
                                                if i != base.iterations},
                                eval_every=ev.every, eval_sweeps=ev.sweeps,
                                eval_burn_in=ev.burn_in, target=ev.target,
                                repeats=repeats, esca_settings=settings),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": {
            "corpus": os.fspath(corpus), "corpus_abspath": _abspath(corpus),
            "source": sizes(whole), "train": sizes(train), "test": sizes(test),
            "train_path": data["train"], "test_path": data["test"],
            "holdout": float(holdout), "split": split_info,
            "num_topics": ks, "alpha": {str(K): configs[K].alpha for K in ks},
            "alpha_rule": "5/K (default)" if training.alpha is None else "given",
            "beta": base.beta, "iterations": base.iterations, "iterations_per_system": iters,
            "seed": base.seed, "repeats": repeats, "systems": names,
            "esca_settings": settings,
            "esca_settings_systems": [n for n in names if n in ESCA_SYSTEMS],
            "eval": {"method": "document completion (Wallach et al. 2009): theta folded in on "
                     "the even-position tokens of each held-out document with phi fixed, the "
                     "odd-position tokens scored (esca.evaluate.document_completion)",
                     "every": ev.every, "sweeps": ev.sweeps, "burn_in": ev.burn_in,
                     "seed": training.seed, "target_perplexity": ev.target},
        },
        "git_sha": sha, "git_dirty": dirty, "versions": library_versions(),
        "machine": machine_info(),
        "results": {}, "ttq": {},
    }
    for K in ks:
        rows = report["results"][str(K)] = {}
        for name in names:
            spec = worker_spec(name, train=data["train"], test=data["test"], num_topics=K,
                               alpha=configs[K].alpha, beta=base.beta, seed=base.seed,
                               iterations=iters[name], eval_every=ev.every,
                               eval_sweeps=ev.sweeps, eval_burn_in=ev.burn_in,
                               esca_settings=settings)
            rows[name] = bench_system(name, spec, repeats, out, train.num_tokens)
            write_text(os.path.join(out, "bench.json"), json.dumps(report, indent=1))
        report["ttq"][str(K)] = ttq_table(rows, ev.target)
        write_text(os.path.join(out, "bench.json"), json.dumps(report, indent=1))
    write_text(os.path.join(out, "bench.md"), markdown(report))
    plot_tokens_per_s(report, os.path.join(out, "tokens_per_s.png"))
    plot_perplexity(report, os.path.join(out, "perplexity_vs_seconds.png"))
    return report


def write_split(corpus, holdout, seed, out):
    """Split a corpus into the benchmark's train and test parts and write them.

    Parameters
    ----------
    corpus : str or os.PathLike
        The corpus to split (a path of corpus.h5 or ``builtin:NAME``).
    holdout : float
        Fraction of documents held out for testing, in (0, 1).
    seed : int
        Seed of the split (:func:`esca.evaluate.split_holdout`).
    out : str or os.PathLike
        The benchmark folder: the parts go to ``out/data/{train,test}.h5``; ``out/data`` and
        ``out/logs`` are created.

    Returns
    -------
    tuple
        ``(whole, train, test, info, paths)``: the three :class:`esca.Corpus`, the split's
        JSON-ready description (without the document id lists) and ``{part: absolute path}``.
    """
    whole = read_corpus(os.fspath(corpus))
    train, test, info = split_holdout(whole, holdout, seed)
    for sub in ("data", "logs"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    paths = {}
    for part, c in (("train", train), ("test", test)):
        paths[part] = os.path.abspath(os.path.join(out, "data", f"{part}.h5"))
        write_corpus(paths[part], c.doc_ptr, c.word_ids, c.vocab,
                     provenance={"source": os.fspath(corpus), "bench_part": part,
                                 "holdout": float(holdout), "seed": seed})
        log.info("%s: D=%d V=%d N=%d -> %s", part, c.num_docs, c.num_words, c.num_tokens,
                 paths[part])
    info = {k: v for k, v in info.items() if not k.endswith("_doc_ids")}
    return whole, train, test, json.loads(json.dumps(info, default=str)), paths


def command_line(corpus, num_topics, out, **settings):
    """The ``esca bench`` command that repeats a run, with every setting explicit."""
    s = settings
    args = ["esca", "bench", os.fspath(corpus), "-k", *map(str, num_topics),
            "--iterations", s["iterations"], "--beta", s["beta"], "--seed", s["seed"],
            "--holdout", s["holdout"], "--systems", ",".join(s["systems"]),
            "--eval-every", s["eval_every"], "--eval-sweeps", s["eval_sweeps"],
            "--eval-burn-in", s["eval_burn_in"], "--repeats", s["repeats"]]
    if s["alpha"] is not None:
        args += ["--alpha", s["alpha"]]
    if s.get("target") is not None:
        args += ["--target-perplexity", s["target"]]
    for name, n in s["iterations_for"].items():
        args += ["--iterations-for", f"{name}={n}"]
    for name, value in s.get("esca_settings", {}).items():
        args += ["--esca-set", f"{name}={value}"]
    return shlex.join([*map(str, args), "--out", os.fspath(out)])


def _abspath(corpus):
    corpus = os.fspath(corpus)
    return corpus if corpus.startswith("builtin:") else os.path.abspath(corpus)
