from django.urls import path  # noqa: F401

from . import views  # noqa: F401

app_name = "outbox"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = []
