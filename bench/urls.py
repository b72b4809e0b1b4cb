"""The application's URLs plus the baselines the benchmarks compare against."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def bare(request):
    """Baseline: a Django view doing one trivial query and returning a small body."""
    from locus.places.models import Place

    return HttpResponse(str(Place.objects.count()))


urlpatterns = [path("bench/bare/", bare), *app_urlpatterns]
