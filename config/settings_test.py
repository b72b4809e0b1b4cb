"""Settings for the test suite: the base settings with the "test" profile."""

import os

os.environ["LOCUS_ENV"] = "test"

from .settings import *  # noqa: E402, F403
