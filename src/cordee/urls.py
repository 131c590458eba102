from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from cordee.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch sits in every page's footer, the login page's too.
    path("langue/", login_not_required(set_language), name="set_language"),
    path("sante/", core_views.health, name="health"),
    path("clients/", include("cordee.customers.urls")),
    path("imports/", include("cordee.collect.urls")),
    path("partenaires/", include("cordee.partners.urls")),
    path("confidentialite/", include("cordee.privacy.urls")),
    path("segments/", include("cordee.segments.urls")),
    path("api/v1/", include("cordee.api.urls")),
]
