from datetime import datetime

from ninja import Field, Router, Schema

from locus.api.auth import STAFF_AUTH
from locus.api.schemas import ErrorOut

from . import selectors
from .choices import Role

router = Router(tags=["accounts"])


class ContextOut(Schema):
    membership_id: int
    organisation_id: int
    organisation: str
    role: Role = Field(..., description="The role's code (docs/api.md, the table of roles).")
    role_label: str = Field(
        ...,
        description="The role's name as the staff pages show it, in the request's language "
        "(`Accept-Language`: en, fr, de or sv).",
    )
    place: str


class MeOut(Schema):
    email: str
    name: str
    token_membership_id: int | None
    token_expires_at: datetime | None = Field(
        ..., description="When the token expires (null for a session): make the next one before."
    )
    contexts: list[ContextOut]


@router.get(
    "/me",
    response={200: MeOut, 401: ErrorOut},
    auth=STAFF_AUTH,
    summary="The current user and where they work",
    description=(
        "Who the token or session belongs to, and every place, organisation and role it can "
        "act in (`contexts`). A token acts only through its own membership: "
        "`token_membership_id` names it, `token_expires_at` says when it expires and "
        "`contexts` holds that one. Start here to find the place slugs to call."
    ),
)
def me(request):
    token = getattr(request, "api_token", None)
    contexts = [
        {
            "membership_id": m.pk,
            "organisation_id": m.organisation_id,
            "organisation": m.organisation.name,
            "role": m.role,
            "role_label": m.get_role_display(),
            "place": place.slug,
        }
        for m, place in selectors.user_contexts(user=request.user)
        if token is None or m.pk == token.membership_id
    ]
    return {
        "email": request.user.email,
        "name": request.user.name,
        "token_membership_id": token.membership_id if token else None,
        "token_expires_at": token.expires_at if token else None,
        "contexts": contexts,
    }
