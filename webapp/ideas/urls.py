from django.urls import path, re_path

from webapp.ideas import views

urlpatterns = [
    path("inspire/", views.inspire, name="inspire"),
    path("ideas/", views.idea_run_list, name="idea-runs"),
    path("ideas/<int:run_id>/", views.idea_run_detail, name="idea-run"),
    path("ideas/<int:run_id>/progress", views.idea_run_progress, name="idea-run-progress"),
    re_path(r"^ideas/(?P<run_id>\d+)/export\.(?P<fmt>md|json)$", views.idea_run_export, name="idea-run-export"),
]
