from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "webapp.papers"
    label = "papers"
    verbose_name = "Papers and their ideation-space data"
