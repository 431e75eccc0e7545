"""The article's experiment as one fused JAX program: `lax.scan` over epochs and minibatches,
`vmap` over seeds. The reference the performance issue names for many seeds at once.

Run with an interpreter that has jax and scikit-learn (not a whydl dependency):
    python -m venv /opt/jaxvenv && /opt/jaxvenv/bin/pip install jax jaxlib scikit-learn
    /opt/jaxvenv/bin/python benchmarks/article_jax.py --seeds 100
Prints one JSON line: compile+first-call seconds, the warm call's seconds, mean accuracy.

Like whydl it trains each seed with its own initialisation and shuffling, Adam lr 0.01,
batch 32 (the last batch of each epoch holds the 28 remaining rows), 100 epochs, and scores
both splits after every epoch.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

SIZES = (2, 10, 10, 1)
EPOCHS, BATCH, LR = 100, 32, 0.01


def data():
    X, y = make_moons(n_samples=1000, noise=0.1, random_state=42)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=42)
    f = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return f(X_tr), f(y_tr)[:, None], f(X_te), f(y_te)[:, None]


def init(key):
    params = []
    for k, (n_in, n_out) in zip(jax.random.split(key, len(SIZES) - 1), zip(SIZES, SIZES[1:])):
        kw, kb = jax.random.split(k)
        bound = 1 / np.sqrt(n_in)  # PyTorch's nn.Linear default
        params.append(
            (
                jax.random.uniform(kw, (n_in, n_out), minval=-bound, maxval=bound),
                jax.random.uniform(kb, (n_out,), minval=-bound, maxval=bound),
            )
        )
    return params


def forward(params, x):
    for W, b in params[:-1]:
        x = jax.nn.relu(x @ W + b)
    W, b = params[-1]
    return x @ W + b


def bce(params, x, y):
    z = forward(params, x)
    return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))


def train_one(key, X, y, Xt, yt):
    params = init(key)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    n = X.shape[0]
    n_full = n // BATCH
    grad = jax.grad(bce)

    def adam(state, g):
        params, m, v, t = state
        t = t + 1
        m = jax.tree_util.tree_map(lambda a, b: 0.9 * a + 0.1 * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: 0.999 * a + 0.001 * b * b, v, g)
        c1, c2 = 1 - 0.9**t, 1 - 0.999**t
        params = jax.tree_util.tree_map(
            lambda p, a, b: p - LR * (a / c1) / (jnp.sqrt(b / c2) + 1e-8), params, m, v
        )
        return params, m, v, t

    def epoch(carry, key):
        state = carry
        order = jax.random.permutation(key, n)
        full = order[: n_full * BATCH].reshape(n_full, BATCH)

        def step(state, idx):
            return adam(state, grad(state[0], X[idx], y[idx])), None

        state, _ = jax.lax.scan(step, state, full)
        rest = order[n_full * BATCH :]
        state = adam(state, grad(state[0], X[rest], y[rest]))
        scores = (bce(state[0], X, y), bce(state[0], Xt, yt))
        return state, scores

    state = (params, zeros, zeros, 0.0)
    state, losses = jax.lax.scan(epoch, state, jax.random.split(jax.random.fold_in(key, 1), EPOCHS))
    accuracy = jnp.mean((forward(state[0], Xt) > 0) == (yt > 0.5))
    return accuracy, losses


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=100)
    args = p.parse_args()
    X, y, Xt, yt = data()
    run = jax.jit(jax.vmap(train_one, in_axes=(0, None, None, None, None)))
    keys = jax.random.split(jax.random.PRNGKey(0), args.seeds)
    start = time.perf_counter()
    accuracy, _ = run(keys, X, y, Xt, yt)
    accuracy.block_until_ready()
    first = time.perf_counter() - start
    start = time.perf_counter()
    accuracy, _ = run(keys, X, y, Xt, yt)
    accuracy.block_until_ready()
    warm = time.perf_counter() - start
    out = {
        "seeds": args.seeds,
        "first_call_s": first,
        "warm_s": warm,
        "accuracy": float(accuracy.mean()),
    }
    out["jax"] = jax.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
