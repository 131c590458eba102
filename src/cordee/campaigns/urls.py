from django.urls import path

from cordee.campaigns import offer_views, trigger_views, views

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
    path("<int:pk>/gagnant/", views.campaign_winner_view, name="winner"),
    path("bloc/", views.block_row, name="block_row"),
    path("offres/", offer_views.offer_list, name="offers"),
    path("offres/nouvelle/", offer_views.offer_edit, name="offer_create"),
    path("offres/segments/", offer_views.segment_expose_view, name="offer_segment"),
    path("offres/<int:pk>/", offer_views.offer_detail, name="offer"),
    path("offres/<int:pk>/modifier/", offer_views.offer_edit, name="offer_edit"),
    path("offres/<int:pk>/apercu.html", offer_views.offer_preview_frame, name="offer_preview"),
    path("offres/<int:pk>/approuver/", offer_views.offer_approve_view, name="offer_approve"),
    path("offres/<int:pk>/refuser/", offer_views.offer_refuse_view, name="offer_refuse"),
    path("declencheurs/", trigger_views.trigger_list, name="triggers"),
    path("declencheurs/nouveau/", trigger_views.trigger_edit, name="trigger_create"),
    path("declencheurs/<int:pk>/modifier/", trigger_views.trigger_edit, name="trigger_edit"),
    path("declencheurs/<int:pk>/actif/", trigger_views.trigger_toggle, name="trigger_toggle"),
    # What recipients reach from a message: no sign-in, signed tokens.
    path("m/d/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("m/k/<str:token>/", views.click, name="click"),
    path("m/o/<str:token>.gif", views.open_pixel, name="open"),
    path("m/sms/<str:secret>/", views.sms_inbound_view, name="sms_inbound"),
]
