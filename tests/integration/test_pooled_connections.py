"""PostgreSQL: a pooled connection cut while idle (a server restart) is replaced, not used;
one lent to a read in autocommit comes back transactional.

engine/db.py pings a connection at checkout only when it sat idle in the
pool; these tests cut every connection of the database the way a restart
does, then give a command.
"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from engine import db, services
from tests.conftest import POSTGRES_URL, fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_rt(tmp_path, clock):
    url = fresh_database("postgresql", tmp_path)
    from engine import bootstrap
    from engine.config import Settings
    from engine.runtime import Runtime
    rt = Runtime(Settings.from_env(database_url=url, data_dir=tmp_path / "data"), clock=clock)
    bootstrap.init(rt, demo=True)
    yield rt
    rt.dispose()


def _cut_every_connection() -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    admin.dispose()


def test_an_idle_connection_cut_by_the_server_is_replaced(pg_rt, monkeypatch):
    services.start(pg_rt, "monev_kegiatan_bidang", "aptika", "Sebelum", None)  # a connection is pooled
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # it has been idle long enough
    _cut_every_connection()
    instance_id = services.start(pg_rt, "monev_kegiatan_bidang", "aptika", "Sesudah", None)
    assert services.show(pg_rt, instance_id)["title"] == "Sesudah"


def test_without_the_ping_the_cut_connection_fails_the_command(pg_rt, monkeypatch):
    # The other side of the test above: it is the ping that saves the command.
    services.start(pg_rt, "monev_kegiatan_bidang", "aptika", "Sebelum", None)
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", float("inf"))
    _cut_every_connection()
    with pytest.raises(OperationalError):
        services.start(pg_rt, "monev_kegiatan_bidang", "aptika", "Sesudah", None)


def test_the_token_check_reads_in_autocommit_and_its_connection_comes_back_transactional(pg_rt):
    # Runtime.reading saves the BEGIN and ROLLBACK round trips of the API
    # token check; a pooled connection left in autocommit would make every
    # later command on it commit statement by statement.
    with pg_rt.reading() as connection:
        dbapi = connection.connection.dbapi_connection
        assert dbapi.autocommit
        assert connection.execute(text("SELECT count(*) FROM user_account")).scalar() > 0
    assert dbapi.autocommit is False
    with pg_rt.engine.connect() as again:
        assert again.connection.dbapi_connection is dbapi  # the pool lends it out next
        again.execute(text("SELECT 1"))
        assert again.in_transaction() and dbapi.info.transaction_status == dbapi.info.transaction_status.INTRANS
