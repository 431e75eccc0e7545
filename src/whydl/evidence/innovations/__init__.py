"""Claim 4, algorithmic innovations (being ported to the frame: see legacy.py)."""

from whydl.evidence.innovations.legacy import *  # noqa: F403
from whydl.evidence.innovations.legacy import CLAIM  # noqa: F401
