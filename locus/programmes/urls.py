from django.urls import path

from . import views

app_name = "programmes"

P = "<slug:place_slug>/"  # place-scoped: PlaceMiddleware activates the place from this
G = P + "programmes/"
ONE = G + "<int:programme_id>/"

urlpatterns = [
    path(G, views.programme_list, name="list"),
    path(G + "new/", views.programme_new, name="new"),
    path(G + "portfolio/", views.portfolio, name="portfolio"),
    path(G + "iati.xml", views.place_iati, name="place_iati"),
    path(ONE, views.programme_detail, name="detail"),
    path(ONE + "edit/", views.programme_edit, name="edit"),
    path(ONE + "theory-of-change/", views.theory_of_change, name="toc"),
    path(ONE + "indicators/new/", views.indicator_edit, name="indicator_new"),
    path(ONE + "indicators/<int:indicator_id>/", views.indicator_edit, name="indicator_edit"),
    path(
        ONE + "indicators/<int:indicator_id>/delete/",
        views.indicator_delete,
        name="indicator_delete",
    ),
    path(
        ONE + "indicators/<int:indicator_id>/survey/new/",
        views.survey_new,
        name="survey_new",
    ),
    path(ONE + "periods/new/", views.period_new, name="period_new"),
    path(ONE + "periods/<int:period_id>/", views.results, name="results"),
    path(
        ONE + "periods/<int:period_id>/files/<int:file_id>/",
        views.evidence_download,
        name="evidence",
    ),
    path(
        ONE + "periods/<int:period_id>/files/<int:file_id>/delete/",
        views.evidence_delete,
        name="evidence_delete",
    ),
    path(ONE + "periods/<int:period_id>/report/", views.report, name="report"),
    path(ONE + "periods/<int:period_id>/report.pdf", views.report_pdf, name="report_pdf"),
    path(ONE + "surveys/<int:survey_id>/", views.survey_detail, name="survey"),
    path(ONE + "iati.xml", views.programme_iati, name="iati"),
    path(ONE + "publish/", views.publish, name="publish"),
    # Public: the anonymous questionnaire.
    path(P + "survey/<str:token>/", views.survey_public, name="survey_public"),
    path(P + "survey/<str:token>/thanks/", views.survey_thanks, name="survey_thanks"),
]
