from django.urls import path

from . import views

app_name = "insights"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path(P + "insights/", views.dashboard, name="dashboard"),
    path(P + "insights/service/", views.service, name="service"),
    path(P + "insights/annotations/", views.annotations, name="annotations"),
    path(
        P + "insights/annotations/<int:annotation_id>/",
        views.annotation_edit,
        name="annotation_edit",
    ),
    path(
        P + "insights/annotations/<int:annotation_id>/delete/",
        views.annotation_delete,
        name="annotation_delete",
    ),
]
