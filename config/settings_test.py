"""Settings for the test suite: the real settings with fast hashing and eager Celery.

Integration tests run real workers with the real settings on the same databases.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ["FAIRHOUR_ENV_FILE"] = ""  # never a developer's .env (nor for the workers tests start)

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Generated files (invoice PDFs) stay in memory: the suite writes nothing into the project.
STORAGES["default"] = {"BACKEND": "django.core.files.storage.InMemoryStorage"}  # noqa: F405
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
