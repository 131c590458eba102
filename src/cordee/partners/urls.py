from django.urls import path

from cordee.partners import views

app_name = "partners"
urlpatterns = [
    path("", views.partner_list, name="list"),
    path("nouveau/", views.partner_new, name="new"),
    path("<slug:slug>/", views.partner_detail, name="detail"),
    path("<slug:slug>/modifier/", views.partner_edit, name="edit"),
    path("<slug:slug>/utilisateurs/", views.user_add, name="user_add"),
]
