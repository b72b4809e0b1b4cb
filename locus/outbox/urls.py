from django.urls import path

from . import views

app_name = "outbox"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path(P + "staff/webhooks/", views.endpoints, name="endpoints"),
    path(P + "staff/webhooks/new/", views.endpoint_new, name="endpoint_new"),
    path(P + "staff/webhooks/<int:endpoint_id>/", views.endpoint_detail, name="endpoint"),
    path(
        P + "staff/webhooks/<int:endpoint_id>/rotate/",
        views.endpoint_rotate,
        name="endpoint_rotate",
    ),
    path(
        P + "staff/webhooks/<int:endpoint_id>/secret/",
        views.endpoint_secret,
        name="endpoint_secret",
    ),
    path(
        P + "staff/webhooks/<int:endpoint_id>/test/",
        views.endpoint_test,
        name="endpoint_test",
    ),
    path(
        P + "staff/webhooks/<int:endpoint_id>/active/",
        views.endpoint_active,
        name="endpoint_active",
    ),
    path(
        P + "staff/webhooks/<int:endpoint_id>/messages/<str:message_id>/retry/",
        views.message_retry,
        name="message_retry",
    ),
]
