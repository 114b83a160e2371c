"""Fairhour project wiring: settings, urls, Celery app, error handling."""

from config.celery_app import app as celery_app

__all__ = ("celery_app",)
