from django.urls import path

from . import views

app_name = "accounts"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path("accounts/home/", views.home, name="home"),
    path("accounts/switch/", views.switch, name="switch"),
    path("invitations/<str:secret>/", views.invitation_accept, name="invitation_accept"),
    path(P + "staff/members/", views.members, name="members"),
    path(P + "staff/members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path(
        P + "staff/members/invitations/<int:invitation_id>/withdraw/",
        views.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path(P + "staff/tokens/", views.tokens, name="tokens"),
    path(P + "staff/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
