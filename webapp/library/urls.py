from django.urls import path

from webapp.library import views

urlpatterns = [
]
