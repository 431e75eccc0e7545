"""A tab's training session: its worker thread, its latest-frame slot and its commands."""

import base64
import io
import json
import time

import numpy as np
import pytest
import torch

from whydl.errors import WhydlError
from whydl.models import MLP
from whydl.web import frames
from whydl.web.datasets import Upload, make_dataset
from whydl.web.session import Session
from whydl.web.validate import parse_settings

SMALL = {"n_samples": 200, "hidden": [6, 6]}
WAIT = 60  # seconds: generous, the test machine is shared


class Tab:
    """The server's side of a session, as a test drives it."""

    def __init__(self):
        self.notified = 0
        self.session = Session(self._notify, name="test")
        self.session.start()
        self.messages, self.frames = [], []

    def _notify(self):
        self.notified += 1

    def send(self, command):
        self.session.submit(command)

    def take(self):
        messages, frame = self.session.take()
        self.messages += messages
        if frame is not None:
            self.frames.append(json.loads(frame))

    def until(self, predicate, what: str, take: bool = True):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if take:
                self.take()
            found = predicate(self)
            if found:
                return found
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}; messages: {self.messages[-3:]}")

    def message(self, kind: str):
        found = self.until(lambda t: [m for m in t.messages if _kind(m) == kind], kind)
        self.messages.clear()
        return found[-1]

    def frame(self, predicate=lambda f: True):
        return self.until(lambda t: next((f for f in t.frames if predicate(f)), None), "frame")


def _kind(m):
    return "bytes" if isinstance(m, bytes) else m["type"]


@pytest.fixture
def tab():
    t = Tab()
    yield t
    t.session.close()


def test_configure_sends_ready_then_a_frame_at_epoch_0(tab):
    tab.send({"type": "configure", "settings": SMALL})
    ready = tab.message("ready")
    assert ready["layers"] == [2, 6, 6, 1] and ready["settings"]["hidden"] == [6, 6]
    assert len(ready["data"]["train"]["y"]) == 140 and len(ready["data"]["test"]["y"]) == 60
    frame = tab.frame()
    assert frame["epoch"] == 0 and frame["run"] == ready["run"] and not frame["playing"]
    assert len(frame["maps"]) == 4 and len(frame["weights"]) == 3


def test_input_features_are_the_first_layers_inputs_over_the_same_plane(tab):
    """With x1² and x2² the network has those two inputs: each input map is its feature
    over the plane (x1² is symmetric left to right), the points stay the raw 2-D ones."""
    tab.send({"type": "configure", "settings": {**SMALL, "dataset": "circles"}})
    plain = tab.message("ready")
    tab.send(
        {"type": "configure", "settings": {**SMALL, "dataset": "circles", "features": ["x1sq"]}}
    )
    ready = tab.message("ready")
    assert ready["layers"] == [1, 6, 6, 1] and ready["data"]["features"] == ["x1²"]
    assert ready["data"]["axes"] == ["x1", "x2"]
    assert ready["data"]["train"] == plain["data"]["train"]  # the same points, drawn alike
    frame = tab.frame(lambda f: f["run"] == ready["run"])
    r = ready["neuron_resolution"]
    x1sq = np.frombuffer(base64.b64decode(frame["maps"][0]), np.uint8).reshape(r, r)
    x0, x1 = ready["data"]["extent"][:2]
    xs = np.linspace(x0, x1, r)  # the maps' pixel columns, ends included
    expected = np.round((xs**2 / (xs**2).max() + 1) * 127.5)  # as frames scales a map
    np.testing.assert_allclose(x1sq, np.tile(expected, (r, 1)), atol=1)  # x1² in every row
    tab.send({"type": "step"})  # and it trains on them
    trained = tab.frame(lambda f: f["run"] == ready["run"] and f["epoch"] == 1)
    assert frames.decode_curves(trained["curves"])["test_loss"][0] > 0


