"""Every playground setting is checked against its bounds, with a message that says how."""

import pytest

from whydl.errors import WhydlError
from whydl.web.validate import (
    MAX_CSV_BYTES,
    MAX_CSV_ROWS,
    Settings,
    check_upload,
    options,
    parse_member,
    parse_settings,
    safe_file_name,
)


def test_defaults_are_the_article_setup_and_missing_fields_take_them():
    s = parse_settings({})
    assert s == Settings()
    assert (s.dataset, s.hidden, s.activation, s.optimizer, s.lr) == (
        "moons",
        (10, 10),
        "relu",
        "adam",
        0.01,
    )
    assert s.test_size == 0.3 and s.n_samples == 1000 and s.noise == 0.1


def test_valid_settings_are_kept():
    raw = {
        "dataset": "spiral",
        "noise": 0.3,
        "n_samples": 10_000,
        "test_size": 0.5,
        "data_seed": 7,
        "features": ["x1sq", "x2sq", "sin_x1"],
        "hidden": [64] * 8,
        "activation": "tanh",
        "dropout": 0.5,
        "batch_norm": True,
        "optimizer": "sgd",
        "lr": 10,
        "batch_size": 0,
        "weight_decay": 0.001,
        "seed": 3,
        "n_seeds": 1,
    }
    s = parse_settings(raw)
    assert s.to_dict() == {**raw, "lr": 10.0}
    assert isinstance(s.lr, float) and isinstance(s.n_samples, int)
    assert parse_settings({"hidden": []}).hidden == ()  # no hidden layer: logistic regression
    assert parse_settings({"n_samples": 500.0}).n_samples == 500  # JSON may carry 500.0
    # the config's bounds, not narrower ones: noise 0..10 as in `whydl train --noise`
    assert parse_settings({"noise": 10, "lr": 100, "dropout": 0.95}).noise == 10.0


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"hidden": [10] * 9}, "hidden has 9 layers; the playground allows at most 8"),
        ({"hidden": [65]}, "hidden layer 1 has 65 neurons; expected 1 to 64"),
        ({"hidden": [4, 0]}, "hidden layer 2 has 0 neurons"),
        ({"hidden": "10,10"}, "hidden='10,10' must be a list of layer widths"),
        ({"hidden": [1.5]}, "must be a list of layer widths"),
        (
            {"n_samples": 10_001},
            "n_samples=10001 is outside the playground's range: it takes n_samples in "
            "20..10000, e.g. 1000.",
        ),
        ({"n_samples": 5}, "n_samples=5 is outside the playground's range"),
        ({"n_samples": 3}, "n_samples=3 must be in 4..1000000, e.g. 1000."),  # the config's
        ({"n_samples": 100.5}, "n_samples=100.5 is not an integer"),
        ({"noise": 10.5}, "noise=10.5 must be in [0, 10], e.g. 0.1."),
        ({"noise": -0.1}, "noise=-0.1 must be in [0, 10]"),
        ({"test_size": 0.95}, "test_size=0.95 is outside the playground's range"),
        ({"test_size": 1}, "test_size=1 must be in (0, 1), e.g. 0.3."),
        ({"lr": 500}, "lr=500 must be in (0, 100], e.g. 0.01."),
        ({"lr": 0}, "lr=0 must be in (0, 100]"),
        ({"lr": "abc"}, "lr='abc' is not a number"),
        ({"lr": None}, "lr=None is not a number"),
        ({"lr": float("nan")}, "lr=nan is not a number"),
        ({"lr": True}, "lr=True is not a number"),
        ({"batch_size": -1}, "batch_size=-1 must be >= 1 (0 = full batch)"),
        ({"batch_size": 20_000}, "batch_size=20000 is outside the playground's range"),
        ({"dropout": 1.0}, "dropout=1.0 must be in [0, 1), e.g. 0.2."),
        ({"weight_decay": 11}, "weight_decay=11 must be in [0, 10]"),
        ({"seed": -1}, "seed=-1 must be in 0..2147483647"),
        ({"data_seed": 2**40}, "data_seed=1099511627776 must be in 0..2147483647"),
        ({"dataset": "mnist"}, "dataset='mnist' is not valid. Expected one of: moons, circles"),
        ({"activation": "swish"}, "activation='swish' is not valid"),
        ({"optimizer": "lbfgs"}, "optimizer='lbfgs' is not valid"),
        ({"batch_norm": "yes"}, "batch_norm='yes' must be true or false"),
        ({"batch_norm": True, "batch_size": 1}, "batch norm normalises over a batch"),
        ({"layers": 3}, "unknown setting(s) ['layers']"),
        ({"n_points": 300}, "unknown setting(s) ['n_points']. 'n_points' is now 'n_samples'."),
        ({"train_ratio": 0.7}, "'train_ratio' is now 'test_size'"),
        ([1, 2], "settings must be an object"),
        (
            {"n_seeds": 33},
            "n_seeds=33 is outside the playground's range: it takes n_seeds in 1..32",
        ),
        ({"n_seeds": 0}, "n_seeds=0 must be in 1..10000"),
        ({"n_seeds": 2.5}, "n_seeds=2.5 is not an integer"),
        (
            {"n_seeds": 32, "n_samples": 10_000, "hidden": [64] * 8},
            "n_seeds=32 with 10,000 points and 512 hidden neurons is more work than one tab "
            "may take (seeds x points x neurons at most 5,120,000). Use n_seeds <= 1",
        ),
    ],
)
def test_bad_settings_are_refused_with_a_message(raw, message):
    with pytest.raises(WhydlError) as e:
        parse_settings(raw)
    assert message in str(e.value)


