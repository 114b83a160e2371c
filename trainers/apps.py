from django.apps import AppConfig


class TrainersConfig(AppConfig):
    """The people and their time: users, teams, workers, projects, sessions."""

    name = "trainers"
    default_auto_field = "django.db.models.BigAutoField"
