"""Claim 2, more data: test error falls as a power law in the training-set size, to a floor.

The sweep: learning curves on three tasks (a noisy 2-D spiral, a 20-D teacher-student task
and sklearn's digits), n doubling from 16 up to 8,192 (digits: up to its whole training
split). Every seed draws its own data (generated: its own sample; digits: its own
stratified split), trains on nested subsets of its own training split and is scored on its
own test split (`curves`).

The experiments, one module each:
- `learning_curve`, per task (these decide, all three required): the log-log slope of test
  error over the power-law region, which is chosen on selection seeds, and the fall of the
  train-test gap;
- `form` (decides, issue 16): each seed's curve fitted on its smaller sizes by a power
  law, an exponential and a power law with a floor; the plain power law must predict the
  held-out larger sizes better than the exponential, paired by seed;
- `model_size` (reported): a small against a larger model at the largest n, paired;
- `classical_curve` (reported, issue 16): k-nearest neighbours on the same per-seed rows
  and sizes; does the network's error fall faster with n than k-NN's, paired by seed;
- `samples_to_target` (reported): does the largest n reach the target accuracy;
- `power_law` (descriptive): ε(n) = a·n^(−b) + c on each region, the curves' figures.

Example
-------
>>> from whydl.evidence import get_claim
>>> result = get_claim("data").run("quick")  # doctest: +SKIP
"""

from __future__ import annotations

from whydl.evidence.claim import Claim
from whydl.evidence.data_scaling.classical_curve import ClassicalCurve
from whydl.evidence.data_scaling.curves import BATCH_SIZE, DATASETS, LR
from whydl.evidence.data_scaling.form import Form
from whydl.evidence.data_scaling.learning_curve import HYPOTHESIS, LearningCurve
from whydl.evidence.data_scaling.model_size import ModelSize
from whydl.evidence.data_scaling.power_law import PowerLaw
from whydl.evidence.data_scaling.samples_to_target import SamplesToTarget
from whydl.evidence.protocol import data_seed


class DataClaim(Claim):
    name = "data"
    title = "More data: learning curves and their power laws"
    hypothesis = HYPOTHESIS
    literature = (
        "Hestness et al. 2017: test error falls as a power law in training-set size, with "
        "exponents between about -0.07 and -0.35, down to an irreducible floor",
        "Kaplan et al. 2020: loss falls as a power law in parameters, data and compute",
        "Nakkiran et al. 2019: near the interpolation threshold more data can briefly fail "
        "to help (sample-wise double descent)",
    )
    presets = {
        "quick": {
            "n_seeds": 3,
            "n_selection_seeds": 3,
            "n_max": 128,
            "pool": 512,
            "n_test": 512,
            "min_steps": 150,
            "min_epochs": 3,
            "n_boot": 10,
        },
        "full": {
            "n_seeds": 10,
            "n_selection_seeds": 5,
            "n_max": 8192,
            "pool": 16384,
            "n_test": 4096,
            "min_steps": 800,
            "min_epochs": 30,
            "n_boot": 200,
        },
    }

    # one torch thread: these small networks give a second thread too little work per step (the
    # compute claim measures it), and on a busy machine two threads made the full preset four
    # times slower.
    threads = 1

    def experiments(self, params: dict) -> list:
        # the tasks' curves first: model_size, classical_curve, samples_to_target and power_law
        # read them
        return [
            *(LearningCurve(name, params) for name in DATASETS),
            Form(),
            ModelSize(),
            ClassicalCurve(),
            SamplesToTarget(),
            PowerLaw(),
        ]

    def headline(self, runs) -> str:
        parts = [
            f"{r.name} {r.verdict.numbers['slope']:.2f} (95% CI "
            f"{r.verdict.numbers['slope_ci_low']:.2f} to {r.verdict.numbers['slope_ci_high']:.2f})"
            for r in runs
            if r.name in DATASETS and "slope" in r.verdict.numbers
        ]
        return (
            "log-log slope of test error vs n over the power-law region (or all sizes): "
            + ", ".join(parts)
        )

    def notes(self, runs) -> list[str]:
        params = runs[0].params
        plan = runs[0].plan
        return [
            f"Every size trains for at least {params['min_steps']} Adam steps (lr {LR}) and "
            f"{params['min_epochs']} epochs, batch min({BATCH_SIZE}, n): a fixed step budget "
            "rather than a fixed number of epochs, so the smallest sets train as long as "
            "mid-sized ones; the largest sizes get more steps, since every sample must be "
            f"seen {params['min_epochs']} times.",
            f"Every seed draws its own data (data seed {data_seed(0)} + seed): spiral and "
            f"teacher their own sample of {params['pool']} training and {params['n_test']} "
            "test points, digits its own stratified 70/30 split of the 1,797 images. Size n "
            "trains on the first n rows of the seed's own shuffled training split and is "
            "scored on its own test split, so the 95% CIs hold the luck of the draw and of the "
            "test set; on digits a size that reaches its training split is the seed's whole "
            "split.",
            f"The power-law region and the floor of each curve are chosen on the selection "
            f"seeds {plan.selection[0]}..{plan.selection[-1]} (their own data draws, data "
            f"seeds {data_seed(plan.selection[0])}.., and initialisations); the rules read "
            f"only the evaluation seeds {plan.evaluation[0]}..{plan.evaluation[-1]}.",
        ]


CLAIM = DataClaim()
