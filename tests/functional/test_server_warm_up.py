"""A server worker compiles its pages and loads both languages before its first request."""

from __future__ import annotations

from flask import Flask


def test_a_worker_starts_with_every_page_compiled(app: Flask) -> None:
    from merchant_portal.server import warm_up

    environment = app.jinja_env
    assert environment.cache is not None
    pages = environment.list_templates(extensions=("html", "txt"))
    assert len(pages) > 20
    environment.cache.clear()

    warm_up(app)

    cached = {name for (_loader, name) in environment.cache}
    assert cached >= set(pages)
