"""What the test modules share, so that no test module imports another one.

Fixtures live in ``conftest.py`` (which uses this module); plain references of the kernels live
in ``naive.py``; scripts that tests start as subprocesses live in ``scripts/``.

* subprocesses: :func:`run`, :func:`run_esca`, :func:`esca_cmd`, :func:`child_env`,
  :func:`check_ok`, :func:`check_user_error`
* MPI: :data:`MPIEXEC`, :data:`needs_mpiexec`, :data:`SCRIPTS`
* corpora, models and files: :func:`make_random_corpus`, :func:`write_two_block_corpus`,
  :func:`make_20news_tarball`, :func:`sha256`, :func:`assert_same_model`, :func:`check_png`
* help texts: :func:`cli_commands`, :func:`subparsers`, :func:`joined_lines`,
  :func:`esca_argv`, :func:`parse_error`
* a local HTTP server with byte ranges: :func:`start_http_server`
"""

import argparse
import contextlib
import hashlib
import io
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

import esca
from esca.cli.main import build_parser

TIMEOUT = 300  # seconds; a hang fails the test instead of blocking CI
SCRIPTS = Path(__file__).resolve().parent / "scripts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# -- subprocesses ---------------------------------------------------------------------------------


def child_env(**extra):
    """The test's environment without MPI launcher variables, plus ``extra``.

    A child started by a test is not a rank of the test's job; launcher variables left over
    from an outer ``mpiexec`` would make it join that job.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPIR_"))}
    return {**env, **extra}


def run(cmd, cwd, timeout=TIMEOUT, env=None):
    """Run ``cmd`` in its own process group; return ``(CompletedProcess, seconds)``.

    Parameters
    ----------
    cmd : sequence
        The command; its items are turned into ``str``.
    cwd : path-like
        The working folder.
    timeout : float
        Seconds; then the whole process group is killed and the test fails (a hang).
    env : dict, optional
        The environment; default :func:`child_env`.
    """
    cmd = [str(c) for c in cmd]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=child_env() if env is None else env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"timed out after {timeout} s (hang?): {cmd}\nstdout:\n{out}\nstderr:\n{err}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), time.monotonic() - t0


def run_esca(args, cwd, timeout=TIMEOUT, exe=None):
    """Run ``python -m esca *args`` (or ``exe *args``) like :func:`run`; return the
    CompletedProcess."""
    cmd = [exe, *args] if exe else [sys.executable, "-m", "esca", *args]
    return run(cmd, cwd, timeout)[0]


def esca_cmd(args, ranks):
    """``python -m esca ARGS`` for one rank, ``mpiexec -n RANKS python -m esca ARGS`` otherwise."""
    base = [sys.executable, "-m", "esca", *args]
    return base if ranks == 1 else [MPIEXEC, "-n", ranks, *base]


def check_ok(r):
    """Assert exit status 0 and no traceback; return ``r``."""
    assert r.returncode == 0, f"{r.args} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "Traceback" not in r.stderr, r.stderr
    return r


def check_user_error(r, *names):
    """Exit status 2, one stderr line ``esca: error: ...`` naming ``names``, no traceback.

    Returns the line.
    """
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2, f"{r.args} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("esca: error: "), lines[0]
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


# -- MPI ------------------------------------------------------------------------------------------


def find_mpiexec():
    """``mpiexec`` beside ``sys.executable`` (the mpich wheel puts it there), else on PATH."""
    exe = Path(sys.executable).parent / "mpiexec"
    return str(exe) if exe.exists() else shutil.which("mpiexec")


MPIEXEC = find_mpiexec()
#: Skips a test (or, in ``pytestmark``, a module) when there is no ``mpiexec``.
needs_mpiexec = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec next to python or on PATH")


# -- corpora, models and files --------------------------------------------------------------------


def make_random_corpus(seed, D=20, V=30, min_len=1, max_len=60, empty_docs=()):
    """A random in-memory ``esca.Corpus`` with D documents over V words.

    Document lengths are uniform in ``min_len..max_len`` except for the
    documents listed in ``empty_docs``, which are empty; the last two word
    ids are never used, so V includes unseen words.
    """
    rng = np.random.default_rng(seed)
    lens = rng.integers(min_len, max_len + 1, size=D)
    lens[list(empty_docs)] = 0
    doc_ptr = np.zeros(D + 1, dtype=np.int64)
    np.cumsum(lens, out=doc_ptr[1:])
    word_ids = rng.integers(0, V - 2, size=int(doc_ptr[-1])).astype(np.int32)
    return esca.Corpus(doc_ptr, word_ids, [f"w{i}" for i in range(V)])


def write_two_block_corpus(path, D=80, V=300, seed=3):
    """Write a corpus.h5 whose documents are drawn from one of two disjoint halves of the
    vocabulary; return ``path``."""
    rng = np.random.default_rng(seed)
    lens = rng.integers(20, 120, size=D)
    block = rng.integers(0, 2, size=D)
    doc_ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    word_ids = np.concatenate([rng.integers(0, V // 2, n) + b * (V // 2)
                               for n, b in zip(lens, block, strict=True)]).astype(np.int32)
    esca.write_corpus(str(path), doc_ptr, word_ids, [f"w{i}" for i in range(V)])
    return path


#: The posts of :func:`make_20news_tarball` (tests/test_fetch.py checks what becomes of each).
NEWS_POSTS = {
    "20news-bydate-train/sci.space/60001": (
        "From: a@b.edu\nSubject: Re: Re: orbital rocket launch\nLines: 5\n\n"
        "The rocket reached orbit after launch.\n"
        "In article <1@x> someone writes:\n> quotedonly phrase here\n"
        "Orbit insertion of the rocket went well.\n"),
    "20news-bydate-train/sci.space/60002": (
        "Subject: shuttle orbit\n\nThe shuttle orbit and the rocket engines.\n"),
    "20news-bydate-train/alt.atheism/51000": (
        "Subject: belief\nOrganization: none\n\nBelief and religion and god debated, "
        "belief again.\n| quotedonly too\n"),
    "20news-bydate-train/alt.atheism/9": (
        "Subject: god\n\nA post about god and belief and religion.\n"),
    "20news-bydate-test/sci.space/70000": (
        "Subject: rocket\n\nAnother rocket launch into orbit, with telescope optics.\n"),
    "20news-bydate-test/alt.atheism/53000": (
        "Subject: zzzunseen\n\nxylophones quintessential\n"),  # only words unseen in training
}


def make_20news_tarball():
    """A small 20 Newsgroups ``20news-bydate.tar.gz`` (bytes) of :data:`NEWS_POSTS`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in sorted(NEWS_POSTS.items(), reverse=True):  # not in sorted order
            data = text.encode("latin-1")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data):
    """The SHA-256 hex digest of ``data`` (bytes)."""
    return hashlib.sha256(data).hexdigest()


