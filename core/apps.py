from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What both apps share and neither owns (no models)."""

    name = "core"
    verbose_name = "Fairhour core"
