"""Sessions that end after a while without activity: staff sign-ins and a reporter's opened
report share one rule."""

import time

# Activity stamps are renewed at most this often, so busy pages do not rewrite the session.
STAMP_EVERY_SECONDS = 30


def idle_for_too_long(session, key, timeout):
    """Whether the activity stamp at `session[key]` is older than `timeout` seconds. If it is
    not, it is renewed; a missing (or unreadable) stamp starts now."""
    now = int(time.time())
    seen = session.get(key)
    if not isinstance(seen, int):
        session[key] = now
        return False
    if now - seen > timeout:
        return True
    if now - seen >= STAMP_EVERY_SECONDS:
        session[key] = now
    return False
