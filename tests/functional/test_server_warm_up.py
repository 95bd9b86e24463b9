"""A server worker compiles its pages and loads both languages before its first request."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from PIL import Image


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


def test_a_worker_starts_with_an_upload_sandbox_that_the_first_upload_takes(
    app: Flask, tmp_path: Path
) -> None:
    from evidence import inspect as sandboxes
    from merchant_portal.server import warm_up

    sandboxes._forks.close()  # none left over from earlier tests
    warm_up(app)
    ready = [server.pid for server in sandboxes._forks._idle if server.poll() is None]
    assert len(ready) == 1

    picture = tmp_path / "receipt.png"
    Image.new("RGB", (40, 30), "white").save(picture)
    found = sandboxes.inspect(picture, "image/png", tmp_path / "out", sandboxes.InspectLimits())

    assert found.width == 40
    assert [server.pid for server in sandboxes._forks._idle] == ready  # the same one, kept


def test_a_worker_sets_what_its_start_made_aside_from_the_garbage_collector(app: Flask) -> None:
    # A full collection walked every object the start made, inside some request.
    import gc

    from merchant_portal.server import warm_up

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        warm_up(app)
        assert gc.get_freeze_count() > 50_000  # the app, its templates and its libraries
        assert len(gc.get_objects()) < gc.get_freeze_count() / 10
    finally:
        gc.unfreeze()
