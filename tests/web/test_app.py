"""The playground server through FastAPI's TestClient: page, options and the WebSocket."""

import io
import json
import time

import pytest

pytest.importorskip("fastapi", reason="the playground needs the web extra: pip install '.[web]'")

import torch  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from whydl.web import frames  # noqa: E402
from whydl.web.app import MAX_MESSAGE_CHARS, create_app  # noqa: E402

SERVER = "127.0.0.1:8000"
ORIGIN = {"origin": f"http://{SERVER}"}
SMALL = {"n_samples": 200, "hidden": [6, 6]}


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app):
    return TestClient(app, base_url=f"http://{SERVER}")


def connect(client, headers=ORIGIN, host=SERVER):
    return client.websocket_connect(f"ws://{host}/ws", headers=headers)


def receive(ws, kind: str, limit: int = 500):
    """The next message of `kind`, skipping others (frames keep coming while playing)."""
    for _ in range(limit):
        m = ws.receive()
        if "bytes" in m and m["bytes"] is not None:
            if kind == "bytes":
                return m["bytes"]
            continue
        message = json.loads(m["text"])
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message in {limit}")


def test_page_and_static_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and "whydl playground" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    for name in ("app.js", "style.css", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
    # the page loads nothing from elsewhere
    for text in (page.text, client.get("/static/app.js").text):
        assert "http://" not in text and "https://" not in text
    assert client.get("/api/options").json()["max_layers"] == 8
    # user input never becomes code or markup in the page
    script = client.get("/static/app.js").text
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function"):
        assert risky not in script


def test_a_session_streams_frames_while_the_network_learns(client):
    with connect(client) as ws:
        ws.send_json({"type": "configure", "settings": SMALL})
        ready = receive(ws, "ready")
        assert ready["layers"] == [2, 6, 6, 1]
        ws.send_json({"type": "play"})
        epochs, frame = [], None
        # stale frames are dropped, so a loaded machine may skip epochs between frames:
        # wait for several distinct frames, not for a fixed number of epochs
        while len(set(epochs)) < 4 or epochs[-1] < 15:
            frame = receive(ws, "frame")
            epochs.append(frame["epoch"])
        assert epochs == sorted(epochs) and len(set(epochs)) > 2  # several frames, rising
        loss = [v for v in frames.decode_curves(frame["curves"])["test_loss"] if v is not None]
        assert loss[-1] < loss[0]
        ws.send_json({"type": "pause"})
        while receive(ws, "frame")["playing"]:  # frames sent before the pause arrived
            pass


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"hidden": [10] * 9}, "hidden has 9 layers; the playground allows at most 8"),
        ({"hidden": [65]}, "hidden layer 1 has 65 neurons; expected 1 to 64"),
        ({"n_samples": 20_000}, "n_samples=20000 is outside the playground's range"),
        ({"lr": 101}, "lr=101 must be in (0, 100]"),
        ({"batch_size": -5}, "batch_size=-5 must be >= 1 (0 = full batch)"),
        ({"noise": 30}, "noise=30 must be in [0, 10]"),
        ({"dropout": 1}, "dropout=1 must be in [0, 1)"),
        ({"activation": "<b>relu</b>"}, "activation='<b>relu</b>' is not valid"),
        ({"optimizer": "lbfgs"}, "optimizer='lbfgs' is not valid"),
    ],
)
def test_each_bad_parameter_is_refused_with_its_message(client, settings, message):
    with connect(client) as ws:
        ws.send_json({"type": "configure", "settings": settings})
        assert message in receive(ws, "error")["message"]


def test_bad_uploads_and_messages_are_refused_with_a_message(client):
    with connect(client) as ws:
        big = "x1,x2,label\n" + "0,0,a\n" * 10_001
        ws.send_json(
            {
                "type": "configure",
                "settings": {"dataset": "csv"},
                "csv": {"name": "b.csv", "text": big},
            }
        )
        assert "b.csv has 10,001 rows" in receive(ws, "error")["message"]
        huge = "x" * (2_000_001)
        ws.send_json({"type": "configure", "settings": {}, "csv": {"name": "h.csv", "text": huge}})
        assert "h.csv is 2.0 MB" in receive(ws, "error")["message"]
        ws.send_text("x" * (MAX_MESSAGE_CHARS + 1))
        assert "over the limit" in receive(ws, "error")["message"]
        ws.send_text("{not json")
        assert "not valid JSON" in receive(ws, "error")["message"]
        ws.send_bytes(b"\x00\x01")
        assert "not binary" in receive(ws, "error")["message"]


