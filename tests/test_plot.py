"""``esca plot`` and :func:`esca.plot.plot_model`: the PNG files exist, decode, and look sensible.

A small model is trained once (builtin:wiki250, K=5, 20 iterations, the
log-likelihood every 5). Each PNG must start with the PNG signature, decode
with Pillow, measure between 300 and 5000 pixels a side and not be blank.
Hand-built models cover a missing or all-NaN training log, many topics and
words that matplotlib would read as mathtext.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import esca
from esca.plot import MAX_TOPICS, PLOT_FILES, choose_topics, plot_model

from helpers import check_png, check_user_error

K = 5


def run_cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "esca", *map(str, args)], cwd=cwd, check=False,
                          capture_output=True, text=True, timeout=300)


def hand_model(K=3, V=12, log=None, vocab=None):
    """A small TopicModel built from random counts (no training)."""
    rng = np.random.default_rng(1)
    vocab = vocab or [f"w{i}" for i in range(V)]
    n_kw = rng.integers(0, 20, size=(K, len(vocab))).astype(np.int32)
    return esca.TopicModel(n_kw=n_kw, n_k=n_kw.sum(axis=1), n_dk=np.ones((4, K), np.int32),
                           vocab=vocab, alpha=np.full(K, 0.1), beta=0.01,
                           config=esca.TrainConfig(num_topics=K, iterations=3), log=log)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(folder, model): a small model trained on builtin:wiki250 and saved as folder/m.h5."""
    d = tmp_path_factory.mktemp("plot")
    model = esca.train("builtin:wiki250", num_topics=K, iterations=20, threads=1, eval_every=5,
                       seed=1)
    model.save(d / "m.h5")
    return d, model


def test_plot_model_writes_four_valid_pngs(trained, tmp_path):
    _, model = trained
    paths = plot_model(model, tmp_path / "plots")
    assert [os.path.basename(p) for p in paths] == list(PLOT_FILES)
    for p in paths:
        assert os.path.isfile(p)
        check_png(p)
    # Curves are 640 x 420 at the default 100 dpi; the grid has one row of 5 topics.
    from PIL import Image
    assert Image.open(paths[0]).size == (640, 420)
    width, height = Image.open(paths[3]).size
    assert width == 1600 and 300 <= height < width
    assert sorted(os.listdir(tmp_path / "plots")) == sorted(PLOT_FILES)


def test_training_log_has_the_points_the_plots_draw(trained):
    """The curves draw the evaluated iterations only: LL is NaN on the others."""
    _, model = trained
    ll = model.log["loglik_per_token"]
    assert len(ll) == 20 and np.isnan(ll).sum() == 16
    assert model.log["iteration"][np.isfinite(ll)].tolist() == [5, 10, 15, 20]


