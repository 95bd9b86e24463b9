"""A real server on 127.0.0.1 with demo data, driven by Debian's headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from appeals.db import make_engine, make_session_factory
from appeals.policies import DEFAULT_POLICIES
from merchant_portal import create_app
from tests.conftest import fresh_database, make_config, require

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, object]) -> dict[str, object]:
    require(os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing: apt-get install chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def cjk_font() -> None:
    """Chinese must render as glyphs, not boxes: a CJK font has to be installed."""
    fc_list = shutil.which("fc-list")
    fonts = (
        subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False).stdout
        if fc_list
        else ""
    )
    require(bool(fonts.strip()), "no CJK font installed: apt-get install fonts-wqy-microhei")


@pytest.fixture(scope="session")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from merchant_portal.demo import load_demo

    folder = tmp_path_factory.mktemp("live")
    with fresh_database(folder) as url:
        engine = make_engine(url)
        from appeals import migrate

        migrate.upgrade(engine)
        with make_session_factory(engine)() as session:
            from appeals import passwords

            passwords.use_profile("cheapest")
            load_demo(session, DEFAULT_POLICIES)
            session.commit()
        engine.dispose()
        # A real server builds bundles and reads pictures the default way: in background
        # threads.
        app = create_app(
            make_config(folder, DATABASE_URL=url, TESTING=False, BUNDLE_QUEUE="thread",
                        READ_EVIDENCE=True)
        )  # fmt: skip
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(5)
            app.config["DATABASE_ENGINE"].dispose()


@pytest.fixture
def shots(output_path: str) -> Path:
    """Where this test's screenshots go (under pytest-playwright's --output folder)."""
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
