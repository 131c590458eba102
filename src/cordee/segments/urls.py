from django.urls import path

from cordee.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.segment_list, name="list"),
    path("nouveau/", views.segment_builder, name="new"),
    path("apercu/", views.segment_preview, name="preview"),
    path("profil/", views.segment_profile, name="profile"),
    path("fidelite/", views.loyalty_dashboard, name="loyalty"),
    path("<slug:slug>/", views.segment_builder, name="edit"),
    path("<slug:slug>/export.csv", views.segment_export, name="export"),
]
