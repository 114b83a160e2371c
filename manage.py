#!/usr/bin/env python
"""Django's command-line utility for Fairhour."""

import os
import sys


def main() -> None:
    """Run a management command, or say plainly why the settings cannot load."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings now
    except ImproperlyConfigured as error:
        # Django would carry on without settings and fail later with a traceback that
        # hides this reason (e.g. no SECRET_KEY in a fresh checkout with no .env).
        sys.exit(
            f"Fairhour's settings refused to load: {error}\n"
            "In a checkout, `make run` writes a .env for development (DEBUG on)."
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
