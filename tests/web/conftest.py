"""Shared fixtures for the playground tests. They need the web extra (fastapi, uvicorn)."""

import pytest
import torch

from tests.web.server import start_server


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The server runs torch on one thread (`whydl serve` sets it; the setting is
    process-wide): worker threads on a multi-threaded torch crawl. Restored afterwards so
    other tests keep their setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def server():
    """One real `whydl serve` subprocess on a free port, shared by the tests that need it."""
    pytest.importorskip("fastapi", reason="the playground needs the web extra")
    pytest.importorskip("uvicorn", reason="the playground needs the web extra")
    proc, url = start_server()
    yield url
    proc.terminate()
    proc.wait(timeout=30)
