from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "webapp.maps"
    label = "maps"
    verbose_name = "Field maps: hierarchies of clusters and the gap map"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webapp.maps import signals  # noqa: F401  (a map of the field after each published index)
