from django.apps import AppConfig


class TrainersConfig(AppConfig):
    """The people and their time: users, teams, workers, projects, sessions."""

    name = "trainers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the `any_of` lookup (long id lists as one array on PostgreSQL)."""
        from trainers import lookups  # noqa: F401 - registers on import
