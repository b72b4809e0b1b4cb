"""Open data (public), jurisdiction exports (staff) and network roll-ups. Included from
config/urls.py before the places' catch-all."""

from django.urls import path

from . import public_views as views

app_name = "insights_data"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path(P + "open-data/", views.open_data_page, name="open_data"),
    path(P + "open-data/incidents.csv", views.open_data_csv, name="open_data_csv"),
    path(P + "open-data/incidents.geojson", views.open_data_geojson, name="open_data_geojson"),
    path(P + "insights/exports/", views.exports_page, name="exports"),
    path(P + "insights/exports/records.csv", views.exports_records, name="export_records"),
    path("network/<slug:network_slug>/insights/", views.network_insights, name="network"),
    path(
        "network/<slug:network_slug>/insights/export.csv",
        views.network_export,
        name="network_export",
    ),
]
