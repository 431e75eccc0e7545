import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from whydl.analysis.flops import (
    cnn_forward_flops,
    forward_flops,
    mlp_forward_flops,
    training_flops,
)
from whydl.config import ModelConfig
from whydl.models import MLP, SmallCNN


def test_article_mlp_by_hand():
    # 2-10-10-1: multiply-adds 2*10 + 10*10 + 10*1 = 130, two FLOPs each
    assert mlp_forward_flops(2, 1, (10, 10)) == 260
    assert forward_flops(ModelConfig(hidden=(10, 10)), n_features=2, n_outputs=1) == 260


def test_small_cnn_by_hand():
    # conv1: 8x8 positions x 8 filters x 3x3x1; pool -> 4x4
    # conv2: 4x4 positions x 16 filters x 3x3x8; pool -> 2x2; linear: 16*2*2 -> 10
    by_hand = 2 * (8 * 8 * 8 * 9 + 4 * 4 * 16 * 9 * 8 + 16 * 2 * 2 * 10)
    assert cnn_forward_flops(10) == by_hand == 47360
    assert forward_flops(ModelConfig(architecture="cnn"), 64, 10, image_shape=(8, 8)) == by_hand


@pytest.mark.parametrize(
    "module,n_inputs,ours",
    [
        (MLP(2, 1, (10, 10)), 2, mlp_forward_flops(2, 1, (10, 10))),
        (MLP(64, 10, (32, 7, 5)), 64, mlp_forward_flops(64, 10, (32, 7, 5))),
        (MLP(20, 1, ()), 20, mlp_forward_flops(20, 1, ())),
        (SmallCNN(10), 64, cnn_forward_flops(10)),
    ],
)
def test_counts_match_torch_flop_counter(module, n_inputs, ours):
    """torch.utils.flop_counter counts the same matmul and conv FLOPs on a real forward pass."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(1, n_inputs))
    assert counter.get_total_flops() == ours


def test_training_is_three_forward_passes_per_sample_and_epoch():
    assert training_flops(260, n_samples=700, epochs=100) == 3 * 260 * 700 * 100
    assert training_flops(100, n_samples=10, epochs=0.5) == 1500  # part of an epoch