def assert_same_model(a, b):
    """Assert two TopicModels have the same counts and priors, bit for bit, and the same log."""
    np.testing.assert_array_equal(a.n_kw, b.n_kw)
    np.testing.assert_array_equal(a.n_dk, b.n_dk)
    np.testing.assert_array_equal(a.n_k, b.n_k)
    np.testing.assert_array_equal(a.alpha, b.alpha)
    assert a.beta == b.beta
    # the doc part of the log-likelihood is a float sum over ranks: equal up to rounding
    assert a.log["loglik_per_token"][-1] == pytest.approx(b.log["loglik_per_token"][-1],
                                                          rel=1e-12)
    assert len(a.log["seconds"]) == len(b.log["seconds"])


def check_png(path, min_side=300, max_side=5000):
    """Assert ``path`` is a decodable, non-blank PNG of sensible size; returns (width, height)."""
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE, path
    with Image.open(path) as im:
        assert im.format == "PNG"
        im.load()
        width, height = im.size
        pixels = np.asarray(im.convert("L"), dtype=np.float64)
    assert min_side <= width <= max_side and min_side <= height <= max_side, (path, im.size)
    assert pixels.std() > 1.0, f"{path} is blank"
    assert (pixels < 128).mean() > 0.001, f"{path} has hardly anything drawn"
    return width, height


