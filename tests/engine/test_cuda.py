"""The CUDA path: training on a GPU gives the members the CPU gives.

Every test here needs a CUDA GPU and is skipped without one (CI runs on CPUs only).

Tolerances: CUDA and the CPU run the same arithmetic with different kernels (other
reduction orders in matmuls, sums and means), so float32 results differ in the last bits
and the differences grow over training. Measured on an H200 (torch 2.11, CUDA 13): a few
epochs differ by about 1e-7 relative, the article's 100 epochs (2,200 Adam steps) by 5e-5
in the final losses; the tolerances below leave a margin of 10-100x. Integer work (dropout
masks, shuffling) is exact on both, and a member in a stack equals the member alone
exactly on CUDA (measured difference 0). cuDNN's default TF32 convolutions would put the
CNN 1e-2 off; the engine turns TF32 off for its convolutions.
"""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

import whydl
from whydl.config import ModelConfig, TrainConfig
from whydl.data import article_moons, load_dataset
from whydl.engine import OPTIMIZERS, StackedCNN, StackedMLP, Trainer, fit
from whydl.engine.device import resolve_device
from whydl.engine.stacked import dropout_mask

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

RTOL_SHORT = 1e-5  # a few epochs, CUDA against the CPU (measured 1e-7)
RTOL_LONG = 1e-3  # final losses after 100 epochs, CUDA against the CPU (measured 5e-5)
RTOL_STACK = 1e-5  # a member in a stack against the member alone, both on CUDA (measured 0)
RTOL_CNN = 1e-4  # the CNN, 2 epochs: stacked vs alone, CUDA vs CPU (measured 4e-7)


