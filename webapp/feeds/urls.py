from django.urls import path

from webapp.feeds import views

urlpatterns = [
    path("feeds/", views.feed_list, name="feeds"),
    path("feeds/new", views.feed_new, name="feed-new"),
    path("feeds/<int:feed_id>/", views.feed_detail, name="feed-detail"),
    path("feeds/<int:feed_id>/edit", views.feed_edit, name="feed-edit"),
    path("feeds/<int:feed_id>/harvest", views.feed_harvest, name="feed-harvest"),
    path("feeds/<int:feed_id>/delete", views.feed_delete, name="feed-delete"),
    path("feeds/harvests/<int:harvest_id>/progress", views.harvest_progress, name="feed-harvest-progress"),
]
