from django.apps import AppConfig


class IdeasConfig(AppConfig):
    name = "webapp.ideas"
    default_auto_field = "django.db.models.BigAutoField"