def rel_diff(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


@pytest.fixture(scope="module")
def small():
    return load_dataset("moons", n_samples=120, noise=0.2, data_seed=0)


@pytest.fixture(scope="module")
def demo():
    """The article's experiment (3 seeds) on the CPU and on CUDA."""
    cpu = whydl.train(article_moons(), seeds=3, device="cpu")
    cuda = whydl.train(article_moons(), seeds=3, device="cuda")
    return cpu, cuda


def test_auto_and_cuda_resolve_to_the_gpu(small):
    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cuda").type == "cuda"
    f = fit(small, ModelConfig(), TrainConfig(epochs=1, device="auto"))
    assert f.device.startswith("cuda")
    assert all(t.is_cuda for t in f.stack.params)


def test_article_demo_on_cuda_reaches_the_article_accuracy(demo):
    _, cuda = demo
    m = cuda.metrics
    assert m["device"].startswith("cuda")
    assert m["test_accuracy"] >= 0.97
    assert min(m["test_accuracy_per_seed"]) >= 0.97
    assert cuda.history.train_loss.shape == (3, 100)


def test_article_demo_on_cuda_matches_the_cpu(demo):
    cpu, cuda = demo
    for name in ("train_loss", "val_loss"):
        a, b = getattr(cuda.history, name)[:, -1], getattr(cpu.history, name)[:, -1]
        assert rel_diff(a, b) < RTOL_LONG, name
    assert abs(cuda.metrics["test_accuracy"] - cpu.metrics["test_accuracy"]) <= 0.01
    assert rel_diff(cuda.metrics["test_loss_per_seed"], cpu.metrics["test_loss_per_seed"]) < (
        RTOL_LONG
    )


def test_predictions_and_members_come_back_to_the_cpu(demo):
    _, cuda = demo
    X = article_moons().X_test[:20]
    assert cuda.predict_proba(X).shape == (20, 2)
    member = cuda.member(1)
    assert all(not p.is_cuda for p in member.parameters())
    stacked = cuda.fit_.stack.forward(torch.as_tensor(X, device="cuda"))[1].cpu()
    torch.testing.assert_close(member(torch.as_tensor(X)), stacked, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("options", [{}, {"dropout": 0.3}, {"batch_norm": True, "dropout": 0.1}])
def test_a_few_epochs_on_cuda_track_the_cpu(small, options):
    model, train = ModelConfig(hidden=(8, 8), **options), TrainConfig(epochs=5, n_seeds=3)
    cpu = fit(small, model, train)
    cuda = fit(small, model, replace(train, device="cuda"))
    assert rel_diff(cuda.history.train_loss, cpu.history.train_loss) < RTOL_SHORT
    assert rel_diff(cuda.history.val_loss, cpu.history.val_loss) < RTOL_SHORT


@pytest.mark.parametrize("options", [{}, {"dropout": 0.3}, {"batch_norm": True, "dropout": 0.1}])
def test_member_in_a_stack_equals_member_alone_on_cuda(small, options):
    model = ModelConfig(hidden=(8, 8), **options)
    together = fit(small, model, TrainConfig(epochs=4, n_seeds=4, seed=10, device="cuda"))
    alone = fit(small, model, TrainConfig(epochs=4, n_seeds=1, seed=12, device="cuda"))
    np.testing.assert_allclose(
        together.history.train_loss[2], alone.history.train_loss[0], rtol=RTOL_STACK, atol=1e-6
    )


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_on_cuda_tracks_the_cpu(small, optimizer):
    train = TrainConfig(epochs=3, n_seeds=2, optimizer=optimizer, weight_decay=0.01)
    cpu = fit(small, ModelConfig(hidden=(8, 8)), train)
    cuda = fit(small, ModelConfig(hidden=(8, 8)), replace(train, device="cuda"))
    assert rel_diff(cuda.history.train_loss, cpu.history.train_loss) < RTOL_SHORT


def test_dropout_masks_are_the_same_on_cuda_and_cpu():
    keys = torch.tensor([0, 1, 7])
    cpu = dropout_mask(keys, step=3, layer=1, shape=(64, 10), p=0.3)
    cuda = dropout_mask(keys.cuda(), step=3, layer=1, shape=(64, 10), p=0.3)
    assert cuda.is_cuda and torch.equal(cuda.cpu(), cpu)


def test_stacked_cnn_on_cuda():
    digits = load_dataset("digits")
    cnn = ModelConfig(architecture="cnn")
    train = TrainConfig(epochs=2, n_seeds=3, seed=5, lr=0.005, device="cuda")
    together = fit(digits, cnn, train)
    assert isinstance(together.stack, StackedCNN)
    assert all(t.is_cuda for t in together.stack.params)
    assert together.history.val_metric[:, -1].min() > 0.8
    alone = fit(digits, cnn, replace(train, n_seeds=1, seed=6))
    assert rel_diff(together.history.train_loss[1], alone.history.train_loss[0]) < RTOL_CNN
    cpu = fit(digits, cnn, replace(train, device="cpu"))
    assert rel_diff(together.history.train_loss, cpu.history.train_loss) < RTOL_CNN


def test_the_cnn_leaves_the_callers_tf32_setting_alone():
    digits = load_dataset("digits")
    before = torch.backends.cudnn.allow_tf32
    try:
        for setting in (True, False):
            torch.backends.cudnn.allow_tf32 = setting
            fit(digits, ModelConfig(architecture="cnn"), TrainConfig(epochs=1, device="cuda"))
            assert torch.backends.cudnn.allow_tf32 is setting
    finally:
        torch.backends.cudnn.allow_tf32 = before


def test_early_stopping_restores_the_best_weights_on_cuda(small):
    from whydl.engine import tasks
    from whydl.engine.data import VALIDATION_STREAM
    from whydl.engine.device import derive_seed

    train = TrainConfig(epochs=300, early_stopping=True, patience=3, lr=0.05, device="cuda")
    f = fit(small, ModelConfig(hidden=(64, 64)), train)
    assert f.epochs_run[0] < 300
    assert np.nanargmin(f.history.val_loss[0]) == f.epochs_run[0] - 1 - 3
    order = np.random.default_rng(derive_seed(0, VALIDATION_STREAM)).permutation(len(small.X_train))
    val = order[: round(0.1 * len(order))]
    X = torch.as_tensor(small.X_train[val], device="cuda")
    y = tasks.prepare_targets(small.y_train[val], "binary", "cuda")
    loss = tasks.loss(f.stack.forward(X), y.expand(1, *y.shape), "binary").item()
    assert loss == pytest.approx(np.nanmin(f.history.val_loss[0]), rel=1e-5)


def test_per_member_train_rows_on_cuda_track_the_cpu(small):
    model, rows = ModelConfig(hidden=(8, 8)), np.stack([np.arange(0, 60), np.arange(20, 80)])
    train = TrainConfig(epochs=3, n_seeds=2)
    cpu = fit(small, model, train, train_rows=rows)
    cuda = fit(small, model, replace(train, device="cuda"), train_rows=rows)
    assert rel_diff(cuda.history.train_loss, cpu.history.train_loss) < RTOL_SHORT


def test_trainer_steps_and_tracks_gradients_on_cuda(small):
    trainer = Trainer(
        small, ModelConfig(), TrainConfig(epochs=2, n_seeds=2, device="cuda"), track_gradients=True
    )
    assert isinstance(trainer.net, StackedMLP)
    trainer.run_epoch()
    assert set(trainer.grad_norms) == set(trainer.net.names)
    assert all(v.shape == (2,) and np.isfinite(v).all() for v in trainer.grad_norms.values())


def test_cli_demo_on_cuda_end_to_end(tmp_path, capsys):
    from whydl.cli import main

    assert main(["demo", "--device", "cuda", "--out", str(tmp_path)]) == 0
    assert "on cuda" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["device"].startswith("cuda") and metrics["test_accuracy"] >= 0.97
    env = json.loads((tmp_path / "environment.json").read_text())
    assert env["gpu"] == torch.cuda.get_device_name(0)
    assert (tmp_path / "demo.png").stat().st_size > 0


def test_compute_claim_measures_the_gpu_row():
    from whydl.evidence import Context
    from whydl.evidence.compute.gpu import Gpu
    from whydl.evidence.compute.speedup import NOT_MEASURED
    from whydl.evidence.experiment import ExperimentRun
    from whydl.evidence.protocol import seed_plan

    params = {"gpu_members": 4, "vector_epochs": 1, "repeats": 2}
    experiment = Gpu(params)
    assert experiment.deciding  # with CUDA present, the GPU part decides
    run = ExperimentRun(experiment, params, seed_plan(2))
    run.fits = experiment.train(Context(), params, (), {})
    rows = experiment.rows(run)
    assert {r["setting"] for r in rows} == {"cpu", "cuda"}
    assert all(r["seconds"] > 0 and "status" not in r for r in rows)
    assert {r["device_name"] for r in rows if r["setting"] == "cuda"} == {
        torch.cuda.get_device_name(0)
    }
    verdict = experiment.rule.decide(rows)
    assert verdict.numbers.get("status") != NOT_MEASURED
    assert verdict.numbers["speedup"] > 0 and verdict.numbers["repeats"] == 2
