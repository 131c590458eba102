from django.urls import path

from cordee.channels import views_cookies, views_public, views_staff, views_survey

app_name = "channels"
urlpatterns = [
    path("enquete/", views_survey.survey, name="survey"),
    path("f/confirmer/<str:token>/", views_public.confirm, name="confirm"),
    path("f/<slug:slug>/", views_public.form_page, name="form"),
    path("f/<slug:slug>/renvoyer/", views_public.resend, name="resend"),
    path("c/<slug:partner_slug>/config/", views_cookies.banner_config, name="cookie_config"),
    path("c/<slug:partner_slug>/choice/", views_cookies.choice, name="cookie_choice"),
    path("c/<slug:partner_slug>/view/", views_cookies.page_view, name="page_view"),
    path("canaux/", views_staff.channel_list, name="list"),
    path("canaux/formulaires/nouveau/", views_staff.form_new, name="form_new"),
    path("canaux/formulaires/<slug:slug>/", views_staff.form_detail, name="form_detail"),
    path("canaux/sites/nouveau/", views_staff.origin_new, name="origin_new"),
    path("canaux/webhooks/nouveau/", views_staff.webhook_new, name="webhook_new"),
    path("canaux/webhooks/<int:pk>/", views_staff.webhook_detail, name="webhook_detail"),
]