def test_cli_plot(trained, tmp_path):
    d, _ = trained
    r = run_cli(["plot", d / "m.h5", "--out", "plots", "--top", 5, "--topics", "0-2,4",
                 "--dpi", 80], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    wrote = [ln.split(" ", 1)[1] for ln in r.stdout.splitlines() if ln.startswith("wrote ")]
    assert [os.path.basename(p) for p in wrote] == list(PLOT_FILES)
    for p in wrote:
        check_png(p, min_side=200)


def test_plots_replace_earlier_plots_atomically(trained, tmp_path):
    _, model = trained
    out = tmp_path / "plots"
    out.mkdir()
    (out / "top_words.png").write_bytes(b"an earlier, different file")
    (out / "notes.txt").write_text("kept\n")
    plot_model(model, out, top=3)
    check_png(out / "top_words.png", min_side=200)
    assert (out / "notes.txt").read_text() == "kept\n"
    assert sorted(os.listdir(out)) == sorted(PLOT_FILES + ("notes.txt",))  # no temporary files


@pytest.mark.parametrize("log", [None, "all-nan"], ids=["no-log", "loglik-never-evaluated"])
def test_models_without_curves_still_plot(log, tmp_path):
    if log == "all-nan":
        log = {"iteration": np.arange(1, 4), "seconds": np.full(3, 0.1),
               "tokens_per_s": np.full(3, 1e6), "loglik_per_token": np.full(3, np.nan)}
    paths = plot_model(hand_model(log=log), tmp_path)
    for p in paths:
        check_png(p, min_side=250)


def test_words_with_dollar_signs_and_other_scripts(tmp_path):
    """Words are drawn literally: ``$...$`` is not mathtext, missing glyphs do not fail."""
    vocab = ["$x$", r"\frac{a}{b}", "a$b$c", "日本語", "naïve", "$", "^_^", "%d"]
    path = plot_model(hand_model(K=2, vocab=vocab), tmp_path, top=8)[3]
    check_png(path, min_side=200)


def test_top_words_panels_share_one_readable_x_scale(tmp_path, monkeypatch):
    """Every panel of top_words.png has the same x range (the largest phi drawn + 10%) and
    at most five short percent tick labels."""
    import esca.plot
    figures = []
    real_save = esca.plot.save_png
    monkeypatch.setattr(esca.plot, "save_png", lambda fig, path, dpi: (figures.append(fig),
                                                                     real_save(fig, path, dpi))[1])
    rng = np.random.default_rng(5)
    model = hand_model(K=6, V=40)
    model.n_kw[2] = rng.integers(0, 3, size=40)
    model.n_kw[2, 7] = 400  # one topic with a much larger top phi
    model.n_k[:] = model.n_kw.sum(axis=1)
    check_png(plot_model(model, tmp_path, top=5)[3], min_side=200)
    fig = figures[-1]
    axes = [ax for ax in fig.axes if ax.get_title().startswith("topic ")]
    assert len(axes) == 6
    phi = (model.n_kw + model.beta) / (model.n_k[:, None] + model.num_words * model.beta)
    for ax in axes:
        assert ax.get_xlim() == pytest.approx((0.0, 1.1 * phi.max()))
    fig.canvas.draw()
    labels = [t.get_text() for t in axes[0].get_xticklabels()
              if 0 <= t.get_position()[0] <= 1.1 * phi.max()]
    assert 2 <= len(labels) <= 5, labels
    assert all(lb.endswith("%") and len(lb) <= 6 for lb in labels), labels
    assert labels[0] == "0%"


def test_topic_grid_is_capped(tmp_path):
    assert choose_topics(50) == list(range(MAX_TOPICS))
    assert choose_topics(3) == [0, 1, 2]
    assert choose_topics(50, [7, 3, 7]) == [7, 3]
    with pytest.raises(esca.UserError, match="topic 50 does not exist"):
        choose_topics(50, [1, 50])
    model = hand_model(K=30, V=40)
    path = plot_model(model, tmp_path, top=10)[3]
    width, height = check_png(path)
    assert width == 1600 and height > 1000  # 4 rows of 5 topics
    path = plot_model(model, tmp_path / "two", topics=[29, 0])[3]
    assert check_png(path)[0] == 640


def test_plotting_leaves_pyplot_and_the_backend_alone(tmp_path):
    """The library never imports pyplot, so a caller's backend (e.g. a notebook's) is untouched."""
    code = ("import sys, matplotlib\n"
            "matplotlib.use('svg')\n"
            "import esca, numpy as np\n"
            "from esca.plot import plot_model\n"
            "n = np.arange(12, dtype=np.int32).reshape(2, 6)\n"
            "m = esca.TopicModel(n, n.sum(1), None, list('abcdef'), [0.1, 0.1], 0.01,\n"
            "                    esca.TrainConfig(num_topics=2, iterations=1))\n"
            f"plot_model(m, {str(tmp_path)!r})\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n"
            "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n")
    r = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert len(os.listdir(tmp_path)) == len(PLOT_FILES)


@pytest.mark.parametrize("args, expect", [
    (["--top", 0], ("--top must be >= 1, got 0",)),
    (["--topics", "9"], ("topic 9 does not exist", "0..4")),
    (["--topics", "3-1"], ("--topics", "'3-1'")),
    (["--topics", "a,b"], ("--topics", "'a'")),
    (["--dpi", 5], ("--dpi",)),
], ids=["top-0", "topic-out-of-range", "backwards-range", "not-numbers", "dpi"])
def test_cli_bad_options(trained, tmp_path, args, expect):
    d, _ = trained
    r = run_cli(["plot", d / "m.h5", "--out", "plots", *args], tmp_path)
    check_user_error(r, *expect)
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_paths(trained, tmp_path):
    d, _ = trained
    check_user_error(run_cli(["plot", "missing.h5", "--out", "plots"], tmp_path),
                     "model file not found", "missing.h5")
    check_user_error(run_cli(["plot", d / "m.h5", "--out", "no-such-folder/plots"], tmp_path),
                     "output folder does not exist", "no-such-folder")
    (tmp_path / "afile").write_text("keep me\n")
    check_user_error(run_cli(["plot", d / "m.h5", "--out", "afile"], tmp_path),
                     "output folder is an existing file", "afile")
    check_user_error(run_cli(["plot", d / "m.h5", "--out", "afile/plots"], tmp_path),
                     "output folder is not a folder", "afile")
    assert (tmp_path / "afile").read_text() == "keep me\n"
    assert sorted(os.listdir(tmp_path)) == ["afile"]


def test_cli_help_has_examples(tmp_path):
    r = run_cli(["plot", "--help"], tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("usage: esca plot")
    assert "examples:" in r.stdout and "esca plot model.h5 --out plots/" in r.stdout
    for name in PLOT_FILES:
        assert name in r.stdout
    top = run_cli(["--help"], tmp_path)
    assert "plot" in top.stdout
