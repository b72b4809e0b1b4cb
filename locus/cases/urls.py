from django.urls import path

from . import views

app_name = "cases"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path(P + "staff/cases/", views.inbox, name="inbox"),
    path(P + "staff/cases/<int:case_id>/", views.case_detail, name="detail"),
    path(
        P + "staff/cases/<int:case_id>/evidence/<int:evidence_id>/",
        views.evidence_download,
        name="evidence",
    ),
]
