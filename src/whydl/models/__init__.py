"""Plain torch `nn.Module`s: MLP, a small CNN, and seeded init schemes."""

from whydl.models.cnn import SmallCNN
from whydl.models.init import INITS, init_layer, make_generator
from whydl.models.mlp import ACTIVATIONS, MLP

__all__ = ["ACTIVATIONS", "INITS", "MLP", "SmallCNN", "init_layer", "make_generator"]