def test_step_trains_exactly_one_epoch(tab):
    tab.send({"type": "configure", "settings": SMALL})
    tab.send({"type": "step"})
    tab.send({"type": "step"})
    frame = tab.frame(lambda f: f["epoch"] == 2)
    assert frame["step"] == 2 * 5  # 140 training points in batches of 32
    curves = frames.decode_curves(frame["curves"])
    assert curves["epoch"] == [1, 2] and len(curves["grad_norms"]) == 3


def test_frames_are_dropped_not_queued(tab):
    """While the page has not taken a frame, no new frame is even computed; once taken,
    the next one is the newest state."""
    tab.send({"type": "configure", "settings": SMALL})
    tab.message("ready")
    tab.session.take()  # drop the epoch-0 frame
    tab.send({"type": "play"})
    tab.until(lambda t: t.session.trainer.epoch >= 3, "training", take=False)
    notified = tab.notified
    epoch = tab.session.trainer.epoch
    tab.until(lambda t: t.session.trainer.epoch >= epoch + 10, "more training", take=False)
    assert tab.notified == notified  # ten epochs, no frame computed: the slot was full
    messages, frame = tab.session.take()  # one slot: one frame, however long we waited
    assert messages == [] and json.loads(frame)["epoch"] < tab.session.trainer.epoch
    newer = tab.frame(lambda f: f["epoch"] > epoch + 10)
    assert newer["playing"]
    tab.send({"type": "pause"})
    tab.frame(lambda f: not f["playing"])


def test_close_stops_training_and_frees_the_run(tab):
    tab.send({"type": "configure", "settings": SMALL})
    tab.send({"type": "play"})
    tab.until(lambda t: t.session.trainer and t.session.trainer.epoch >= 2, "training")
    assert tab.session.close()
    assert not tab.session.thread.is_alive()
    assert tab.session.trainer is None and tab.session.dataset is None


def test_reset_restarts_from_the_same_initial_weights(tab):
    tab.send({"type": "configure", "settings": SMALL})
    first = tab.frame()
    tab.send({"type": "step"})
    tab.frame(lambda f: f["epoch"] == 1)
    tab.send({"type": "reset"})
    again = tab.frame(lambda f: f["run"] > first["run"])
    assert again["epoch"] == 0 and again["boundary"] == first["boundary"]
    assert again["weights"] == first["weights"]


def test_a_refused_setup_keeps_the_current_run(tab):
    tab.send({"type": "configure", "settings": SMALL})
    tab.message("ready")
    tab.send({"type": "configure", "settings": {**SMALL, "lr": 500}})
    assert "lr=500 must be in (0, 100]" in tab.message("error")["message"]
    tab.send({"type": "step"})
    assert tab.frame(lambda f: f["epoch"] == 1)["run"] == 1


@pytest.mark.parametrize(
    "command, message",
    [
        ({"type": "play"}, "there is no valid setup yet"),
        ({"type": "fly"}, "unknown command 'fly'. Expected one of: configure, reset, play"),
        ([1, 2], "unknown command None"),
        ({"type": "configure", "settings": {"hidden": [100]}}, "hidden layer 1 has 100"),
        ({"type": "configure", "settings": {"dataset": "csv"}}, "needs an uploaded file"),
        ({"type": "configure", "csv": "a,b"}, "csv must be an object"),
    ],
)
def test_bad_commands_get_a_message(tab, command, message):
    tab.send(command)
    assert message in tab.message("error")["message"]


def test_export_and_weights(tab):
    tab.send({"type": "configure", "settings": SMALL})
    tab.send({"type": "step"})
    tab.send({"type": "export"})
    export = tab.message("export")
    assert export["command"].startswith("whydl train --dataset moons --n 200 ")
    assert "--epochs 1 " in export["command"]
    assert list(export["config"]["model"]["hidden"]) == [6, 6]
    tab.send({"type": "weights"})
    state = torch.load(io.BytesIO(tab.message("bytes")), weights_only=True)
    net = MLP(2, 1, hidden=(6, 6))
    net.load_state_dict(state)  # a plain state_dict for a plain nn.Module


