"""Password hashing gives way to the pages: it runs on lowered threads of its own."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading

import pytest

from appeals import passwords


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.fixture(autouse=True)
def cheap_hashing() -> None:
    passwords.use_profile("cheapest")


@pytest.mark.skipif(sys.platform != "linux", reason="nice is per thread on Linux only")
def test_hashing_runs_below_the_callers_priority_and_leaves_the_caller_as_it_was() -> None:
    before = _nice()
    stored = passwords.hash_password("correct horse battery")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "wrong horse battery")
    assert passwords.politely(_nice) == min(19, before + 10)
    assert _nice() == before  # the request's own thread keeps serving pages at full priority


def _verify_in_child(stored: str, results: multiprocessing.Queue[bool]) -> None:
    results.put(passwords.verify_password(stored, "correct horse battery"))


def test_a_forked_server_worker_hashes_on_threads_of_its_own() -> None:
    # gunicorn forks its workers: the parent's hashing threads do not exist in the child,
    # which would wait forever on them.
    stored = passwords.hash_password("correct horse battery")
    fork = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[bool] = fork.Queue()
    child = fork.Process(target=_verify_in_child, args=(stored, results))
    child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked process never got its password checked")
    assert child.exitcode == 0
    assert results.get(timeout=5) is True