# -- help texts -----------------------------------------------------------------------------------

REMARK = re.compile(r"\s{2,}(\(|#)")  # "  (the builtin corpus, nothing saved)", "   # note"


def subparsers(parser):
    """The ``{name: parser}`` of the subcommands of ``parser`` ({} if it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def cli_commands(parser=None, prefix=()):
    """``(words, parser)`` of the top-level command and every (nested) subcommand."""
    if parser is None:
        parser = build_parser()
        yield (), parser
    for name, sub in subparsers(parser).items():
        yield (*prefix, name), sub
        yield from cli_commands(sub, (*prefix, name))


def joined_lines(lines):
    """Lines with ``\\`` continuations joined (the continuation's indentation dropped)."""
    out, cur = [], None
    for ln in lines:
        ln = ln.rstrip()
        cont = ln.endswith("\\")
        text = ln[:-1].rstrip() if cont else ln
        cur = text if cur is None else f"{cur} {text.strip()}"
        if not cont:
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return out


def esca_argv(line):
    """The words after ``esca`` of a command line (pipes, redirections and remarks cut)."""
    cmd = REMARK.split(line, maxsplit=1)[0]
    cmd = re.split(r"[|>]", cmd, maxsplit=1)[0]
    words = shlex.split(cmd, comments=True)
    if "esca" not in words:
        return None
    return words[words.index("esca") + 1:]


def parse_error(argv):
    """None if ``build_parser().parse_args(argv)`` accepts ``argv``, else argparse's message."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as e:
        return f"exit {e.code}: {err.getvalue().strip().splitlines()[-1:]}"
    return None


# -- a local HTTP server with byte ranges ---------------------------------------------------------


class HTTPState:
    """What the test server serves and what it saw."""

    def __init__(self):
        self.files = {}          # URL path -> bytes
        self.drop_after = {}     # URL path -> bytes to send before closing (once)
        self.ignore_range = set()
        self.stall = {}          # URL path -> seconds to wait after the headers (once)
        self.content_type = {}   # URL path -> Content-Type header to send
        self.requests = []       # (path, headers dict, status)


class _RangeHandler(BaseHTTPRequestHandler):
    """Serves ``server.state.files`` with ``Range: bytes=N-`` (206), ``If-Range``, ETags, and
    the faults the state asks for (a dropped connection, a stall)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - the name http.server calls
        st = self.server.state
        path = urlsplit(self.path).path
        headers = dict(self.headers.items())
        body = st.files.get(path)
        if body is None:
            st.requests.append((path, headers, 404))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        start, status = 0, 200
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if rng and path not in st.ignore_range and (if_range is None or if_range == etag):
            start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))
            if start >= len(body):
                st.requests.append((path, headers, 416))
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        st.requests.append((path, headers, status))
        chunk = body[start:]
        self.send_response(status)
        self.send_header("Content-Length", str(len(chunk)))
        self.send_header("ETag", etag)
        if path in st.content_type:
            self.send_header("Content-Type", st.content_type[path])
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if path in st.stall:
            time.sleep(st.stall.pop(path))
        n = st.drop_after.pop(path, None)
        if n is not None:  # an interrupted transfer: part of the body, then the socket closes
            self.wfile.write(chunk[:n])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(chunk)


def start_http_server():
    """A running HTTP server on 127.0.0.1 (port chosen by the OS) with a fresh
    :class:`HTTPState` as ``server.state``; stop it with ``shutdown()`` and ``server_close()``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    server.daemon_threads = True
    server.state = HTTPState()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