def _csv(rows=120, label=lambda i: "a" if i % 2 else "b", columns="x1,x2,label"):
    """Two separable blobs (odd rows right and up), first row '0.000,0.000,b'."""
    points = [((i % 2) * 2 + 0.01 * i, (i % 2) - 0.02 * i) for i in range(rows)]
    lines = [columns] + [f"{x:.3f},{y:.3f},{label(i)}" for i, (x, y) in enumerate(points)]
    return "\n".join(lines) + "\n"


def test_a_csv_upload_trains(tab):
    tab.send({"type": "configure", "settings": {"dataset": "csv"}})
    assert "needs an uploaded file" in tab.message("error")["message"]
    upload = {"name": "two blobs.csv", "text": _csv()}
    tab.send({"type": "configure", "settings": {"dataset": "csv"}, "csv": upload})
    ready = tab.message("ready")
    assert ready["data"]["name"] == "two_blobs" and ready["data"]["classes"] == ["a", "b"]
    tab.send({"type": "configure", "settings": {"dataset": "csv", "test_size": 0.5}})
    ready = tab.message("ready")  # the upload is kept for changes of split and model
    assert len(ready["data"]["train"]["y"]) == 60
    for _ in range(5):
        tab.send({"type": "step"})
    assert (
        frames.decode_curves(tab.frame(lambda f: f["epoch"] == 5)["curves"])["train_accuracy"][-1]
        > 0.9
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            _csv(columns="x1,x2,x3,label").replace(",a\n", ",0,a\n").replace(",b\n", ",0,b\n"),
            "has 4 columns (x1, x2, x3, label); the playground needs exactly 3",
        ),
        (_csv(label=lambda i: f"c{i % 9}"), "has 9 classes; the playground shows at most 8"),
        (_csv().replace("\n0.000,", "\noops,", 1), "non-numeric value 'oops'"),
        ("", "is empty"),
        ("x1,x2,label\n1,2,a\n", "1 data rows; need at least 10"),
    ],
    ids=["4 columns", "9 classes", "text feature", "empty", "1 row"],
)
def test_bad_csv_files_are_refused_with_a_message(text, message):
    settings = parse_settings({"dataset": "csv"})
    with pytest.raises(WhydlError) as e:
        make_dataset(settings, Upload("data.csv", text))
    assert message in str(e.value) and "data.csv" in str(e.value)


def test_a_csv_with_a_continuous_label_is_a_regression():
    dataset = make_dataset(
        parse_settings({"dataset": "csv"}), Upload("data.csv", _csv(label=lambda i: f"{i * 0.37}"))
    )
    assert dataset.task == "regression" and dataset.n_outputs == 1


@pytest.mark.parametrize("dataset", ["plane", "multi_gaussian"])
def test_a_regression_dataset_trains_and_draws_its_value_over_the_plane(tab, dataset):
    """TensorFlow Playground's regression sets: the loss is the squared error, the metric
    R², the picture the members' mean prediction over the target's range, and the points
    carry their values."""
    tab.send({"type": "configure", "settings": {**SMALL, "dataset": dataset, "n_seeds": 3}})
    ready = tab.message("ready")
    data = ready["data"]
    assert data["task"] == "regression" and data["classes"] == []
    low, high = data["value_range"]
    values = data["train"]["y"] + data["test"]["y"]
    assert min(values) == pytest.approx(low, abs=1e-4)
    assert max(values) == pytest.approx(high, abs=1e-4)
    assert any(v != round(v) for v in values)  # values, not classes
    for _ in range(30):
        tab.send({"type": "step"})
    frame = tab.frame(lambda f: f["epoch"] == 30)
    curves = frames.decode_curves(frame["curves"])
    assert curves["test_loss"][-1] < curves["test_loss"][0]  # the squared error falls
    assert frame["accuracy_ci"]["n"] == 3 and frame["accuracy_ci"]["mean"] > 0  # R²: beats the mean
    r = ready["boundary_resolution"]
    mean = np.frombuffer(base64.b64decode(frame["boundary"]), np.uint8)
    assert mean.shape == (r * r,) and int(mean.max()) - int(mean.min()) > 30  # low and high
    spread = np.frombuffer(base64.b64decode(frame["ensemble"]["disagreement"]), np.uint8)
    assert spread.shape == (r * r,) and spread.max() > 0
    m = ready["member_resolution"]
    members = np.frombuffer(base64.b64decode(frame["ensemble"]["members"]), np.uint8)
    assert members.shape == (3 * m * m,) and members.max() <= 254  # none diverged