def test_disconnect_stops_training_and_frees_the_session(app, client):
    with connect(client) as ws:
        ws.send_json({"type": "configure", "settings": SMALL})
        receive(ws, "ready")
        ws.send_json({"type": "play"})
        receive(ws, "frame")
        (session,) = app.state.sessions.values()
        assert session.thread.is_alive()
    deadline = time.monotonic() + 30
    while (session.thread.is_alive() or app.state.sessions) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not session.thread.is_alive() and app.state.sessions == {}
    assert session.trainer is None


def test_several_tabs_train_at_once(app, client):
    with connect(client) as a, connect(client) as b:
        for ws, seed in ((a, 1), (b, 2)):
            ws.send_json({"type": "configure", "settings": {**SMALL, "seed": seed}})
            receive(ws, "ready")
            ws.send_json({"type": "play"})
        assert len(app.state.sessions) == 2
        for ws in (a, b):
            while not receive(ws, "frame")["playing"]:  # the epoch-0 frame came first
                pass


@pytest.mark.parametrize(
    "headers, host",
    [
        ({"origin": "http://evil.example"}, SERVER),  # another web site
        ({}, SERVER),  # no Origin: not a browser page
        ({"origin": "http://127.0.0.1:9999"}, SERVER),  # another local server
        ({"origin": "http://evil.example:8000"}, "evil.example:8000"),  # DNS rebinding
    ],
)
def test_a_foreign_origin_is_refused(client, headers, host):
    with pytest.raises(WebSocketDisconnect) as e, connect(client, headers, host) as ws:
        ws.receive()
    assert e.value.code == 1008


def test_too_many_tabs_get_a_message(monkeypatch, client):
    import whydl.web.app

    monkeypatch.setattr(whydl.web.app, "MAX_SESSIONS", 1)
    with connect(client), connect(client) as second:
        assert "1 playground tabs are open already" in receive(second, "error")["message"]
        with pytest.raises(WebSocketDisconnect) as e:
            second.receive_text()
        assert e.value.code == 1013


def test_weights_download_as_a_state_dict(client):
    with connect(client) as ws:
        ws.send_json({"type": "configure", "settings": SMALL})
        receive(ws, "ready")
        ws.send_json({"type": "weights"})
        state = torch.load(io.BytesIO(receive(ws, "bytes")), weights_only=True)
        assert set(state) >= {"hidden.0.weight", "hidden.1.weight", "out.weight", "out.bias"}


def test_several_tabs_with_many_seeds_keep_their_limits_and_a_disconnect_frees_them(app, client):
    """Three tabs: 32 seeds, 8 seeds comparing A/B, and one asking past the per-tab limit
    (refused, with the limit, while the others train on). Closing the tabs frees every
    worker and its networks."""
    many = {**SMALL, "n_seeds": 32}
    with connect(client) as a, connect(client) as b, connect(client) as c:
        a.send_json({"type": "configure", "settings": many})
        assert receive(a, "ready")["seeds"] == list(range(32))
        b.send_json({"type": "configure", "settings": {**SMALL, "n_seeds": 8}})
        receive(b, "ready")
        b.send_json({"type": "compare", "settings": {**SMALL, "n_seeds": 8, "dropout": 0.2}})
        assert receive(b, "ready")["compare"]["settings"]["dropout"] == 0.2
        c.send_json(
            {
                "type": "configure",
                "settings": {"n_samples": 10_000, "hidden": [64, 64]} | {"n_seeds": 32},
            }
        )
        refused = receive(c, "error")["message"]  # 32 x 10,000 x 128 > 5,120,000
        assert "more work than one tab may take" in refused and "n_seeds <= 4" in refused
        b.send_json({"type": "compare", "settings": {**SMALL, "hidden": [65]}})
        assert "expected 1 to 64" in receive(b, "error")["message"]  # B has the same bounds
        for ws in (a, b):
            ws.send_json({"type": "play"})
        frame_a = receive(a, "frame")
        while not frame_a["playing"]:
            frame_a = receive(a, "frame")
        assert frame_a["ensemble"]["n_members"] == 32
        frame_b = receive(b, "frame")
        while not frame_b["playing"]:
            frame_b = receive(b, "frame")
        assert frame_b["compare"]["ensemble"]["n_members"] == 8
        assert frame_b["difference"]["n"] in (0, 8)  # 0 before the first epoch
        sessions = list(app.state.sessions.values())
        assert len(sessions) == 3 and all(s.thread.is_alive() for s in sessions)
        assert sessions[2].trainer is None  # the refused tab holds no network
    deadline = time.monotonic() + 30
    while any(s.thread.is_alive() for s in sessions) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.state.sessions == {} and not any(s.thread.is_alive() for s in sessions)
    assert all(s.arm is None and s.other is None for s in sessions)  # networks let go
