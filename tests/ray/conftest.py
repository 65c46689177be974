"""One local Ray for the session (Ray Data is in .venv-ray only: `make ray`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="Ray Data is installed in .venv-ray (make ray)")


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """A local Ray with more logical CPUs than the machine's 2 cores: the actors mostly wait."""
    # Ray starts its workers at nice 15: beside CPU-bound processes they get almost no CPU and
    # a 200-image job took 390 s instead of seconds. The tier measures the adapter, not that.
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("RAY_worker_niceness", "0")
    context: Any = ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()
        monkeypatch.undo()
