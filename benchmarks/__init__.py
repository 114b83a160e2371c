"""`manage.py benchmark`: Fairhour's heavy paths measured on synthetic data.

One module per scenario; `common` holds the scratch database, the clock and the memory
figure they share. Nothing here is imported by the application itself.
"""
