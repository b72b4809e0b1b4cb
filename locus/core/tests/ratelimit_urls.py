"""Test-only views for test_ratelimit.py: an HTML view, a form view limited on POST only, and
a JSON operation."""

from django.http import HttpResponse
from django.urls import path
from ninja import NinjaAPI

from config.urls import urlpatterns as site_urlpatterns
from locus.core.ratelimit import rate_limited

api = NinjaAPI(urls_namespace="test-ratelimit-api", docs_url=None)


@api.post("/ping")
@rate_limited("test.api", "3/m")
def ping(request):
    return {"ok": True}


@rate_limited("test.html", "3/m")
def html_view(request):
    return HttpResponse("ok")


@rate_limited("test.form", "1/m", methods=["POST"])
def form_view(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/test-ratelimit/", api.urls),
    path("test-limited/", html_view),
    path("test-limited-form/", form_view),
    *site_urlpatterns,
]
