from django.urls import path

from cordee.activities import views

app_name = "activities"
urlpatterns = [
    path("relances/", views.follow_up_list, name="follow_ups"),
    path("relances/<int:activity_id>/faite/", views.follow_up_mark_done, name="follow_up_done"),
    path("clients/<int:customer_id>/noter/", views.activity_log, name="log"),
    path("clients/<int:customer_id>/relance/", views.follow_up_create, name="follow_up_create"),
    path("clients/<int:customer_id>/carte/", views.card_issue, name="card_issue"),
    path("carte/", views.card_desk, name="card_desk"),
    path("carte/<str:token>/", views.card_page, name="card"),
    path("saisons/", views.season_list, name="seasons"),
]
