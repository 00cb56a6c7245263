"""Shared test fixtures: a small random corpus, Numba's thread count restored after a test, and a
local HTTP server. Shared functions are in helpers.py."""

import os
import sys

import pytest

# Let the test modules `import helpers` and `import naive` whatever pytest's import mode is.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import HTTPState, make_random_corpus, start_http_server  # noqa: E402 - after the path


@pytest.fixture
def random_corpus():
    """A 20-document random corpus over V=30 words (fixed seed), with an empty document."""
    return make_random_corpus(12345, empty_docs=(4,))


@pytest.fixture
def restore_numba_threads():
    """Put Numba's thread count back after a test that changes it (esca.train does)."""
    import numba  # noqa: PLC0415 - import esca must not import numba before a test sets threads
    n = numba.get_num_threads()
    yield
    numba.set_num_threads(n)


@pytest.fixture(scope="module")
def http_server():
    """A local HTTP server with byte ranges (helpers.start_http_server), one per test module."""
    server = start_http_server()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(http_server, monkeypatch):
    """The module's server with a fresh state; its base URL is ``server.url``."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    http_server.state = HTTPState()
    http_server.url = f"http://127.0.0.1:{http_server.server_address[1]}"
    return http_server
