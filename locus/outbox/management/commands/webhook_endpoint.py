"""Manage a place's webhook endpoints from the command line (until there is a staff page).

    manage.py webhook_endpoint --place london list
    manage.py webhook_endpoint --place london create --organisation 7 --url https://… \
        [--event case.routed --event case.closed] [--description "Case system"]
    manage.py webhook_endpoint --place london rotate --endpoint 3 [--revoke-old]
    manage.py webhook_endpoint --place london disable --endpoint 3

`create` and `rotate` print the secret once; it cannot be shown again.
"""

from datetime import timedelta

from django.core.management.base import CommandError

from locus.core.errors import ApplicationError
from locus.core.management.base import PlaceCommand
from locus.directory.selectors import access_organisation
from locus.outbox.selectors import webhook_endpoint_list
from locus.outbox.services import (
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)


class Command(PlaceCommand):
    help = "List, create, rotate the secret of, or disable a place's webhook endpoints."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list")
        create = actions.add_parser("create")
        create.add_argument("--organisation", type=int, required=True, help="Organisation id")
        create.add_argument("--url", required=True)
        create.add_argument("--description", default="")
        create.add_argument(
            "--event", action="append", default=[], help="An event type (repeat); none = all"
        )
        for name in ("rotate", "disable", "enable"):
            sub = actions.add_parser(name)
            sub.add_argument("--endpoint", type=int, required=True, help="Endpoint id")
            if name == "rotate":
                sub.add_argument(
                    "--revoke-old",
                    action="store_true",
                    help="The old secret stops signing at once (it leaked).",
                )

    def handle_place(self, place, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(place, **options)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.fields or ''}".strip()) from exc

    def _endpoint(self, place, endpoint_id):
        endpoint = webhook_endpoint_list(place=place).filter(pk=endpoint_id).first()
        if endpoint is None:
            raise CommandError(f"No webhook endpoint {endpoint_id} in this place")
        return endpoint

    def do_list(self, place, **options):
        for e in webhook_endpoint_list(place=place):
            events = ",".join(e.event_types) or "*"
            state = "active" if e.is_active else "disabled"
            self.stdout.write(f"{e.pk}\t{e.organisation}\t{e.url}\t{events}\t{state}")

    def do_create(self, place, *, organisation, url, description, event, **options):
        org = access_organisation(place=place, organisation_id=organisation)
        if org is None:
            raise CommandError(f"Organisation {organisation} does not work in this place")
        endpoint, secret = webhook_endpoint_create(
            place=place, organisation=org, url=url, description=description, event_types=event
        )
        self.stdout.write(f"Endpoint {endpoint.pk} created. Signing secret (shown once):")
        self.stdout.write(secret)

    def do_rotate(self, place, *, endpoint, revoke_old, **options):
        grace = timedelta(0) if revoke_old else None
        kwargs = {"grace": grace} if grace is not None else {}
        secret = webhook_endpoint_rotate_secret(
            place=place, endpoint=self._endpoint(place, endpoint), **kwargs
        )
        self.stdout.write("New signing secret (shown once):")
        self.stdout.write(secret)

    def do_disable(self, place, *, endpoint, **options):
        webhook_endpoint_update(
            place=place, endpoint=self._endpoint(place, endpoint), is_active=False
        )
        self.stdout.write(f"Endpoint {endpoint} disabled.")

    def do_enable(self, place, *, endpoint, **options):
        webhook_endpoint_update(
            place=place, endpoint=self._endpoint(place, endpoint), is_active=True
        )
        self.stdout.write(f"Endpoint {endpoint} enabled.")
