"""The JSON API under /api/v1: bearer tokens, problem+json errors, an OpenAPI document.

`frame` holds the blueprint and what every endpoint shares; `views` (account, complaints)
and `appeals` add their routes to it, and the app factory imports both to register them.
"""
