"""Staff API: webhooks. Mounted in locus/api/urls.py."""

from ninja import Router

router = Router(tags=["webhooks"])
