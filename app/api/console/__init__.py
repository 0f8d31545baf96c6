"""The office console: server-rendered pages on the same services as the JSON API.

Handlers here only read the request, call a service and render a template; rules live in
``app.services`` (sign-in and CSRF in ``app.services.console_sessions``).
"""
