from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What both apps share and neither owns (no models)."""

    name = "core"
    verbose_name = "Fairhour core"

    def ready(self) -> None:
        """Register the `any_of` lookup (long id lists as one array parameter)."""
        from core.db import lookups  # noqa: F401 - registers on import
