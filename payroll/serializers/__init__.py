"""Shapes of the pay API, one module per subdomain; the fields they share are in `fields`."""
