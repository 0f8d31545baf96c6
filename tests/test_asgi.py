"""The served application's module: the garbage collector never walks start-up objects."""

import subprocess
import sys

PROBE = """
import gc
import app.asgi
young = len(gc.get_objects())
print(gc.get_freeze_count(), young)
"""


def test_importing_the_served_app_freezes_what_start_up_built(tmp_path):
    """In a fresh interpreter (freezing the test process's objects would keep them forever)."""
    env = {"MATCHER_DATABASE_URL": f"sqlite:///{tmp_path / 'asgi.db'}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    frozen, still_tracked = (int(n) for n in out.stdout.split()[-2:])
    assert frozen > 100_000  # the application and its libraries
    assert still_tracked < frozen / 20  # a full collection walks only what came after
