"""Writes of the payroll app, one module per subdomain (rates, timesheets, jobs)."""