def test_the_plane_regression_is_drawn_as_its_linear_function(tab):
    """The plane's target is 0.5 x1 - 0.8 x2: once fitted, the drawn value is highest in the
    bottom-right corner (x1 high, x2 low) and lowest in the top-left one."""
    tab.send({"type": "configure", "settings": {**SMALL, "dataset": "plane", "hidden": []}})
    tab.message("ready")
    for _ in range(60):
        tab.send({"type": "step"})
    frame = tab.frame(lambda f: f["epoch"] == 60)
    r = frames.BOUNDARY_RESOLUTION
    picture = np.frombuffer(base64.b64decode(frame["boundary"]), np.uint8).reshape(r, r)
    assert picture[-1, -1] > 128 + 90 and picture[0, 0] < 128 - 90  # row 0 is the top
    assert picture[-1, 0] > 128 > picture[0, -1]  # bottom-left 0.3, top-right -0.3


def test_the_label_column_is_named_or_last():
    assert Upload("a.csv", "label,x1,x2\n").target == "label"
    assert Upload("a.csv", "x1,Class,x2\n").target == "Class"
    assert Upload("a.csv", "u,v,w\n").target == "w"


def test_many_seeds_train_as_one_stack_and_a_member_can_be_selected(tab):
    tab.send({"type": "configure", "settings": SMALL | {"n_seeds": 4}})
    ready = tab.message("ready")
    assert ready["seeds"] == [0, 1, 2, 3] and ready["settings"]["n_seeds"] == 4
    tab.send({"type": "step"})
    frame = tab.frame(lambda f: f["epoch"] == 1)
    ensemble = frame["ensemble"]
    r = ready["member_resolution"]
    assert ensemble["n_members"] == 4 and len(base64.b64decode(ensemble["members"])) == 4 * r * r
    assert frame["accuracy_ci"]["n"] == 4
    assert frame["accuracy_ci"]["lo"] <= frame["accuracy_ci"]["mean"] <= frame["accuracy_ci"]["hi"]
    assert frame["member"] == 0
    tab.send({"type": "select", "member": 2})
    chosen = tab.frame(lambda f: f["member"] == 2)
    assert chosen["epoch"] == 1  # a view of the same run: nothing retrained
    assert chosen["maps"] != frame["maps"]  # member 2's own neurons
    tab.send({"type": "select", "member": 4})
    assert "member=4 is not a member of this run" in tab.message("error")["message"]
    tab.send({"type": "export"})
    assert "--seeds 4" in tab.message("export")["command"]


