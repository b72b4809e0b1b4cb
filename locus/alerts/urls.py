from django.urls import path

from . import views

app_name = "alerts"

P = "<slug:place_slug>/insights/alerts/"  # place-scoped: PlaceMiddleware activates the place

urlpatterns = [
    path(P, views.index, name="index"),
    path(P + "subscription/", views.subscription, name="subscription"),
    path(P + "<int:alarm_id>/", views.detail, name="detail"),
    path(P + "<int:alarm_id>/close/", views.close, name="close"),
]
