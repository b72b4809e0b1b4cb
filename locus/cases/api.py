"""Staff API: cases. Mounted in locus/api/urls.py."""

from ninja import Router

router = Router(tags=["cases"])
