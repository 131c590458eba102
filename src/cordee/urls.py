from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from cordee.campaigns.webhooks import email_webhook
from cordee.core import views as core_views
from cordee.privacy import mfa_views
from cordee.privacy.security import GuardedLoginView

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "connexion/",
        GuardedLoginView.as_view(),
        name="login",
    ),
    path("connexion/code/", mfa_views.mfa_code, name="mfa_code"),
    path("connexion/authentification/", mfa_views.mfa_setup, name="mfa_setup"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch sits in every page's footer, the login page's too.
    path("langue/", login_not_required(set_language), name="set_language"),
    path("sante/", core_views.health, name="health"),
    path("clients/", include("cordee.customers.urls")),
    path("imports/", include("cordee.collect.urls")),
    path("activites/", include("cordee.activities.urls")),
    path("partenaires/", include("cordee.partners.urls")),
    path("confidentialite/", include("cordee.privacy.urls")),
    path("preferences/", include("cordee.privacy.public_urls")),
    path("campagnes/", include("cordee.campaigns.urls")),
    path("segments/", include("cordee.segments.urls")),
    path("api/v1/", include("cordee.api.urls")),
    # Bounces, complaints, unsubscribes from an e-mail provider (CORDEE_EMAIL_PROVIDER).
    path("webhooks/email/<str:name>/", email_webhook, name="email_webhook"),
    path("", include("cordee.channels.urls")),  # f/ forms, c/ cookie endpoint, canaux/
]
