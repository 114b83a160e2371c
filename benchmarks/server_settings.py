"""Settings of the benchmark's web server: Fairhour's own, with the benchmark URLconf.

Only `manage.py benchmark --scenario logging` starts a server with these; config/urls.py
never mounts the bare endpoint.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
