from django.urls import path

from . import views

app_name = "reporting"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path(P + "report/", views.report, name="report"),
    path(P + "report/receipt/<str:reference>/", views.receipt, name="receipt"),
    path(P + "follow-up/", views.followup, name="followup"),
    path(P + "follow-up/copy/", views.followup_copy, name="followup_copy"),
    path(
        P + "follow-up/copy/download/", views.followup_copy_download, name="followup_copy_download"
    ),
    path(P + "follow-up/erase/", views.followup_erase, name="followup_erase"),
]