def test_an_edited_weight_changes_the_network_and_training_goes_on_from_it(tab):
    tab.send({"type": "configure", "settings": SMALL})
    tab.message("ready")
    tab.send({"type": "step"})
    before = tab.frame(lambda f: f["epoch"] == 1)
    tab.frames.clear()
    tab.send({"type": "set_weight", "layer": 0, "out": 1, "in": 0, "value": 7.5})
    after = tab.frame()
    first = np.frombuffer(base64.b64decode(after["weights"][0]), dtype="<f4")  # (6, 2)
    assert first[1 * 2 + 0] == 7.5 and after["epoch"] == 1
    assert after["boundary"] != before["boundary"]
    tab.send({"type": "step"})
    assert tab.frame(lambda f: f["epoch"] == 2)  # trains on from the edited weight
    for bad, message in [
        ({"layer": 3, "out": 0, "in": 0, "value": 1}, "layer=3 is not a layer of links"),
        ({"layer": 0, "out": 6, "in": 0, "value": 1}, "out=6 is not a neuron of layer 0"),
        ({"layer": 0, "out": 0, "in": 2, "value": 1}, "in=2 is not a neuron"),
        ({"layer": 0, "out": 0, "in": 0, "value": float("inf")}, "value=inf is not a weight"),
        ({"layer": 0, "out": 0, "in": 0, "value": "1"}, "value='1' is not a weight"),
    ]:
        tab.send({"type": "set_weight", **bad})
        assert message in tab.message("error")["message"]


def test_a_clicked_point_joins_the_training_data_and_new_data_drops_it(tab):
    tab.send({"type": "configure", "settings": SMALL})
    first = tab.message("ready")
    n = len(first["data"]["train"]["y"])
    tab.send({"type": "add_point", "x": [0.25, -0.5], "label": 1})
    ready = tab.message("ready")
    train = ready["data"]["train"]
    assert len(train["y"]) == n + 1 and ready["added"] == 1
    assert train["x"][-2:] == [0.25, -0.5] and train["y"][-1] == 1
    assert tab.session.trainer.n == n + 1  # the engine trains on it
    x0, x1, _, _ = first["data"]["extent"]
    for bad, message in [
        ({"x": [x1 + 1, 0.0], "label": 0}, "is not a point of the plane"),
        ({"x": [0.0], "label": 0}, "is not a point of the plane"),
        ({"x": [0.0, 0.0], "label": 2}, "label=2 is not a class of moons"),
        ({"x": [0.0, 0.0], "label": True}, "label=True is not a class"),
    ]:
        tab.send({"type": "add_point", **bad})
        assert message in tab.message("error")["message"]
    tab.send({"type": "configure", "settings": SMALL | {"data_seed": 9}})
    assert tab.message("ready")["added"] == 0  # other data: the clicked point is gone


def test_compare_trains_a_second_setup_in_step_on_the_same_data_and_seeds(tab):
    """B (batch norm on) trains beside A, epoch for epoch, on A's data and seeds whatever
    B asked for; each frame carries B's view and the paired difference B - A."""
    base = {**SMALL, "n_seeds": 4}
    tab.send({"type": "configure", "settings": base})
    tab.message("ready")
    tab.send({"type": "compare", "settings": {**base, "batch_norm": True, "n_samples": 500}})
    ready = tab.message("ready")
    compared = ready["compare"]["settings"]
    assert compared["batch_norm"] and compared["n_samples"] == 200  # the data is A's
    assert ready["compare"]["layers"] == [2, 6, 6, 1]
    for _ in range(3):
        tab.send({"type": "step"})
    frame = tab.frame(lambda f: f["epoch"] == 3)
    b = frame["compare"]
    assert b["epoch"] == 3 and b["accuracy_ci"]["n"] == 4 and "maps" not in b
    a_scores, b_scores = tab.session.arm.test_scores(), tab.session.other.test_scores()
    assert not np.allclose(a_scores, b_scores)  # batch norm changes what they learn
    assert frame["difference"]["mean"] == pytest.approx((b_scores - a_scores).mean(), abs=1e-6)
    assert frame["difference"]["n"] == 4

    # A's new data: B follows it; stopping the comparison drops B
    tab.send({"type": "configure", "settings": {**base, "data_seed": 9}})
    ready = tab.message("ready")
    assert (
        ready["compare"]["settings"]["data_seed"] == 9
        and ready["compare"]["settings"]["batch_norm"]
    )
    tab.send({"type": "export"})
    export = tab.message("export")
    assert "--batch-norm" in export["compare"]["command"]
    assert "--batch-norm" not in export["command"]
    tab.send({"type": "compare", "settings": None})
    ready = tab.message("ready")
    assert ready["compare"] is None
    assert "compare" not in tab.frame(lambda f: f["run"] == ready["run"])


