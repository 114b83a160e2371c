"""Reads of the payroll app, scoped by the caller's role; one module per subdomain."""
