"""Staff API: routing. Mounted in locus/api/urls.py."""

from ninja import Router

router = Router(tags=["routing"])