def test_two_compared_setups_share_one_tabs_work_limit(tab):
    big = {"n_samples": 10_000, "hidden": [64] * 4}  # half the limit...
    tab.send({"type": "configure", "settings": big})
    tab.message("ready")
    tab.send({"type": "compare", "settings": {**big, "hidden": [64] * 5}})  # ...and more
    error = tab.message("error")
    assert "both together" in error["message"] and "stop comparing" in error["message"]
    assert tab.session.other is None  # the tab's run is as it was


def test_neuron_maps_off_screen_are_not_computed_and_come_back_on_screen(tab):
    tab.send({"type": "configure", "settings": SMALL})
    ready = tab.message("ready")
    tab.send({"type": "view", "neurons": False})
    tab.send({"type": "step"})
    hidden = tab.frame(lambda f: f["epoch"] == 1)
    assert "maps" not in hidden and "weights" not in hidden and hidden["boundary"]
    tab.send({"type": "view", "neurons": True})
    shown = tab.frame(lambda f: f["epoch"] == 1 and "maps" in f)
    assert len(shown["maps"]) == len(ready["layers"])


def test_the_layer_warp_is_the_grid_through_the_chosen_hidden_layer(tab):
    """Layer 2 of a 2-D bottleneck is drawn as it is (all its variance kept); a wider layer
    is projected on two components; the lines are the plane's grid, the points the
    training points; a layer the network lacks is refused."""
    tab.send({"type": "configure", "settings": {**SMALL, "hidden": [6, 2]}})
    ready = tab.message("ready")
    tab.send({"type": "view", "warp": 2})
    frame = tab.frame(lambda f: "warp" in f)
    warp = frame["warp"]
    lines = np.frombuffer(base64.b64decode(warp["lines"]), "<f4")
    assert warp["layer"] == 2 and warp["explained"] == 1.0
    assert lines.shape == (warp["n_lines"] * warp["n_points"] * 2,) and warp["n_lines"] == 22
    points = np.frombuffer(base64.b64decode(warp["points"]), "<f4").reshape(-1, 2)
    assert len(points) == len(ready["data"]["train"]["y"]) and warp["stride"] == 1
    # the same as pushing the training points through layer 2 of the shown member
    module = tab.session.trainer.net.member(0)
    X = torch.as_tensor(tab.session.arm.trained_on.X_train)
    np.testing.assert_allclose(points, module.features(X)[1].detach().numpy(), atol=1e-5)
    tab.send({"type": "view", "warp": 1})
    assert tab.frame(lambda f: f.get("warp", {}).get("layer") == 1)["warp"]["explained"] < 1
    tab.send({"type": "view", "warp": 3})
    assert "expected 0 (off) to 2" in tab.message("error")["message"]
    tab.send({"type": "configure", "settings": {**SMALL, "hidden": [4]}})  # one layer left
    ready = tab.message("ready")
    assert tab.frame(lambda f: f["run"] == ready["run"])["warp"]["layer"] == 1


@pytest.mark.parametrize(
    "command, words",
    [
        ({"neurons": "yes"}, "must be true or false"),
        ({"warp": -1}, "expected 0 (off)"),
        ({"warp": 1.5}, "expected 0 (off)"),
        ({"zoom": 2}, "view takes neurons and warp"),
    ],
)
def test_bad_view_commands_are_refused(tab, command, words):
    tab.send({"type": "configure", "settings": SMALL})
    tab.message("ready")
    tab.send({"type": "view", **command})
    assert words in tab.message("error")["message"]
