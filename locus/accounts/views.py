from allauth.mfa.base import views as mfa_views
from allauth.mfa.recovery_codes import views as recovery_codes_views
from allauth.mfa.totp import views as totp_views
from allauth.mfa.webauthn import views as webauthn_views
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from locus.core.errors import ApplicationError, error_page
from locus.places.selectors import place_get_by_slug

from . import selectors, services
from .adapters import password_just_typed
from .choices import ROLE_DESCRIPTIONS, Role
from .decorators import SESSION_ORG_KEY, staff_view
from .forms import AcceptInvitationForm, InvitationForm, RoleForm, SwitchForm, TokenForm
from .policies import Capability, role_requires_mfa


def _add_errors(form, exc):
    """Show an application error next to its fields (or at the top of the form)."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, msgs in exc.fields.items():
        for message in msgs:
            form.add_error(field if field in form.fields else None, message)


def local_next(request):
    """The page the person was going to (`next`, from the form or the address), only if it is a
    path on this site: a link from elsewhere cannot send them to another host afterwards."""
    value = request.POST.get("next") or request.GET.get("next") or ""
    if value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return value
    return None


def _with_next(url, next_url):
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class KeepNextMixin:
    """An allauth two-factor set-up form that keeps the page the person was going to. The staff
    pages and the platform administration send people to set it up with `next`; allauth drops
    it when the form is sent and shows the new recovery codes, whose "Continue" then led to the
    workspaces page instead of back to /admin/ or the staff page asked for."""

    url_name = None  # the form's own address

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = local_next(self.request)
        context["form_action"] = _with_next(reverse(self.url_name), next_url)
        # The header's "Security" link: choosing another kind of second factor there keeps it.
        context["security_url"] = _with_next(reverse("mfa_index"), next_url)
        return context

    def get_success_url(self):
        url = super().get_success_url()
        next_url = local_next(self.request)
        if next_url and url != reverse("mfa_view_recovery_codes"):
            return next_url  # no new recovery codes to show: straight on
        return _with_next(url, next_url)


class ActivateTotpView(KeepNextMixin, totp_views.ActivateTOTPView):
    """allauth's authenticator-app set-up, keeping `next`."""

    url_name = "mfa_activate_totp"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["add_webauthn_url"] = _with_next(
            reverse("mfa_add_webauthn"), local_next(self.request)
        )
        return context


class AddWebAuthnView(KeepNextMixin, webauthn_views.AddWebAuthnView):
    """allauth's security-key set-up (the other way to meet the two-factor requirement),
    keeping `next` as the authenticator app's does."""

    url_name = "mfa_add_webauthn"


class SecurityView(mfa_views.IndexView):
    """allauth's Security page: its links to set up an authenticator app or add a security key
    carry `next`, so a person sent to set up two-factor authentication who chooses a security
    key here still lands back on the page asked for."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = local_next(self.request)
        context["security_url"] = _with_next(reverse("mfa_index"), next_url)
        context["activate_totp_url"] = _with_next(reverse("mfa_activate_totp"), next_url)
        context["add_webauthn_url"] = _with_next(reverse("mfa_add_webauthn"), next_url)
        return context


class RecoveryCodesView(recovery_codes_views.ViewRecoveryCodesView):
    """allauth's recovery codes, with a way on to where the person was going (else their
    workspaces)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = local_next(self.request)
        context["continue_url"] = next_url or reverse("accounts:home")
        context["continue_to_admin"] = bool(next_url) and next_url.startswith(
            reverse("admin:index")
        )
        return context


activate_totp = ActivateTotpView.as_view()
add_webauthn = AddWebAuthnView.as_view()
security = SecurityView.as_view()
view_recovery_codes = RecoveryCodesView.as_view()


@login_required
def home(request):
    """After sign-in: straight to the only workspace, or a choice between several."""
    contexts = selectors.user_contexts(user=request.user)
    networks = list(selectors.network_memberships(user=request.user))
    if len(contexts) == 1 and not networks:
        membership, place = contexts[0]
        request.session[SESSION_ORG_KEY] = membership.organisation_id
        return redirect("places:staff_home", place_slug=place.slug)
    return render(request, "accounts/home.html", {"contexts": contexts, "networks": networks})


@login_required
@require_POST
def switch(request):
    """Switch to another organisation and place the user belongs to."""
    form = SwitchForm(request.POST)
    if not form.is_valid():
        return redirect("accounts:home")
    place = place_get_by_slug(form.cleaned_data["place"])
    if place is None:
        raise Http404
    for membership, ctx_place in selectors.user_contexts(user=request.user):
        if membership.pk == form.cleaned_data["membership"] and ctx_place.pk == place.pk:
            request.session[SESSION_ORG_KEY] = membership.organisation_id
            return redirect("places:staff_home", place_slug=place.slug)
    raise Http404


