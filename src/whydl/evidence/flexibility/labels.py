"""The two label conditions of the width sweep: clean, and LABEL_NOISE of them replaced."""

LABEL_NOISE = 0.2  # the fraction of training labels replaced (Nakkiran et al. use 10-20%)
CLEAN, NOISY = "clean", f"{LABEL_NOISE:.0%} noisy"
