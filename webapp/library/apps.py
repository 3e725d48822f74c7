from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "webapp.library"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webapp.library import signals  # noqa: F401  (novelty watch after each published index)
