"""Claim 5: a pretrained network learns a new task from few labels (transfer learning).

Experiments, each a domain (a source task to pretrain on, a target task with k labels per
class) with its rule, and per domain Yosinski et al.'s features control:
1. digits: pretrain an MLP on digits 0-4 (all their training rows); learn digits 5-9; also
   layer by layer (copy the first n hidden layers, frozen or fine-tuned);
2. shifted moons: pretrain on moons; learn another moons sample rotated and rescaled;
3. digits with the small CNN: off in both presets (its grouped convolutions cost about four
   times the rest of the claim on a CPU); run it with
   `CLAIM.experiment(Context(), {**CLAIM.presets["full"], "cnn": True})`.

Each target is learnt four ways, all with one recipe (Adam, lr 0.01, full batch, fixed
epochs): scratch; frozen pretrained features with a new linear head; full fine-tuning; and
frozen random features. Evaluation seed s draws its own data (its own stratified digits split,
its own moons samples), its own k labels per class, its own pretrained network and its own
new layers; all variants of a seed share them, so they are compared paired by seed. Nothing
is chosen from data (one learning rate serves every method), so there are no selection seeds.

The overall verdict rests on fine-tuning against scratch on the MLP digits and the shifted
moons (`REQUIRED`); the features controls and the CNN are reported with their own verdicts.
"""

from __future__ import annotations

from whydl.evidence.claim import Claim
from whydl.evidence.transfer.domains import DomainSpec
from whydl.evidence.transfer.experiments import DomainExperiment, FeaturesExperiment, gap_text
from whydl.evidence.transfer.rules import HYPOTHESIS
from whydl.evidence.transfer.sweep import LR
from whydl.evidence.transfer.table import ALL

REQUIRED = ("digits", "shifted moons")
QUICK = {  # a smoke run in seconds: 3 seeds decide little
    "n_seeds": 3,
    "n_selection_seeds": 0,  # nothing is chosen from data
    "ks": (1, 5, ALL),
    "digits_hidden": (32, 32),
    "moons_hidden": (16, 16),
    "moons_samples": 300,
    "pretrain_epochs": 3,
    "epochs": 20,
    "cnn": False,
    "glyphs": False,
}
FULL = {  # the report's run
    **QUICK,
    "n_seeds": 10,
    "ks": (1, 2, 5, 10, 20, ALL),
    "digits_hidden": (64, 64),
    "moons_hidden": (32, 32),
    "moons_samples": 1000,
    "pretrain_epochs": 20,
    "epochs": 100,
}


class TransferClaim(Claim):
    name = "transfer"
    title = "Transfer learning: a pretrained network needs few labels"
    hypothesis = HYPOTHESIS
    literature = (
        "Yosinski et al. 2014: on ImageNet halves, transferred layers that are fine-tuned beat "
        "training from scratch (a lasting boost); frozen middle layers lose accuracy through "
        "co-adaptation and specificity; frozen random features collapse",
        "Zeiler & Fergus 2014: with 15 images per class on Caltech-101, training from scratch "
        "reached 22.8% against 83.8% for ImageNet-pretrained features",
        "Kornblith et al. 2019: the benefit of ImageNet pretraining shrinks as the target's "
        "training set grows and can vanish on fine-grained tasks",
    )
    presets = {"quick": QUICK, "full": FULL}

    def experiments(self, params):
        specs = [
            DomainSpec("digits", "digits", tuple(params["digits_hidden"])),
            DomainSpec(
                "shifted moons",
                "moons",
                tuple(params["moons_hidden"]),
                moons_samples=params["moons_samples"],
            ),
        ]
        if params.get("cnn"):
            specs.insert(1, DomainSpec("digits (CNN)", "digits", architecture="cnn"))
        if params.get("glyphs"):  # opt-in, not yet deciding: see docs/claims/transfer.md
            specs.append(DomainSpec("glyphs to digits (CNN)", "glyphs", architecture="cnn"))
        out = []
        for spec in specs:
            domain = DomainExperiment(spec, params, deciding=spec.name in REQUIRED)
            out += [domain, FeaturesExperiment(domain, params)]
        return out

    def headline(self, runs):
        main = [r.verdict for r in runs if r.name in REQUIRED and r.verdict is not None]
        if not main:
            return ""
        k = main[0].numbers["k"][0]
        return f"fine-tuned minus scratch at k={k:g}: " + "; ".join(
            f"{v.claim} {gap_text(v.numbers, 0)}" for v in main
        )

    def notes(self, runs):
        return [
            "Every evaluation seed draws its own data: its own stratified train/test split of "
            "the digits (so its own digits 5-9 test set) and its own moons samples, source and "
            "target alike; the CIs hold that luck as well as the initialisation's.",
            "The literature's gains come from pretraining on ImageNet (1.2 million images, 1000 "
            "classes); here the digits source is about 630 images of 5 classes, so its features "
            "can be specific to those classes rather than general, which is what Yosinski et "
            "al. found for the upper layers of networks trained on dissimilar halves of ImageNet.",
            f"Every variant uses one recipe (Adam, lr {LR:g}, full batch, the same epochs); no "
            "per-method tuning such as a smaller fine-tuning learning rate or a linear probe "
            "before fine-tuning, either of which could change small gaps. Nothing is chosen "
            "from data, so the run has no selection seeds.",
            "On the shifted moons the target is an exact linear change of the input (rotation "
            "and scale), which only the first layer needs to absorb; there the head is "
            "fine-tuned too, since the labels mean the same in both tasks.",
            "No real pretrained model: the usual sources (torchvision, timm, Hugging Face) "
            "download their weights at run time, which whydl may not do, and whydl does not "
            "depend on them.",
        ]


CLAIM = TransferClaim()