@staff_view(Capability.MANAGE_MEMBERS)
def members(request):
    membership = request.membership
    form = InvitationForm(request.POST or None)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            _invitation, link = services.invitation_create(
                actor_membership=membership,
                place=request.place,
                accept_url_builder=lambda secret: request.build_absolute_uri(
                    reverse("accounts:invitation_accept", args=[secret])
                ),
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
            form = InvitationForm()
    context = {
        "form": form,
        "link": link,
        "members": selectors.organisation_members(organisation=membership.organisation),
        "invitations": selectors.pending_invitations(organisation=membership.organisation),
        "role_form": RoleForm(),
        "role_guide": [(label, ROLE_DESCRIPTIONS[role]) for role, label in Role.choices],
    }
    return render(request, "accounts/members.html", context, status=422 if form.errors else 200)


@staff_view(Capability.MANAGE_MEMBERS)
@require_POST
def member_role(request, membership_id):
    target = selectors.access_membership(
        organisation=request.membership.organisation, membership_id=membership_id
    )
    if target is None:
        raise Http404
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(
                actor_membership=request.membership,
                membership=target,
                role=form.cleaned_data["role"],
                place=request.place,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role of %(user)s changed.") % {"user": target.user})
    else:
        messages.error(request, _("Choose a valid role."))
    return redirect("accounts:members", place_slug=request.place.slug)


@staff_view(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_withdraw(request, invitation_id):
    invitation = selectors.access_pending_invitation(
        organisation=request.membership.organisation, invitation_id=invitation_id
    )
    if invitation is None:
        raise Http404
    services.invitation_withdraw(
        actor_membership=request.membership, invitation=invitation, place=request.place
    )
    messages.success(
        request,
        _("The invitation to %(email)s is withdrawn; its link no longer works.")
        % {"email": invitation.email},
    )
    return redirect("accounts:members", place_slug=request.place.slug)


@staff_view(Capability.USE_API)
def tokens(request):
    form = TokenForm(request.POST or None)
    secret = new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token, secret = services.token_create(
                membership=request.membership,
                name=form.cleaned_data["name"],
                lifetime_days=form.cleaned_data["lifetime"],
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            form = TokenForm()
    tokens = list(selectors.token_list(membership=request.membership))
    context = {
        "form": form,
        "secret": secret,
        "new_token": new_token,
        "tokens": tokens,
        "expiring_soon": [t for t in tokens if t.is_active and t.expires_soon],
    }
    return render(request, "accounts/tokens.html", context, status=422 if form.errors else 200)


@staff_view(Capability.USE_API)
@require_POST
def token_revoke(request, token_id):
    token = selectors.token_list(membership=request.membership).filter(pk=token_id).first()
    if token is None:
        raise Http404
    services.token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:tokens", place_slug=request.place.slug)


def invitation_accept(request, secret):
    invitation = selectors.invitation_by_secret(secret=secret)
    if invitation is None:
        raise Http404
    if not invitation.is_pending:
        return error_page(
            request, "accounts/invitation_closed.html", {"invitation": invitation}, status=410
        )
    user = request.user if request.user.is_authenticated else None
    form = None if user else AcceptInvitationForm(request.POST or None, email=invitation.email)
    error = None
    if request.method == "POST" and (user or form.is_valid()):
        try:
            if user:
                services.invitation_accept(invitation=invitation, user=user)
            else:
                services.invitation_accept(
                    invitation=invitation,
                    password=form.cleaned_data["password1"],
                    name=form.cleaned_data["name"],
                )
        except ApplicationError as exc:
            if form is None:
                error = exc.message
            else:  # above the form and in the error summary, with what was typed
                _add_errors(form, exc)
        else:
            if user is None:
                new_user = selectors.invitation_by_secret(secret=secret).accepted_by
                login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
                # They chose their password on this page: setting up two-factor authentication
                # next does not ask for it again.
                password_just_typed(request, new_user)
            request.session[SESSION_ORG_KEY] = invitation.organisation_id
            messages.success(request, _("Welcome to %(org)s.") % {"org": invitation.organisation})
            return redirect("accounts:home")
    status = 422 if (error or (form is not None and form.errors)) else 200
    # Its expiry at the local time of the place the organisation works in, as in the e-mail.
    with timezone.override(selectors.organisation_zone(organisation=invitation.organisation)):
        return render(
            request,
            "accounts/invitation_accept.html",
            {
                "invitation": invitation,
                "form": form,
                "error": error,
                "needs_mfa": role_requires_mfa(invitation.role),
            },
            status=status,
        )
