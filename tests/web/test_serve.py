"""`whydl serve`: its message without the web extra, and a real server on a free port."""

import socket
import sys
import urllib.request

import pytest

from whydl.cli import main


def test_serve_needs_the_web_extra(monkeypatch, capsys):
    """Without fastapi, `whydl serve` says how to install it and exits 2."""
    monkeypatch.setitem(sys.modules, "fastapi", None)  # `import fastapi` now raises
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'whydl[web]'" in err and "fastapi is not installed" in err


def test_serve_binds_localhost_and_prints_its_url(server):
    assert server.startswith("http://127.0.0.1:")
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with no_proxy.open(server, timeout=60) as page:
        assert b"whydl playground" in page.read()


def test_a_taken_port_is_a_clear_error(capsys):
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port 0" in err
