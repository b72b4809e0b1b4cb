"""API authentication: personal tokens (Bearer) or the browser session, and the place funnel."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from locus.accounts.decorators import SESSION_ORG_KEY
from locus.accounts.policies import Capability, membership_can, role_can, user_needs_mfa_setup
from locus.accounts.selectors import membership_for_place, token_by_secret
from locus.accounts.services import token_mark_used
from locus.core.errors import ApplicationError, NotFound, PermissionDenied, RateLimited
from locus.core.ratelimit import configured_rate, rate_check, rate_limited, try_again_in

# Requests a minute an API token (or a signed-in person's browser session) may make: generous
# for any integration, a brake on a runaway script. `LOCUS_RATE_LIMITS` overrides them.
API_RATE = "600/m"


def rate_limited_operation(scope, limit, **options):
    """`rate_limited` for a public (`auth=None`) operation, around ninja's whole run rather than
    the operation's function: ninja parses and validates the body before it calls the
    function, so a body refused there (422) would not count and a client past its limit would
    still get its body checked. Declared under the route: `@router.post(…)` then this."""
    return decorate_view(rate_limited(scope, limit, json=True, **options))


def limit_requests(request, *, scope, client):
    """Count one authenticated request of `client` (a token, or a user) in `scope`: over its
    limit, a 429 that names the limit, with `Retry-After`."""
    decision = rate_check(request, scope, API_RATE, client=client)
    if not decision.allowed:
        limit, period = configured_rate(scope, API_RATE)
        raise RateLimited(
            ngettext(
                "Too many requests: at most %(limit)s every %(period)s second.",
                "Too many requests: at most %(limit)s every %(period)s seconds.",
                period,
            )
            % {"limit": limit, "period": period}
            + " "
            + try_again_in(decision.retry_after),
            retry_after=decision.retry_after,
        )


class TokenAuth(HttpBearer):
    """`Authorization: Bearer locus_…`: a personal token, bound to one membership."""

    def authenticate(self, request, token):
        api_token = token_by_secret(secret=token)
        if api_token is None:
            return None
        membership = api_token.membership
        # A token stops working with its membership, its user, or its role's right to the API.
        if not (
            membership.is_active
            and membership.user.is_active
            and role_can(membership.role, Capability.USE_API)
        ):
            return None
        if api_token.is_expired():
            raise ApplicationError(
                _(
                    "This token expired on %(date)s. Make a new one under API tokens in your "
                    "staff area (/<place>/staff/tokens/)."
                )
                % {"date": api_token.expires_at.date().isoformat()},
                code="token_expired",
                status=401,
            )
        # While the role requires two-factor authentication and the owner has none (they
        # switched it off after creating the token), the token does not work: the staff pages
        # would send the same person to set it up. It works again once it is set up.
        if user_needs_mfa_setup(
            membership.user, membership.role, mfa_enabled=api_token.owner_has_mfa
        ):
            raise ApplicationError(
                _(
                    "This token's owner must set up two-factor authentication: their role can "
                    "see personal data. The token works again once it is set up."
                ),
                code="mfa_required",
                status=401,
            )
        limit_requests(request, scope="api.token", client=f"token:{api_token.pk}")
        request.user = membership.user
        request.api_token = api_token
        token_mark_used(token=api_token, place=getattr(request, "place", None))
        return api_token


class SessionAuth(APIKeyCookie):
    """The signed-in browser session (CSRF-checked for writes)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        # Without a signed-in session there is nothing to protect from CSRF: answer 401
        # (not a CSRF 403) so that a client without credentials learns what is missing.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        try:
            return super()._get_key(request)
        except HttpError:  # ninja's bare "CSRF check Failed"
            raise PermissionDenied(
                _(
                    "A change made from a signed-in browser session needs its CSRF token (the "
                    "X-CSRFToken header). Scripts and other systems use an API token instead."
                ),
                code="csrf_failed",
            ) from None

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            limit_requests(request, scope="api.session", client=f"user:{user.pk}")
            request.api_token = None
            return user
        return None


STAFF_AUTH = [TokenAuth(), SessionAuth()]


def token_membership(request):
    """The membership an API token is bound to, or None for a signed-in session. Where the URL
    names no place (the library), a token acts through this membership alone and a session
    through all of the person's, as `api_membership` does in a place."""
    token = getattr(request, "api_token", None)
    return token.membership if token is not None else None


def api_membership(request, capability):
    """The membership acting in the URL's place: token-bound, or chosen in the session.
    No business in this place → 404; wrong role → 403."""
    token = getattr(request, "api_token", None)
    if token is not None:
        membership = membership_for_place(
            user=token.membership.user,
            place=request.place,
            organisation_id=token.membership.organisation_id,
        )
        if membership is not None and membership.pk != token.membership.pk:
            membership = None  # a token acts only through its own membership
    else:
        membership = membership_for_place(
            user=request.user,
            place=request.place,
            organisation_id=request.session.get(SESSION_ORG_KEY),
        )
    if membership is None:
        raise NotFound(_("Not found."))
    if not membership_can(membership, capability):
        raise PermissionDenied(_("Your role does not allow this."))
    # A token's owner was checked when the token was authenticated (TokenAuth).
    if token is None and user_needs_mfa_setup(request.user, membership.role):
        raise PermissionDenied(_("Set up two-factor authentication first."), code="mfa_required")
    return membership
