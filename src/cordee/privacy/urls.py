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
    path("violations/<int:breach_id>/personnes/", desk.breach_people, name="breach_people"),
    path(
        "violations/<int:breach_id>/personnes.csv",
        desk.breach_people_export,
        name="breach_people_export",
    ),
    path("violations/<int:breach_id>/informees/", desk.breach_informed, name="breach_informed"),
    path("violations/<int:breach_id>/envoyer/", desk.breach_notify, name="breach_notify"),
    path("journal/", desk.audit_trail, name="audit"),
    path("journal/export.csv", desk.audit_export, name="audit_export"),
    path("conservation/", desk.purge_page, name="purge"),
]
