"""The article's script, as published: Keras on TensorFlow, one seed.

Run by benchmarks/bench_article.py with an interpreter that has TensorFlow (optional).
It prints the fit time on its last line as `fit_seconds=...` for the benchmark to read.
"""

import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from tensorflow.keras.layers import Dense  # noqa: E402
from tensorflow.keras.models import Sequential  # noqa: E402
from tensorflow.keras.optimizers import Adam  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "."

X, y = make_moons(n_samples=1000, noise=0.1, random_state=42)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=42)

model = Sequential(
    [
        Dense(10, activation="relu", input_shape=(2,)),
        Dense(10, activation="relu"),
        Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer=Adam(learning_rate=0.01), loss="binary_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
history = model.fit(
    X_train, y_train, epochs=100, batch_size=32, validation_data=(X_test, y_test), verbose=0
)
fit_seconds = time.perf_counter() - start
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print(f"Test accuracy: {accuracy:.4f}")

# decision boundary, as in the article: a coarse grid and contourf
x_min, x_max = X[:, 0].min() - 0.5, X[:, 0].max() + 0.5
y_min, y_max = X[:, 1].min() - 0.5, X[:, 1].max() + 0.5
xx, yy = np.meshgrid(np.arange(x_min, x_max, 0.1), np.arange(y_min, y_max, 0.1))
Z = model.predict(np.c_[xx.ravel(), yy.ravel()], verbose=0).reshape(xx.shape)
plt.contourf(xx, yy, Z > 0.5, alpha=0.8)
plt.scatter(X[:, 0], X[:, 1], c=y, edgecolors="k")
plt.title("Decision Boundary")
plt.savefig(f"{out}/keras_boundary.png")
plt.figure()
plt.plot(history.history["loss"], label="train loss")
plt.plot(history.history["val_loss"], label="validation loss")
plt.legend()
plt.savefig(f"{out}/keras_loss.png")
print(f"test_accuracy={accuracy}")
print(f"fit_seconds={fit_seconds}")
