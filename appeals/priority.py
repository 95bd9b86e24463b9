"""CPU priority for work that should give way to the pages people are waiting for."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

# Sign-ins: argon2 takes about 0.25 s of CPU over four lanes; pages take 20-40 ms.
HASHING = 10
# The Redis worker (bundle builds, readings, copies): a reviewer polls for a bundle while
# it is built (0.3-0.4 s of CPU), and every page of a web process beside it waited.
BACKGROUND = 5
# Background lanes nobody waits for (fit copies): every cycle nobody else wants.
IDLE = 19


def lower_this_thread(nice: int) -> None:
    """Lower the calling thread alone by `nice` steps. Linux keeps the nice value per
    thread, and threads this one starts (argon2's lanes) inherit it; raising it needs no
    privilege, so a thread lowered once stays lowered. Other systems keep their priority."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            tid = threading.get_native_id()
            current = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(19, current + nice))
