import pytest

from .receiver import Receiver


@pytest.fixture
def receivers():
    """`receivers(answer=…, secret=…, port=…)` → a started loopback Receiver, stopped after."""
    started = []

    def start(**kwargs):
        receiver = Receiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def endpoint_for(world, in_place):
    """`endpoint_for(side, url, **kwargs)` → (endpoint, secret) of side's organisation."""
    from locus.outbox.services import webhook_endpoint_create

    def create(side, url, **kwargs):
        with in_place(side.place):
            return webhook_endpoint_create(
                place=side.place, organisation=side.organisation, url=url, **kwargs
            )

    return create
