from django.urls import path

from cordee.customers import desk_views, review_views, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("nouveau/", desk_views.desk_new, name="desk"),
    path("nouveau/suggestions/", desk_views.desk_suggestions, name="desk_suggestions"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("doublons/", review_views.review_list, name="review"),
    path("doublons/<int:decision_id>/", review_views.review_decide, name="review_decide"),
    path("fusions/<int:event_id>/annuler/", review_views.merge_undo_view, name="merge_undo"),
    path(
        "arrivees/<int:decision_id>/separer/",
        review_views.arrival_undo_view,
        name="arrival_undo",
    ),
]
