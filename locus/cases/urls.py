from django.urls import path

from . import rule_views, views

app_name = "cases"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this

urlpatterns = [
    path(P + "staff/cases/", views.inbox, name="inbox"),
    path(P + "staff/cases/targets/", views.targets, name="targets"),
    path(P + "staff/cases/<int:case_id>/", views.case_detail, name="detail"),
    path(
        P + "staff/cases/<int:case_id>/evidence/<int:evidence_id>/",
        views.evidence_download,
        name="evidence",
    ),
    # The routing-rule editor (rule_views.py).
    path(P + "staff/routing/", rule_views.rules, name="rules"),
    path(P + "staff/routing/new/", rule_views.rule_edit, name="rule_new"),
    path(P + "staff/routing/try/", rule_views.rules_try, name="rules_try"),
    path(P + "staff/routing/<int:rule_id>/", rule_views.rule_edit, name="rule_edit"),
    path(P + "staff/routing/<int:rule_id>/move/", rule_views.rule_move, name="rule_move"),
    path(P + "staff/routing/<int:rule_id>/active/", rule_views.rule_active, name="rule_active"),
    path(P + "staff/routing/<int:rule_id>/delete/", rule_views.rule_delete, name="rule_delete"),
]
