"""The exported `whydl train` command means what the playground shows."""

import shlex

import numpy as np
import pytest

from whydl.api import run
from whydl.cli import build_parser, config_from_args
from whydl.web.datasets import Upload
from whydl.web.export import DEFAULT_EPOCHS, run_config, train_command
from whydl.web.session import Session
from whydl.web.validate import parse_settings


def _parse_command(command: str):
    argv = shlex.split(command)
    assert argv[:2] == ["whydl", "train"]
    return config_from_args(build_parser().parse_args(argv[1:]))


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"dataset": "spiral", "hidden": [], "batch_norm": True, "dropout": 0.2, "lr": 1e-05},
        {"dataset": "gaussians", "optimizer": "sgd", "batch_size": 0, "weight_decay": 0.001},
        {"dataset": "circles", "features": ["x1sq", "x2sq", "sin_x1"], "hidden": [3]},
    ],
)
def test_command_parses_back_to_the_same_config(raw):
    config = run_config(parse_settings(raw), epochs=37)
    assert _parse_command(train_command(config)) == config
    assert config.train.epochs == 37 and config.train.n_seeds == 1


def test_csv_command_names_the_file_and_label():
    upload = Upload("my points.csv", "a,b,label\n" + "0,1,x\n" * 10)
    config = run_config(parse_settings({"dataset": "csv"}), 0, upload)
    command = train_command(config)
    assert "--data 'my points.csv' --target label" in command
    assert config.train.epochs == DEFAULT_EPOCHS  # nothing trained yet: the CLI default
    assert _parse_command(command) == config


def test_the_inputs_themselves_export_no_features_flag_and_others_do():
    plain = train_command(run_config(parse_settings({"features": ["x1", "x2"]}), 0))
    assert "--features" not in plain
    made = train_command(run_config(parse_settings({"features": ["x2", "x1x2"]}), 0))
    assert "--features x2,x1x2" in made


@pytest.mark.parametrize("features", [None, ["x1", "x1sq", "x1x2"]])
def test_command_reproduces_the_playground_numbers(features):
    """Same data, split, seed and engine: `whydl train` retraces the playground's run, with
    hand-made input features as without."""
    settings = {"n_samples": 200, "hidden": [6], "dropout": 0.1, "seed": 3}
    settings |= {"features": features} if features else {}
    session = Session(lambda: None)
    session._configure(settings, None)
    for _ in range(3):
        session._train(1)
    result = run(run_config(session.settings, session.trainer.epoch))
    np.testing.assert_allclose(
        result.history.val_loss[0], session.trainer.history.val_loss[0, :3], rtol=1e-5
    )
