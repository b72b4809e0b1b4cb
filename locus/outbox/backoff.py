"""The retry schedule, modelled on Standard Webhooks / Svix.

Attempt 1 is made at once (on commit). After a failed attempt n the next one waits
`RETRY_DELAYS[n - 1]` (± `JITTER`), so a message is tried for a little over three days:

    attempt   1     2     3      4       5     6     7      8 … 13
    after     0     5 s   5 min  30 min  2 h   5 h   10 h   10 h each

13 attempts spanning ≈ 77.6 hours (3.2 days) without jitter. After attempt 13 fails the
message is `dead`: kept, listed in the admin, and an operator can retry it.

The jitter spreads the retries of many messages that failed together (a receiver that was
down) so they do not all hit it again in the same second.
"""

import random
from datetime import timedelta

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *(timedelta(hours=10),) * 7,
)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
JITTER = 0.1  # each delay is scaled by a factor in [1 - JITTER, 1 + JITTER]


def retry_delay(attempts, *, rand=random.random):
    """How long to wait after the `attempts`-th failed attempt, or None when none is left.

    `rand` returns a float in [0, 1) (injectable for tests)."""
    if attempts < 1:
        raise ValueError("attempts counts the attempts already made (≥ 1)")
    if attempts > len(RETRY_DELAYS):
        return None
    factor = 1 + JITTER * (2 * rand() - 1)
    return RETRY_DELAYS[attempts - 1] * factor
