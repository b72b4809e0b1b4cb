from django.urls import path

from . import views

app_name = "directory"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this
D = P + "directory/"

urlpatterns = [
    path(D, views.index, name="index"),
    path(D + "organisations/new/", views.organisation_new, name="organisation_new"),
    path(D + "organisations/<int:organisation_id>/", views.organisation, name="organisation"),
    path(
        D + "organisations/<int:organisation_id>/check/",
        views.organisation_check,
        name="organisation_check",
    ),
    path(
        D + "organisations/<int:organisation_id>/services/new/",
        views.service_new,
        name="service_new",
    ),
    path(
        D + "organisations/<int:organisation_id>/partnerships/new/",
        views.partnership_new,
        name="partnership_new",
    ),
    path(D + "services/<int:service_id>/", views.service_edit, name="service_edit"),
    path(D + "services/<int:service_id>/delete/", views.service_delete, name="service_delete"),
    path(
        D + "partnerships/<int:partnership_id>/delete/",
        views.partnership_delete,
        name="partnership_delete",
    ),
    path(D + "coverage/", views.coverage, name="coverage"),
    path(D + "pathways/", views.pathways, name="pathways"),
    path(D + "network/", views.network, name="network"),
    path(D + "import/", views.import_hsds, name="import"),
    path(D + "export/", views.export_hsds, name="export"),
    path(D + "settings/", views.directory_settings, name="settings"),
    path(P + "services/", views.public_services, name="public"),
    path(P + "services/<int:service_id>/", views.public_service, name="public_service"),
]
