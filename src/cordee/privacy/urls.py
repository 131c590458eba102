from django.urls import path

from cordee.privacy import views

app_name = "privacy"
urlpatterns = [
    path("registre/", views.register_page, name="register"),
    path("registre/export.<str:fmt>", views.register_export, name="register_export"),
]
