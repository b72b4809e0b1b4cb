from django.urls import path

from . import views

app_name = "reporting"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path(P + "report/", views.report, name="report"),
    path(P + "report/receipt/<str:reference>/", views.receipt, name="receipt"),
    path(P + "follow-up/", views.followup, name="followup"),
]
