"""Fairhour's routes plus the bare insert endpoint the logging scenario measures against."""

from django.urls import path

from config.urls import urlpatterns as fairhour_urlpatterns
from payroll.benchmarks.bare_insert import bare_insert

urlpatterns = [path("bench/insert/", bare_insert, name="bench-insert"), *fairhour_urlpatterns]
