from django.urls import path

from cordee.privacy import desk, views

app_name = "privacy"
urlpatterns = [
    path("registre/", views.register_page, name="register"),
    path("registre/export.<str:fmt>", views.register_export, name="register_export"),
    path("demandes/", desk.request_list, name="requests"),
    path("demandes/<int:request_id>/", desk.request_detail, name="request"),
    path("demandes/<int:request_id>/donnees.<str:fmt>", desk.request_export, name="request_export"),
    path("violations/", desk.breach_list, name="breaches"),
    path("violations/export.csv", desk.breach_export, name="breaches_export"),
    path("journal/", desk.audit_trail, name="audit"),
    path("journal/export.csv", desk.audit_export, name="audit_export"),
    path("conservation/", desk.purge_page, name="purge"),
]
