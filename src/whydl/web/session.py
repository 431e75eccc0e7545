"""One browser tab's training: a worker thread, commands in, messages and frames out.

The worker owns the dataset and the `Trainer`; nothing else touches them, so no lock guards
them. Two kinds of output leave it:
- messages (ready, error, export, the weights file) queue in order and are never dropped;
- frames (what the page draws) are not queued: one slot holds the latest, a newer frame
  replaces an unsent one, and while a frame waits unsent no new one is even computed, so a
  slow tab costs no work and never falls behind.
`notify()` tells the sender (the server's event loop) that there is something to take.

torch.set_num_threads is process-wide, so the server sets one torch thread once at start
(`whydl serve`), not per worker: tiny networks train fastest on one thread, and each tab's
worker then uses about one core.
"""

from __future__ import annotations

import io
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable

import torch

from whydl.errors import WhydlError
from whydl.web import export, frames
from whydl.web.arm import EPOCH_LIMIT, Arm
from whydl.web.datasets import Upload, make_dataset, parse_point
from whydl.web.validate import (
    check_pair,
    paired,
    parse_member,
    parse_settings,
    parse_view,
    parse_weight_edit,
)
from whydl.web.warp import warp_view

FRAME_INTERVAL = 1 / 60  # seconds: at most a frame per screen refresh of a 60 Hz display
SPEED_WINDOW = 1.0  # seconds over which epochs per second are measured
COMMANDS = (
    "configure",
    "reset",
    "play",
    "pause",
    "step",
    "export",
    "weights",
    "select",
    "set_weight",
    "add_point",
    "compare",
    "view",
)
__all__ = ["COMMANDS", "EPOCH_LIMIT", "Session"]
_STOP = object()
log = logging.getLogger("whydl.web")


