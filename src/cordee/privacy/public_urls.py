"""The visitor's preference centre, outside the staff's pages (no account, signed links)."""

from django.urls import path

from cordee.privacy import public

urlpatterns = [
    path("", public.preferences_page, name="preferences"),
    path("finalite/<slug:slug>/", public.preferences_toggle, name="preferences_toggle"),
    path("mes-donnees.<str:fmt>", public.preferences_data, name="preferences_data"),
    path("demande/", public.preferences_ask, name="preferences_ask"),
    path("identite/", public.identity_confirm_page, name="identity_confirm"),
]
