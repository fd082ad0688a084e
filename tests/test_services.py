"""The test set-up itself: on a machine without a PostgreSQL server it starts its own."""

from __future__ import annotations

import _services
import psycopg
import pytest


@pytest.mark.postgres
def test_a_private_postgres_server_starts_and_stops() -> None:
    # What a fresh machine gets when nothing answers on 5432: initdb + pg_ctl on a free port.
    if "cluster" in _services._state:
        pytest.skip("this session already runs a private server")
    port, error = _services._start_local_cluster()
    try:
        if error:
            _services._unavailable(error)
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres") as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
    finally:
        _services._stop_cluster()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=port, user="postgres", connect_timeout=2)
