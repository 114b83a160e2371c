from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """`manage.py benchmark`: measured scenarios, never imported by the apps."""

    name = "benchmarks"
