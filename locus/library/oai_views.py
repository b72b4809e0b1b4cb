"""`/oai`: the library's OAI-PMH 2.0 endpoint (oai.py does the protocol). GET and POST
(`application/x-www-form-urlencoded`), as the protocol allows; public, no session needed."""

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import oai


@csrf_exempt  # a harvester's POST changes nothing and carries no session
@require_http_methods(["GET", "POST"])
def endpoint(request):
    source = request.POST if request.method == "POST" else request.GET
    arguments = {name: source.getlist(name) for name in source}
    base_url = request.build_absolute_uri(reverse("oai"))

    def page_url(record):
        return request.build_absolute_uri(reverse("library:record", args=[record.pk]))

    body = oai.respond(arguments, base_url=base_url, page_url=page_url)
    response = HttpResponse(body, content_type="text/xml; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response
