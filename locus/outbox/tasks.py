from django.tasks import task

from locus.core.tasks import in_place


@task()
@in_place
def deliver_message(*, place, message_id):
    """One attempt for one message, enqueued on commit by the enqueue services. `message_id` is
    the `msg_…` id. Not due or taken by another worker → nothing happens."""
    from .selectors import outbox_message_get
    from .services import outbox_deliver

    message = outbox_message_get(place=place, message_id=message_id)
    if message is None:
        return None
    return outbox_deliver(message=message).status


@task()
@in_place
def deliver_messages(*, place, message_ids):
    """First attempts for the messages one transaction queued, in order (see `_kick`).
    Returns {message id: status}; a message not found or not due is left to the sweep."""
    from .selectors import outbox_message_get
    from .services import outbox_deliver

    results = {}
    for message_id in message_ids:
        message = outbox_message_get(place=place, message_id=message_id)
        results[message_id] = None if message is None else outbox_deliver(message=message).status
    return results


@task()
def deliver_due(*, batch_size=100):
    """The scheduled sweep across places (see `manage.py deliver_outbox`)."""
    from .sweep import outbox_deliver_due

    return outbox_deliver_due(batch_size=batch_size)
