"""The database as other processes reach it: a URL for a worker or server we start."""

from typing import Any
from urllib.parse import quote


def database_url(settings_dict: dict[str, Any]) -> str:
    """DATABASE_URL of a connection's settings (`connection.settings_dict`), TCP or Unix socket."""
    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
    host, name = str(settings_dict["HOST"] or ""), quote(settings_dict["NAME"])
    if host.startswith("/"):  # a Unix socket's folder, as the embedded server has
        return f"postgresql://{user}{password}@/{name}?host={quote(host)}"
    return f"postgresql://{user}{password}@{host or 'localhost'}:{settings_dict['PORT'] or 5432}/{name}"
