from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef
from django.utils import timezone

from locus.directory.models import OrganisationListing

from .models import ApiToken, Invitation, Membership, NetworkMembership


def memberships_in_place(*, user, place):
    """The user's active memberships whose organisation is actively listed in the place."""
    if not user.is_authenticated:
        return Membership.objects.none()
    listed = OrganisationListing.objects.filter(place=place, is_active=True)
    return (
        Membership.objects.filter(
            user=user, is_active=True, organisation__in=listed.values("organisation")
        )
        .annotate(
            manages_place=Exists(
                listed.filter(organisation=OuterRef("organisation"), manages_place=True)
            )
        )
        .select_related("organisation")
        .order_by("organisation__name")
    )


def membership_for_place(*, user, place, organisation_id=None):
    """The membership the user acts through in this place: the chosen organisation if it is
    listed here, else the first one. None when the user has no business in this place."""
    memberships = list(memberships_in_place(user=user, place=place))
    for membership in memberships:
        if membership.organisation_id == organisation_id:
            return membership
    return memberships[0] if memberships else None


def user_contexts(*, user):
    """Every (membership, place) pair the user can switch to, for the switcher."""
    if not user.is_authenticated:
        return []
    listings = (
        OrganisationListing.objects.filter(
            is_active=True,
            place__is_active=True,
            organisation__memberships__user=user,
            organisation__memberships__is_active=True,
        )
        .select_related("place", "organisation")
        .order_by("place__name", "organisation__name")
    )
    memberships = {
        m.organisation_id: m
        for m in Membership.objects.filter(user=user, is_active=True).select_related("organisation")
    }
    return [(memberships[listing.organisation_id], listing.place) for listing in listings]


def network_memberships(*, user):
    if not user.is_authenticated:
        return NetworkMembership.objects.none()
    return NetworkMembership.objects.filter(user=user).select_related("network")


def is_active_member(*, organisation, email):
    """Whether the address already belongs to an active member of the organisation."""
    return Membership.objects.filter(
        organisation=organisation, user__email__iexact=email.strip(), is_active=True
    ).exists()


def organisation_members(*, organisation):
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__email")
    )


def access_membership(*, organisation, membership_id):
    return (
        Membership.objects.filter(organisation=organisation, pk=membership_id)
        .select_related("user")
        .first()
    )


def pending_invitations(*, organisation):
    from django.utils import timezone

    return Invitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def access_pending_invitation(*, organisation, invitation_id):
    """One of the organisation's pending invitations, or None (another's, used or expired)."""
    return pending_invitations(organisation=organisation).filter(pk=invitation_id).first()


def invitation_by_secret(*, secret):
    return (
        Invitation.objects.filter(secret_hash=Invitation.hash_secret(secret))
        .select_related("organisation")
        .first()
    )


def token_list(*, membership):
    return ApiToken.objects.filter(membership=membership)


def token_by_secret(*, secret):
    if not secret or not secret.startswith(ApiToken.PREFIX):
        return None
    # `owner_has_mfa`: whether the owner has two-factor authentication set up, read in the same
    # query (a token whose owner switched it off must stop working; locus.api.auth).
    return (
        ApiToken.objects.filter(key_hash=ApiToken.hash_secret(secret), revoked_at__isnull=True)
        .select_related("membership__user", "membership__organisation")
        .annotate(
            owner_has_mfa=Exists(
                Authenticator.objects.filter(user_id=OuterRef("membership__user_id"))
            )
        )
        .first()
    )


def organisation_home_listing(*, organisation):
    """The organisation's listing in the place it works in first (its own place first): where
    its people use Locus, and that place's language is the one they read it in."""
    return (
        organisation.listings.filter(is_active=True)
        .select_related("place")
        .order_by("-manages_place", "listed_at")
        .first()
    )


def organisation_zone(*, organisation):
    """The time zone of the place the organisation works in first: an invitation's expiry is
    written in it (Lyon's team reads Paris time, wherever the invitation was sent from); UTC
    for an organisation listed nowhere yet."""
    from locus.core.middleware import place_zone

    listing = organisation_home_listing(organisation=organisation)
    return place_zone(listing.place.timezone if listing else "UTC")


def tokens_expiring(*, within, now=None):
    """Working tokens that expire within `within` and whose owner has not been told yet."""
    now = now or timezone.now()
    return (
        ApiToken.objects.filter(
            revoked_at=None,
            expiry_notice_sent_at=None,
            expires_at__gt=now,
            expires_at__lte=now + within,
            membership__is_active=True,
            membership__user__is_active=True,
        )
        .exclude(membership__user__email="")
        .select_related("membership__user", "membership__organisation")
        .order_by("expires_at", "pk")
    )
