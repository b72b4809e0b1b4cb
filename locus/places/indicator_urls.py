from django.urls import path

from . import indicator_views

app_name = "indicators"

P = "<slug:place_slug>/insights/context/"  # place-scoped: PlaceMiddleware activates the place

urlpatterns = [
    path(P, indicator_views.context, name="context"),
    path(P + "import/", indicator_views.import_csv, name="import"),
]
