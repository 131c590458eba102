from django.urls import path

from cordee.collect import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("nouveau/", views.import_new, name="new"),
    path("<int:batch_id>/", views.import_detail, name="detail"),
    path("<int:batch_id>/lancer/", views.import_confirm, name="confirm"),
    path("<int:batch_id>/rejets.csv", views.import_rejects_csv, name="rejects"),
]
