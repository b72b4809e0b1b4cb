from django.conf import settings
from django.utils.functional import SimpleLazyObject


def locus(request):
    """What the layout needs on every page: the place, the switcher, demo mode."""
    from locus.accounts.selectors import user_contexts

    user = getattr(request, "user", None)
    contexts = []
    if user is not None and user.is_authenticated:
        # Lazy: only pages that render the switcher pay for its queries.
        contexts = SimpleLazyObject(lambda: user_contexts(user=user))
    membership = getattr(request, "membership", None)
    capabilities = set()
    public_insights_only = False
    if membership is not None:
        from locus.accounts.policies import (
            membership_capabilities,
            membership_reads_public_insights_only,
        )

        capabilities = membership_capabilities(membership)
        public_insights_only = membership_reads_public_insights_only(membership)
    return {
        "membership_capabilities": capabilities,
        # A partner's role that reads insights: the navigation offers the open data instead.
        "public_insights_only": public_insights_only,
        "place": getattr(request, "place", None),
        "membership": membership,
        "switch_contexts": contexts,
        "demo_mode": settings.LOCUS_DEMO_MODE,
    }
