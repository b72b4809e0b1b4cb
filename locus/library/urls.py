from django.urls import path

from . import views

app_name = "library"

# Network-wide pages: no place in the address ("library" is a reserved place slug).
urlpatterns = [
    path("library/", views.search, name="search"),
    path("library/<int:record_id>/", views.record_detail, name="record"),
]
