from django.urls import path, re_path

from webapp.library import views

urlpatterns = [
    path("library/", views.library, name="library"),
    path("library/save", views.paper_save, name="library-save"),
    path("library/collections/new", views.collection_new, name="collection-new"),
    path("library/collections/import", views.collection_import, name="collection-import"),
    path("library/collections/<int:collection_id>/", views.collection_detail, name="collection"),
    path("library/collections/<int:collection_id>/delete", views.collection_delete, name="collection-delete"),
    path("library/collections/<int:collection_id>/remove/<int:paper_id>", views.paper_remove, name="collection-remove"),
    re_path(r"^library/collections/(?P<collection_id>\d+)/export\.(?P<fmt>bib|json)$", views.collection_export,
            name="collection-export"),
    path("library/searches/save", views.search_save, name="search-save"),
    path("library/searches/<int:search_id>/delete", views.search_delete, name="search-delete"),
    path("library/ideas/new", views.idea_new, name="saved-idea-new"),
    path("library/ideas/<int:idea_id>/", views.idea_detail, name="saved-idea"),
    path("library/ideas/<int:idea_id>/delete", views.idea_delete, name="saved-idea-delete"),
    path("library/ideas/<int:idea_id>/watch", views.idea_watch, name="saved-idea-watch"),
    path("digest/", views.digest_page, name="digest"),
    path("digest/settings", views.digest_settings, name="digest-settings"),
    path("digest/unsubscribe/<str:token>/", views.digest_unsubscribe, name="digest-unsubscribe"),
    path("digest/feed/<str:token>.atom", views.DigestFeed(), name="digest-feed"),
]
