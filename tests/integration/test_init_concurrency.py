"""`alur init` run on several hosts at once (each web host's deployment script runs it)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ALUR = Path(sys.executable).parent / "alur"


def test_three_inits_at_once_on_an_empty_database_all_succeed_and_deploy_once(database_url, tmp_path):
    """Two of them failed on PostgreSQL with "duplicate key value violates unique constraint
    pg_type_typname_nsp_index": both created the same tables at the same moment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATA_DIR=str(tmp_path), ALUR_DATABASE_URL=database_url)
    procs = [subprocess.Popen([str(ALUR), "init", "--demo"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [code for code, _out, _err in results] == [0, 0, 0], results
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT key, version FROM definition_version")).all() == \
                [("monev_kegiatan_bidang", 1)]
            assert conn.execute(text("SELECT count(*) FROM user_account WHERE login = 'admin'")).scalar() == 1
    finally:
        engine.dispose()
