"""The browser playground (`whydl serve`): live training of a small network, in a page.

Needs the optional web extra (`pip install 'whydl[web]'`): FastAPI, uvicorn, websockets.
Modules: `app` (routes, the WebSocket, `serve`), `session` (one tab's worker thread),
`frames` (what a frame holds), `validate` (settings and their bounds), `datasets` (generated
or uploaded data), `export` (the equivalent `whydl train` command and config).
"""
