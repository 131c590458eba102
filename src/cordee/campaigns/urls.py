from django.urls import path

from cordee.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("nouvelle/", views.campaign_edit, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/modifier/", views.campaign_edit, name="edit"),
    path("<int:pk>/audience/", views.campaign_audience, name="audience"),
    path("<int:pk>/apercu/", views.campaign_preview_page, name="preview"),
    path("<int:pk>/apercu.html", views.campaign_preview_frame, name="preview_frame"),
    path("<int:pk>/test/", views.campaign_test, name="test"),
    path("<int:pk>/envoi/", views.campaign_send_view, name="send"),
    path("bloc/", views.block_row, name="block_row"),
    # What recipients reach from a message: no sign-in, signed tokens.
    path("m/d/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("m/k/<str:token>/", views.click, name="click"),
    path("m/o/<str:token>.gif", views.open_pixel, name="open"),
    path("m/sms/<str:secret>/", views.sms_inbound_view, name="sms_inbound"),
]