class Session:
    """Train one network for one tab. `submit` commands; `take` what is ready; `close`.

    Commands are dicts with a "type": configure (settings, optional csv), reset, play,
    pause, step, export, weights, select (member: which member the neuron maps and the
    exported weights show, 0 to n_seeds - 1; it changes the view, not the run), set_weight
    (layer, out, in, value: one weight of the shown member, set between two epochs),
    add_point (x: [x1, x2], label: a training point added to a generated dataset; the run
    starts again on the data with it, and new data or a new upload drops the added points),
    compare (settings: a second setup, B, trained beside the tab's on the same data and
    seeds, in step with it; settings null stops comparing). While comparing, frames carry
    B's view under "compare" and the paired difference of test scores, B - A, under
    "difference"; B's neuron maps are not computed, since the page does not show them.
    view (neurons: false while the page's neuron maps are off screen, so they are not
    computed; warp: the hidden layer whose warp of the plane frames carry, 0 for none).
    """

    def __init__(self, notify: Callable[[], None], name: str = "session"):
        self.notify = notify
        self._commands: queue.Queue = queue.Queue()
        self._lock = threading.Lock()  # guards _messages and _frame
        self._messages: list = []  # dicts (sent as JSON) and bytes (the weights file)
        self._frame: str | None = None
        self._closing = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"whydl-{name}", daemon=True)
        # worker-owned state
        self.arm: Arm | None = None  # the tab's setup (A)
        self.other: Arm | None = None  # the setup compared with it (B), or None
        self.upload = self.dataset = self.module = None
        self.added: list[tuple[float, float, int]] = []  # points clicked into the data
        self.run = 0  # bumped on every configure/reset; frames carry it
        self.playing = False
        self.show_neurons, self.warp = True, 0  # what frames carry besides the boundary
        self._ticks: deque = deque()  # (time, epoch), for epochs per second
        self._last_frame = 0.0

    @property
    def trainer(self):
        return None if self.arm is None else self.arm.trainer

    @property
    def settings(self):
        return None if self.arm is None else self.arm.settings

    def _arms(self) -> list[Arm]:
        return [self.arm] if self.other is None else [self.arm, self.other]

    # -- the server's side ---------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def submit(self, command) -> None:
        self._commands.put(command)

    def take(self) -> tuple[list, str | None]:
        """The queued messages and the latest frame (JSON text), taken together so a frame
        never overtakes the 'ready' of its own run."""
        with self._lock:
            messages, frame = self._messages, self._frame
            self._messages, self._frame = [], None
        return messages, frame

    def refuse(self, message: str) -> None:
        """Report a problem with a message that never became a command."""
        self._send({"type": "error", "message": message})

    def close(self, timeout: float = 10.0) -> bool:
        """Stop training and free the data and model; True when the worker has ended."""
        self._closing.set()
        self._commands.put(_STOP)
        if self.thread.is_alive():
            self.thread.join(timeout)
        return not self.thread.is_alive()

    # -- the worker ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._closing.is_set():
                try:  # while playing, commands are picked up between epochs
                    command = self._commands.get(block=not self.playing)
                except queue.Empty:
                    self._guarded("play", self._train, 1)
                    continue
                if command is not _STOP:
                    kind = command.get("type") if isinstance(command, dict) else None
                    self._guarded(kind, self._handle, kind, command)
        finally:  # free what this tab held as soon as it is gone
            self.arm = self.other = self.module = self.dataset = self.upload = None

    def _guarded(self, kind, fn, *args) -> None:
        """Run one command; a problem becomes a message for the page, never a dead worker.
        A refused command leaves the current run as it was (playing or not)."""
        try:
            fn(*args)
        except WhydlError as e:
            self._send({"type": "error", "message": str(e)})
        except Exception as e:  # a bug: the page gets one line, the server log the traceback
            log.exception("whydl playground: %s failed", kind)
            self.playing = False
            self._send({"type": "error", "message": f"internal error in {kind}: {e!r}"})

    def _handle(self, kind, command: dict) -> None:
        if kind == "configure":
            self._configure(command.get("settings", {}), command.get("csv"))
        elif kind not in COMMANDS:
            raise WhydlError(f"unknown command {kind!r}. Expected one of: {', '.join(COMMANDS)}.")
        elif self.arm is None:
            raise WhydlError(
                "there is no valid setup yet: change the setting the last message named, "
                "or pick a dataset."
            )
        elif kind == "reset":
            self._start_run(self.settings, self.upload, self.dataset, self._compared())
        elif kind == "play":
            self.playing = not self._done()
            self._ticks.clear()
            self._publish()
        elif kind == "pause":
            self.playing = False
            self._publish()
        elif kind == "step":
            self.playing = False
            self._train(1)
            self._publish()
        elif kind == "export":
            self._send(self._export())
        elif kind == "weights":
            buffer = io.BytesIO()
            torch.save(self.trainer.net.state_dict(self.member), buffer)
            self._send(buffer.getvalue())
        elif kind == "select":
            self.member = parse_member(command.get("member"), self.trainer.net.M)
            self._publish()
        elif kind == "add_point":
            point = parse_point(command, self.dataset, self.box, len(self.added))
            self.added.append(point)
            self._start_run(self.settings, self.upload, self.dataset, self._compared())
        elif kind == "set_weight":
            widths = self.arm.widths
            layer, out, inp, value = parse_weight_edit(command, widths)
            last = len(widths) - 2  # the output layer's index among the linear layers
            name = "out.weight" if layer == last else f"hidden.{layer}.weight"
            self.trainer.net.tensors[name][self.member, out, inp] = value  # in place: the
            self._publish()  # stack's buffer, so training goes on from the edited weight
        elif kind == "view":
            view = parse_view(command, len(self.arm.widths) - 2)
            self.show_neurons = view.get("neurons", self.show_neurons)
            self.warp = view.get("warp", self.warp)
            self._publish()
        elif kind == "compare":
            raw = command.get("settings")
            compare = None if raw is None else paired(parse_settings(raw), self.settings)
            self._start_run(self.settings, self.upload, self.dataset, compare)

    def _compared(self):
        return None if self.other is None else self.other.settings

    def _configure(self, raw_settings, raw_csv) -> None:
        """Validate everything first; only a fully valid setup replaces the current one. A
        setup being compared follows the new data and seeds."""
        settings = parse_settings(raw_settings)
        upload = Upload.from_message(raw_csv) if raw_csv is not None else self.upload
        compare = None if self.other is None else paired(self.other.settings, settings)
        check_pair(settings, compare)
        dataset = self.dataset
        if (
            raw_csv is not None
            or self.settings is None
            or settings.data_key != self.settings.data_key
        ):
            dataset = make_dataset(settings, upload)
            self.added = []  # other data: the clicked points belonged to the old one
        self._start_run(settings, upload, dataset, compare)

    def _start_run(self, settings, upload, dataset, compare=None) -> None:
        """Fresh networks (same seeds, same initial weights), paused at epoch 0: the tab's
        and, when `compare` holds settings, the one compared with it, on the same data."""
        check_pair(settings, compare)
        box = frames.extent(dataset)
        arm = Arm.start(settings, upload, dataset, self.added, box)
        other = None if compare is None else Arm.start(compare, upload, dataset, self.added, box)
        self.arm, self.other = arm, other
        self.member = 0  # the member whose neurons and weights the page shows
        self.module = arm.trainer.net.member(0)  # a plain copy, refreshed for each frame
        self.upload, self.dataset, self.box = upload, dataset, box
        self.playing = False
        self.run += 1
        self.neuron_resolution = frames.neuron_resolution(arm.widths)
        self.warp = min(self.warp, len(arm.widths) - 2)  # a removed layer: no warp
        self._ticks.clear()
        self._last_frame = 0.0
        with self._lock:  # frames of the previous run must not reach the page after 'ready'
            self._frame = None
        self._send(
            {
                "type": "ready",
                "run": self.run,
                "settings": settings.to_dict(),
                "layers": arm.widths,
                "neuron_resolution": self.neuron_resolution,
                "boundary_resolution": frames.BOUNDARY_RESOLUTION,
                "member_resolution": frames.MEMBER_RESOLUTION,
                "seeds": arm.trainer.seeds,
                "data": frames.data_summary(arm.trained_on, box),
                "added": len(self.added),
                "compare": None
                if other is None
                else {"settings": other.settings.to_dict(), "layers": other.widths},
            }
        )
        self._publish()

    def _done(self) -> bool:
        return all(arm.trainer.done for arm in self._arms())

    def _train(self, epochs: int) -> None:
        """`epochs` epochs of every arm, in step: both are at the same epoch in each frame."""
        for _ in range(epochs):
            if self._done():
                break
            for arm in self._arms():
                if not arm.trainer.done:
                    arm.train_epoch()
            self._ticks.append((time.perf_counter(), self.trainer.epoch))
        if self._done():
            self.playing = False
            self._publish()
        elif self.playing and time.perf_counter() - self._last_frame >= FRAME_INTERVAL:
            with self._lock:
                waiting = self._frame is not None
            if not waiting:  # else the page has not taken the last frame: skip the work
                self._publish()

    def _speed(self) -> float:
        ticks, now = self._ticks, time.perf_counter()
        while ticks and now - ticks[0][0] > SPEED_WINDOW:
            ticks.popleft()
        if not self.playing or len(ticks) < 2 or ticks[-1][0] <= ticks[0][0]:
            return 0.0
        return (ticks[-1][1] - ticks[0][1]) / (ticks[-1][0] - ticks[0][0])

    def _publish(self) -> None:
        """Compute a frame from the current networks and put it in the slot."""
        arm = self.arm
        view = {}
        if self.show_neurons or self.warp:  # the shown member, as a plain module
            self.module.load_state_dict(arm.trainer.net.state_dict(self.member))
        if self.show_neurons:  # off screen: no one would see the maps
            view = frames.network_view(
                self.module,
                arm.boundary_grid,
                self.box,
                self.neuron_resolution,
                arm.trainer.task,
                expand=arm.expand,
                boundary=False,  # the members' mean, from the arm's view
            )
        if self.warp:
            view["warp"] = warp_view(
                self.module, arm.trained_on.plane_train, self.box, self.warp, arm.expand
            )
        frame = {
            "type": "frame",
            "run": self.run,
            "playing": self.playing,
            "member": self.member,
            "epochs_per_second": round(self._speed(), 1),
            **arm.view(),
            **view,
        }
        if self.other is not None:  # B's pictures and curves; its neurons are not shown
            frame["compare"] = self.other.view()
            frame["difference"] = frames.paired_difference(
                arm.test_scores(), self.other.test_scores()
            )
        text = json.dumps(frame, allow_nan=False)
        self._last_frame = time.perf_counter()
        with self._lock:
            self._frame = text
        self.notify()

    def _export(self) -> dict:
        def exported(settings) -> dict:
            config = export.run_config(settings, self.trainer.epoch, self.upload)
            return {
                "command": export.train_command(config),
                "config": config.to_dict(),
                "epochs": config.train.epochs,
            }

        message = {"type": "export", **exported(self.settings)}
        if self.other is not None:
            message["compare"] = exported(self.other.settings)
        return message

    def _send(self, message) -> None:
        with self._lock:
            self._messages.append(message)
        self.notify()
