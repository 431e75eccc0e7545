"""The playground server: the static page, its options, and one WebSocket per tab.

Protocol (JSON text both ways, plus one binary message: the weights file):
  page -> server  {"type": "configure", "settings": {...}, "csv": {"name", "text"}?}
                  {"type": "reset" | "play" | "pause" | "step" | "export" | "weights"}
  server -> page  {"type": "ready" | "frame" | "error" | "export", ...}; bytes = state_dict

Safety: a WebSocket is accepted only from a page this server served (its Origin must
match the Host it was sent to) and only under a loopback Host name unless the server was
bound elsewhere, which stops other web sites, DNS rebinding included, from driving it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import json
import socket
import threading
import webbrowser
from pathlib import Path
from urllib.parse import urlsplit

import torch
import uvicorn
from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from whydl.errors import WhydlError
from whydl.web.session import Session
from whydl.web.validate import MAX_CSV_BYTES, options

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 16  # tabs training at once
MAX_MESSAGE_CHARS = MAX_CSV_BYTES + 100_000  # a CSV upload plus its settings
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
POLICY_VIOLATION, TRY_AGAIN_LATER = 1008, 1013  # WebSocket close codes
HEADERS = {
    # the page loads nothing from elsewhere, so the browser may load nothing from elsewhere
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(host: str = "127.0.0.1") -> FastAPI:
    """The playground app for a server bound to `host`.

    Example
    -------
    >>> from fastapi.testclient import TestClient
    >>> TestClient(create_app(), base_url="http://127.0.0.1:8000").get("/").status_code
    200
    """
    app = FastAPI(title="whydl playground", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = {}  # id -> Session, the tabs training now
    app.state.allowed_hosts = None if host in ("0.0.0.0", "::", "") else LOOPBACK | {host}
    ids = itertools.count(1)

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/api/options")
    async def api_options():
        return JSONResponse(options())

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.websocket("/ws")
    async def socket(websocket: WebSocket):
        reason = _refusal(websocket.headers, app.state.allowed_hosts)
        if reason:
            await websocket.close(code=POLICY_VIOLATION, reason=reason)
            return
        await websocket.accept()
        sessions = app.state.sessions
        if len(sessions) >= MAX_SESSIONS:
            message = f"{MAX_SESSIONS} playground tabs are open already; close one and reload."
            await websocket.send_text(json.dumps({"type": "error", "message": message}))
            await websocket.close(code=TRY_AGAIN_LATER)
            return
        loop, wake = asyncio.get_running_loop(), asyncio.Event()

        def notify():  # called from the worker thread
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody to tell
                loop.call_soon_threadsafe(wake.set)

        key = next(ids)
        session = sessions[key] = Session(notify, name=f"session-{key}")
        session.start()
        sender = asyncio.create_task(_send(websocket, session, wake))
        try:
            await _receive(websocket, session)
        finally:  # tab closed, reloaded or gone: stop its training and free it
            sessions.pop(key, None)
            sender.cancel()
            await asyncio.to_thread(session.close)  # runs to the end even if we are cancelled

    return app


def _refusal(headers, allowed_hosts) -> str | None:
    """Why a WebSocket handshake is refused, or None to accept it."""
    host, origin = headers.get("host", ""), headers.get("origin")
    hostname = urlsplit(f"//{host}").hostname or ""
    if allowed_hosts is not None and hostname not in allowed_hosts:
        return f"host {host!r} is not this server's"
    if origin is None:
        return "no Origin header: only the playground page may connect"
    if origin not in (f"http://{host}", f"https://{host}"):
        return f"origin {origin!r} is not this server's"
    return None


async def _receive(websocket: WebSocket, session: Session) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            session.refuse("the server takes JSON text messages, not binary ones.")
        elif len(text) > MAX_MESSAGE_CHARS:
            session.refuse(
                f"a message of {len(text):,} characters is over the limit of "
                f"{MAX_MESSAGE_CHARS:,}; CSV files may be up to {MAX_CSV_BYTES / 1e6:g} MB."
            )
        else:
            try:
                session.submit(json.loads(text))
            except ValueError:
                session.refuse("a message was not valid JSON; reload the page.")


async def _send(websocket: WebSocket, session: Session, wake: asyncio.Event) -> None:
    """Send what the worker has ready whenever it says so; only the latest frame goes."""
    try:
        while True:
            await wake.wait()
            wake.clear()
            messages, frame = session.take()
            for m in messages:
                if isinstance(m, bytes):
                    await websocket.send_bytes(m)
                else:
                    await websocket.send_text(json.dumps(m, allow_nan=False))
            if frame is not None:
                await websocket.send_text(frame)
    except Exception:  # the tab went away mid-send; the receiver sees the disconnect
        return


def _bind(host: str, port: int):
    """A socket bound to (host, port), or a `WhydlError` that blames the right flag."""
    if not 0 <= port <= 65535:
        raise WhydlError(f"--port {port} is not a port. Expected 0..65535 (0 = any free port).")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError) as e:
        raise WhydlError(
            f"--host {host!r} is not an address or a known host name ({e}). Pass an address "
            "of this machine, e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (all)."
        ) from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRNOTAVAIL:
            raise WhydlError(
                f"--host {host}: that address is not one of this machine's ({e.strerror}). "
                "Pass --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (all addresses)."
            ) from None
        hint = "ports below 1024 need root; " if e.errno == errno.EACCES and port < 1024 else ""
        raise WhydlError(
            f"cannot listen on {host}:{port} ({e.strerror}). {hint}Pass another --port, e.g. "
            f"--port {port + 1 if 0 < port < 65535 else 8000}, or --port 0 for any free port."
        ) from None
    return sock


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False) -> None:
    """Run the playground until Ctrl+C; prints its URL. Port 0 picks a free port."""

    sock = _bind(host, port)
    sock.listen(128)  # listening before the URL is printed: it works once shown
    port = sock.getsockname()[1]

    # one torch thread for the whole process (the setting is process-wide): each tab's
    # worker then uses one core, and tiny networks train fastest on one thread anyway
    torch.set_num_threads(1)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host == '0.0.0.0' else shown}:{port}/"
    print(f"whydl playground: {url}  (Ctrl+C to stop)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(
        create_app(host), log_level="warning", ws_max_size=2 * MAX_MESSAGE_CHARS
    )
    uvicorn.Server(config).run(sockets=[sock])
