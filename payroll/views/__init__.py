"""Web pages of pay, one module per subdomain; routed from payroll/web_urls.py.

Thin like the API views: reads through the role-scoped selectors (so another person's
timesheet or invoice is a 404), writes through the services, whose refusals are shown in
the API's words.
"""
