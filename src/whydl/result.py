"""A finished training run: `TrainResult` holds the members, their history and metrics,
predicts, plots and saves itself. `whydl.train()` and `whydl.run()` return one.

Example
-------
>>> from whydl.result import load_data
>>> from whydl.config import article_config
>>> load_data(article_config().data).name
'moons'
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import numpy as np
import torch

from whydl.analysis.boundary import stacked_outputs
from whydl.config import DataConfig, RunConfig
from whydl.data import Dataset, load_csv, load_dataset
from whydl.data.features import with_features
from whydl.engine import tasks
from whydl.engine.diagnosis import at_chance, chance_level, diverged_summary, likely_cause
from whydl.engine.progress import phase
from whydl.environment import environment
from whydl.errors import WhydlError
from whydl.jsonio import write_json
from whydl.paths import written_together
from whydl.plots.demo import result_figure
from whydl.plots.style import save_figure
from whydl.stats import format_number, format_summary, summarize


def load_data(config: DataConfig) -> Dataset:
    """The dataset a `DataConfig` names: a CSV file or a built-in dataset, with the input
    features it asks for."""
    return with_features(_load_inputs(config), config.features)


def _load_inputs(config: DataConfig) -> Dataset:
    if config.csv is not None:
        return load_csv(
            config.csv, config.target, test_size=config.test_size, data_seed=config.data_seed
        )
    return load_dataset(
        config.dataset,
        n_samples=config.n_samples,
        noise=config.noise,
        data_seed=config.data_seed,
        test_size=config.test_size,
        n_classes=config.n_classes,
    )


class TrainResult:
    """A finished run: `history_`, `metrics_`, members as plain modules, predictions, plots.

    Attributes ending in `_` were learned. `metrics` and `history` are aliases.
    """

    def __init__(self, config: RunConfig, dataset: Dataset, fit):
        self.config, self.dataset, self.fit_ = config, dataset, fit
        self.history_ = fit.history
        self.metrics_ = self._metrics()

    # -- numbers ---------------------------------------------------------------------------
    @property
    def metrics(self) -> dict:
        return self.metrics_

    @property
    def history(self):
        return self.history_

    @property
    def seeds(self) -> list[int]:
        return self.fit_.seeds

    def _metrics(self) -> dict:
        ds, f = self.dataset, self.fit_
        out = torch.as_tensor(self._outputs(ds.X_test, transform=False))
        y = tasks.prepare_targets(ds.y_test, f.task, "cpu")
        y = y.expand(out.shape[0], *y.shape)
        loss = tasks.loss(out, y, f.task).numpy().astype(float)
        score = tasks.metric(out, y, f.task).numpy().astype(float)
        ok = f.ok
        loss[~ok] = score[~ok] = np.nan
        name = tasks.metric_name(f.task)
        summary = summarize(score, bounds=(0.0, 1.0) if name == "accuracy" else (-np.inf, 1.0))
        return {
            "task": f.task,
            "metric": name,
            f"test_{name}": summary["mean"],
            f"test_{name}_per_seed": [None if np.isnan(v) else v for v in score],
            f"test_{name}_summary": summary,
            "test_loss": float(np.nanmean(loss)) if ok.any() else float("nan"),
            "test_loss_per_seed": [None if np.isnan(v) else v for v in loss],
            "seeds": f.seeds,
            "n_members": len(f.seeds),
            "epochs_run_per_seed": f.epochs_run.tolist(),
            "diverged": {str(k): v for k, v in f.diverged.items()},
            "train_seconds": f.train_seconds,
            "device": f.device,
        }

    def summary(self) -> str:
        """One line for humans: the test metric with its CI over seeds."""
        name = self.metrics_["metric"]
        s = self.metrics_[f"test_{name}_summary"]
        return f"{_label(name)}: {format_summary(s)}"

    def warnings(self) -> list[str]:
        """What went wrong, one line each: diverged members, and a run that ended at chance
        level, with the likely cause. Empty for a healthy run."""
        m, f, train = self.metrics_, self.fit_, self.config.train
        out = [diverged_summary(f.diverged, len(f.seeds))] if f.diverged else []
        name = m["metric"]
        chance = chance_level(self.dataset.y_test, f.task)
        scores = [v for v in m[f"test_{name}_per_seed"] if v is not None]
        stuck = [v for v in scores if at_chance(v, chance, f.task)]
        if not stuck:
            return out
        cause = likely_cause(self.config.model, train, len(self.dataset.X_train))
        constant = (
            "predicting the mean"
            if f.task == "regression"
            else "always predicting the most frequent class"
        )
        if len(stuck) == len(scores):
            out.append(
                f"the {_label(name)} {format_number(m[f'test_{name}'])} is at chance level "
                f"({format_number(chance)}, what {constant} scores): the network learned "
                f"nothing. Likely cause: {cause}."
            )
        else:
            out.append(
                f"{len(stuck)} of {len(scores)} members ended at chance level "
                f"({_label(name)} <= {format_number(chance)}, what {constant} scores). "
                f"Likely cause: {cause}."
            )
        return out

    # -- using members ---------------------------------------------------------------------
    def member(self, i: int = 0) -> torch.nn.Module:
        """Member i as a plain `nn.Module` (eval mode): take it away and use it anywhere."""
        self._check_index(i)
        return self.fit_.stack.member(i)

    def state_dict(self, i: int = 0) -> dict:
        self._check_index(i)
        return self.fit_.stack.state_dict(i)

    def _check_index(self, i):
        if not 0 <= i < len(self.seeds):
            raise IndexError(f"member {i} does not exist: this run has {len(self.seeds)} members.")

    def _outputs(self, X, member=None, transform=True) -> np.ndarray:

        X = self.dataset.transform(X) if transform else np.asarray(X, np.float32)
        out = stacked_outputs(self.fit_.stack, X)
        return out if member is None else out[member : member + 1]

    def predict_proba(self, X, member: int | None = None) -> np.ndarray:
        """Class probabilities (n, K) for raw inputs X, averaged over non-diverged members
        (or from one `member`)."""
        out = torch.as_tensor(self._outputs(X, member))
        if member is None:
            out = out[torch.as_tensor(self.fit_.ok)]
        try:
            return tasks.predict_proba(out, self.fit_.task).mean(0).numpy()
        except ValueError as e:
            raise WhydlError(str(e)) from None

    def predict(self, X, member: int | None = None) -> np.ndarray:
        """Class labels (classification) or values (regression) for raw inputs X."""
        if self.fit_.task == "regression":
            out = self._outputs(X, member)
            ok = self.fit_.ok if member is None else slice(None)
            return out[ok][..., 0].mean(0)
        return self.predict_proba(X, member).argmax(-1)

    # -- presentation ----------------------------------------------------------------------
    def headline(self) -> str:
        n = len(self.seeds) - len(self.fit_.diverged)
        name = self.metrics_["metric"]
        s = self.metrics_[f"test_{name}_summary"]
        num = lambda v: format_number(v, 3)  # noqa: E731
        if n > 1:
            value = (
                f"{num(s['mean'])} (95% CI {num(s['ci_low'])} to {num(s['ci_high'])}, {n} seeds)"
            )
        else:
            value = num(s["mean"])
        return f"{self.dataset.name}: {_label(name)} {value}"

    def plot(self):
        """The result figure (matplotlib Figure): learned function and loss curves."""

        return result_figure(self.dataset, self.fit_, self.headline())

    def _repr_html_(self) -> str:

        fig = self.plot()
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        svg = base64.b64encode(buf.getvalue().encode()).decode()
        return (
            f"<div><b>{self.headline()}</b><br><code>{self.summary()}</code><br>"
            f'<img src="data:image/svg+xml;base64,{svg}" style="max-width:100%"></div>'
        )

    def __repr__(self) -> str:
        return f"<TrainResult {self.headline()}>"

    # -- files -----------------------------------------------------------------------------
    def save(self, out, figure_name: str = "result") -> Path:
        """Write figure (SVG+PNG), metrics.json, config.json, history.csv and environment.json
        to `out`. Files are written to a temporary folder first and moved in at the end, so
        an error never leaves a half-written output directory."""
        out = Path(out)
        with written_together(out) as tmp:
            with phase("drawing figures"):  # on a terminal only: 1000 members take seconds
                fig = self.plot()
                # not registered with pyplot (`new_figure`): freed when it goes, no close
                written = save_figure(fig, tmp / figure_name)
            with phase("writing files"):
                write_json(tmp / "metrics.json", self.metrics_)
                write_json(tmp / "config.json", self.used_config())
                write_json(tmp / "environment.json", environment(self.fit_.device))
                with open(tmp / "history.csv", "w", newline="") as fh:
                    # streamed row by row: the list would be 100 dicts per member
                    rows = self.history_.rows("val" if self.fit_.held_out != "test" else "test")
                    first = next(rows, None)
                    writer = csv.DictWriter(fh, fieldnames=list(first) if first else ["seed"])
                    writer.writeheader()
                    writer.writerows([first] if first else [])
                    writer.writerows(rows)
        names = ["metrics.json", "config.json", "environment.json", "history.csv"]
        self.saved_files_ = [p.name for p in written] + names
        return out

    def used_config(self) -> dict:
        """The config as this run used it (what config.json holds): options it ignored are
        None, and the inferred task and the resolved device are filled in."""
        d = self.config.used()
        d["train"]["task"], d["train"]["device"] = self.fit_.task, self.fit_.device
        return d


def _label(metric: str) -> str:
    return "test accuracy" if metric == "accuracy" else "test R²"
