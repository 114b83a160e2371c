"""Writes of the trainers app, one module per subdomain."""
