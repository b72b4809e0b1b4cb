from django.urls import path

from . import views

app_name = "places"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("network/<slug:network_slug>/", views.network_home, name="network"),
    path(P + "staff/", views.staff_home, name="staff_home"),
    path(P + "staff/areas/", views.areas, name="areas"),
    path(P + "staff/settings/", views.place_settings, name="settings"),
    path(P + "staff/jobs/", views.jobs, name="jobs"),
    path(P + "staff/jobs/<int:job_id>/", views.job, name="job"),
    path(P, views.place_home, name="home"),
]
