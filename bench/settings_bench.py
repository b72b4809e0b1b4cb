"""Settings for benchmark servers: the application's settings, minus the limits that would turn
a load test into a test of the rate limiter."""

from config.settings import *  # noqa: F403

# Every benchmark client comes from 127.0.0.1: one client as far as the limiter is concerned.
LOCUS_RATE_LIMITS = {**LOCUS_RATE_LIMITS, "report.submit": None}  # noqa: F405
