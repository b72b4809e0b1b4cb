"""Library records for tests, made through the services (so versions, facets and the search
index exist exactly as in production)."""

from locus.library import services
from locus.library.choices import RecordStatus, ResourceType


def make_record(**overrides):
    data = {
        "type": ResourceType.GUIDE,
        "status": RecordStatus.PUBLISHED,
        "title": "A guide to local prevention",
        "languages": ["en"],
        **overrides,
    }
    return services.record_create(data=data)
