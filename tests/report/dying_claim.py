"""A claim whose process dies while it runs (as one killed for memory would), for the test
that the report survives a worker's death."""

import os

from tests.report.toy_claim import ToyClaim


class DyingClaim(ToyClaim):
    name = "dying"
    title = "A claim whose process dies"

    def experiment(self, ctx, params):
        os._exit(3)  # no exception, no cleanup: the worker process is simply gone


CLAIM = DyingClaim()
