"""Fairhour's routes plus the bare insert endpoint the logging scenario measures against."""

from django.urls import path

from benchmarks.bare_insert import bare_insert
from config.urls import urlpatterns as fairhour_urlpatterns

urlpatterns = [path("bench/insert/", bare_insert, name="bench-insert"), *fairhour_urlpatterns]
