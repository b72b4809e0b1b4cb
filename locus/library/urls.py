from django.urls import path

from . import file_views, gap_map_views, review_views, showcase_views, views

app_name = "library"

# Network-wide pages: no place in the address ("library" is a reserved place slug).
urlpatterns = [
    path("library/", views.search, name="search"),
    path("library/<int:record_id>/", views.record_detail, name="record"),
    # Files (issue 5 §3): file_views.py
    path("library/<int:record_id>/files/add/", file_views.file_add, name="file_add"),
    path(
        "library/<int:record_id>/files/<int:file_id>/",
        file_views.file_download,
        name="file_download",
    ),
    path(
        "library/<int:record_id>/files/<int:file_id>/remove/",
        file_views.file_remove,
        name="file_remove",
    ),
    path(
        "library/<int:record_id>/files/<int:file_id>/retry/",
        file_views.file_retry,
        name="file_retry",
    ),
    # Evidence-and-gap map (issue 5 §5): gap_map_views.py
    path("library/map/", gap_map_views.evidence_map, name="map"),
    path("library/map.csv", gap_map_views.evidence_map_csv, name="map_csv"),
    # Contribution and moderation (issue 5 §6): review_views.py
    path("library/contribute/", review_views.contribute, name="contribute"),
    path("library/mine/", review_views.mine, name="mine"),
    path("library/<int:record_id>/edit/", review_views.draft_edit, name="draft_edit"),
    path("library/<int:record_id>/submit/", review_views.draft_submit, name="draft_submit"),
    path("library/<int:record_id>/checked/", review_views.record_checked, name="record_checked"),
    path("library/review/", review_views.queue, name="review_queue"),
    path("library/review/<int:record_id>/", review_views.review, name="review"),
    # A city's showcase (public, place-scoped): showcase_views.py
    path("<slug:place_slug>/library/", showcase_views.showcase, name="showcase"),
]