def test_a_huge_value_is_cut_short_in_the_message():
    with pytest.raises(WhydlError) as e:
        parse_settings({"activation": "x" * 10_000})
    assert len(str(e.value)) < 200


def test_upload_bounds():
    check_upload("ok.csv", "x1,x2,label\n" + "0,0,a\n" * MAX_CSV_ROWS)  # exactly at the limit
    with pytest.raises(WhydlError, match=r"has 10,001 rows; the playground takes at most 10,000"):
        check_upload("big.csv", "x1,x2,label\n" + "0,0,a\n" * (MAX_CSV_ROWS + 1))
    with pytest.raises(WhydlError, match=r"big.csv is 2.0 MB; the playground takes CSV files up"):
        check_upload("big.csv", "x" * (MAX_CSV_BYTES + 1))
    with pytest.raises(WhydlError, match="file name and the file's text"):
        check_upload("a.csv", None)


@pytest.mark.parametrize(
    "name, safe",
    [
        ("points.csv", "points.csv"),
        ("../../etc/passwd", "passwd.csv"),
        ("C:\\Users\\me\\my data.CSV", "my_data.csv"),
        ("<script>.csv", "_script_.csv"),
        ("", "upload.csv"),
        ("..", "upload.csv"),
    ],
)
def test_upload_names_become_safe_file_names(name, safe):
    assert safe_file_name(name) == safe


def test_options_describe_the_controls():
    o = options()
    assert o["max_layers"] == 8 and o["max_neurons"] == 64
    assert o["choices"]["dataset"] == [
        "moons",
        "circles",
        "xor",
        "gaussians",
        "spiral",
        "checkerboard",
        "plane",
        "multi_gaussian",
        "csv",
    ]
    assert o["defaults"]["hidden"] == [10, 10] and o["defaults"]["features"] == ["x1", "x2"]
    assert o["choices"]["features"][2:5] == ["x1sq", "x2sq", "x1x2"]
    assert o["feature_labels"]["x1x2"] == "X1·X2"
    assert o["bounds"]["n_samples"] == [20, 10_000]  # the playground's, narrower
    assert o["bounds"]["noise"] == [0, 10] and o["sliders"]["noise"] == [0, 1]


def test_many_seeds_cost_at_most_the_largest_single_network():
    largest = {"n_samples": 10_000, "hidden": [64] * 8}
    assert parse_settings(largest).n_seeds == 1  # allowed before seeds existed, still allowed
    assert parse_settings({"n_seeds": 32}).n_seeds == 32  # the article's size, 32 seeds
    assert parse_member(31, 32) == 31
    for bad in (32, -1, 1.5, "0", None):
        with pytest.raises(WhydlError, match="is not a member of this run"):
            parse_member(bad, 32)


def test_a_playground_link_holds_settings_the_playground_accepts():
    from urllib.parse import parse_qsl

    from whydl.config import RunConfig, article_config
    from whydl.links import playground_hash

    config = article_config().replace(
        model={"hidden": (8, 4), "dropout": 0.2}, train={"n_seeds": 500, "optimizer": "sgd"}
    )
    pairs = dict(parse_qsl(playground_hash(config)[1:]))
    raw = {}
    for key, text in pairs.items():
        default = getattr(Settings(), key)
        if key == "hidden":
            raw[key] = [int(w) for w in text.split(",")]
        elif isinstance(default, bool):
            raw[key] = text == "true"
        elif isinstance(default, int | float):
            raw[key] = type(default)(float(text))
        else:
            raw[key] = text
    s = parse_settings(raw)
    assert s.hidden == (8, 4) and s.dropout == 0.2 and s.optimizer == "sgd"
    assert s.n_seeds == 32  # capped at the playground's most
    assert playground_hash(RunConfig.from_dict({"data": {"dataset": "digits"}})) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"model": {"hidden": (65,)}},  # wider than the page draws
        {"model": {"hidden": (4,) * 9}},  # deeper
        {"data": {"n_samples": 10_001}},  # more points than it sends
        {"data": {"dataset": "spiral", "n_classes": 3}},  # a setting it has no control for
    ],
)
def test_no_link_for_a_setup_the_page_would_refuse(changes):
    from whydl.config import article_config
    from whydl.links import playground_hash

    config = article_config().replace(**changes)
    assert playground_hash(config) is None
    try:  # and indeed the page refuses it, or cannot hold it
        settings = {k: v for section in changes.values() for k, v in section.items()}
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
        parse_settings(settings)
    except WhydlError:
        return
    assert "n_classes" in settings  # the one the page has no setting for


def test_a_regression_or_features_setup_links_with_its_values():
    from urllib.parse import parse_qsl

    from whydl.config import article_config
    from whydl.links import playground_hash

    config = article_config().replace(data={"dataset": "plane", "features": ("x1", "x1sq")})
    pairs = dict(parse_qsl(playground_hash(config)[1:]))
    assert pairs["dataset"] == "plane" and pairs["features"] == "x1,x1sq"


@pytest.mark.parametrize(
    "features, words",
    [
        ([], "at least one feature"),
        (["x1", "x1"], "each once"),
        (["x1", "cos_x1"], "'cos_x1' is not an input feature"),
        ("x1,x2", "must be a list of feature names"),
        ([1, 2], "must be a list of feature names"),
    ],
)
def test_bad_features_are_refused_with_what_is_allowed(features, words):
    with pytest.raises(WhydlError) as e:
        parse_settings({"features": features})
    assert words in str(e.value) and "x1sq" in str(e.value)


def test_features_keep_their_order_it_is_the_first_layers():
    assert parse_settings({"features": ["sin_x2", "x1"]}).features == ("sin_x2", "x1")
