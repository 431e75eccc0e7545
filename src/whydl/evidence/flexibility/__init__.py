"""Claim 6: one deep-learning recipe fits many tasks, and bigger models do better.

Experiments (one module each, with its rule beside it):
1. `recipe`, "one recipe": a ReLU MLP 64-64 (and the small CNN on digits), Adam, the same
   settings everywhere, against a linear model trained the same way on nine tasks
   (reported, not deciding since issue 16: a linear baseline is a straw man);
1b. `classical`, "best classical": the same recipe against the best of four tuned
   scikit-learn models per task, chosen on selection seeds (deciding);
2. `scale`, "scale": a width sweep of a one-hidden-layer MLP on digits from 85 to 100,000
   parameters, test loss against parameters (Kaplan et al. 2020);
3. `double_descent`, "double descent": a width sweep with 20% of the training labels
   corrupted, trained long enough that the wider models fit every label (Nakkiran et al.
   2019): does test error peak at the interpolation threshold, chosen on selection seeds,
   and fall again?

The overall verdict rests on 1b and 2; 1 and 3 are reported with their own verdicts.

Example
-------
>>> from whydl.evidence.flexibility import CLAIM
>>> [e.name for e in CLAIM.experiments(CLAIM.params("quick"))]
['one recipe', 'best classical', 'scale', 'double descent']
"""

from __future__ import annotations

from whydl.evidence.claim import Claim
from whydl.evidence.flexibility.classical import ClassicalExperiment
from whydl.evidence.flexibility.double_descent import DoubleDescentExperiment
from whydl.evidence.flexibility.recipe import RecipeExperiment
from whydl.evidence.flexibility.scale import ScaleExperiment

HYPOTHESIS = (
    "One unchanged deep recipe is within a small margin of the best tuned classical model "
    "(gradient boosting, RBF SVM, k-nearest neighbours, logistic regression) on every task and "
    "wins on the compositional ones; and test loss falls as the model grows."
)


class FlexibilityClaim(Claim):
    name = "flexibility"
    title = "Flexibility and scale: one recipe, many tasks; bigger is better"
    hypothesis = HYPOTHESIS
    literature = (
        "Kaplan et al. 2020: language-model test loss falls as a power law in parameters, "
        "L(N) = (N_c/N)^0.076, over more than six orders of magnitude when data and compute "
        "do not limit",
        "Nakkiran et al. 2019: with label noise, test error peaks where a model is just large "
        "enough to fit every training label (the interpolation threshold), then falls again "
        "(model-wise double descent); optimal early stopping mostly removes the peak",
        "Belkin et al. 2019: the double-descent curve reconciles the classical U-shaped "
        "bias-variance trade-off with modern interpolating models",
        "LeCun, Bengio & Hinton 2015: the same learning procedure (backpropagation with SGD) "
        "serves images, speech and text",
    )
    presets = {
        "quick": {
            "n_seeds": 3,
            "n_selection_seeds": 2,
            "n_samples": 200,
            "epochs": 5,
            "widths": (1, 8, 64),
            "sweep_per_class": 10,
            "descent_widths": (2, 16, 64),
            "descent_per_class": 20,
            "descent_epochs": 10,
            "descent_batch_size": 100,
        },
        "full": {
            "n_seeds": 10,
            "n_selection_seeds": 3,
            "n_samples": 1000,
            "epochs": 40,
            "widths": (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1333),
            "sweep_per_class": 40,
            # double descent: trained into the interpolation regime (see double_descent.py)
            "descent_widths": (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128),
            "descent_per_class": 60,
            "descent_epochs": 400,
            "descent_batch_size": 100,
        },
    }

    # one torch thread: most steps are small. A second thread saves a little on an idle CPU (the
    # widest sweep models, the CNN), but on a loaded one its spin-waiting costs many times that
    # (measured: the quick preset 18 s against 5 s on a shared 2-core machine). Executors'
    # workers set their own threads.
    threads = 1

    def experiments(self, params):
        return [
            RecipeExperiment(),
            ClassicalExperiment(),
            ScaleExperiment(params),
            DoubleDescentExperiment(params),
        ]

    def headline(self, runs) -> str:
        recipe, scale = (
            next(r.verdict for r in runs if r.name == n) for n in ("best classical", "scale")
        )
        tasks = recipe.numbers["tasks"]
        held = sum(t["verdict"] == "supported" for t in tasks.values())
        s = scale.numbers
        return (
            f"deep recipe against the best classical model: supported on {held}/{len(tasks)} "
            "tasks (paired per seed); test loss "
            f"slope vs parameters {s['slope']:.2f} (95% CI {s['slope_ci_low']:.2f} to "
            f"{s['slope_ci_high']:.2f})"
        )


CLAIM = FlexibilityClaim()

__all__ = ["CLAIM", "HYPOTHESIS", "FlexibilityClaim"]
