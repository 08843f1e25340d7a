"""Preparing a database: schema, the definitions on disk, and the demo office."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool
from werkzeug.security import generate_password_hash

from engine import schema, services
from engine.db import Bidang, DefinitionVersion, Membership, Setting, User
from engine.runtime import Runtime
from process.loader import load_file

DEMO_PASSWORD = "alur-demo"
DEMO_BIDANG = {
    "sekretariat": "Sekretariat",
    "aptika": "Bidang Aplikasi Informatika",
    "ikp": "Bidang Informasi dan Komunikasi Publik",
    "statistik-persandian": "Bidang Statistik dan Persandian",
}
LANE_ROLES = ("implementasi", "teknis", "administrasi")


# pg_advisory_lock key held by `alur init` (any number other locks do not use; "alur" in ASCII).
INIT_LOCK = 0x616C7572


def init(rt: Runtime, demo: bool = False) -> list[services.Deployed]:
    # One at a time on PostgreSQL: each web host's deployment may run `alur init`, and two creating
    # the same tables at once failed (a duplicate in pg_type), as could two deploying one file.
    # SQLite's single writer already takes them in turn. The lock's connection is none of the pool's.
    if rt.engine.dialect.name != "postgresql":
        return _init(rt, demo)
    locker = create_engine(rt.engine.url, poolclass=NullPool)
    try:
        with locker.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": INIT_LOCK})
            lock.commit()
            return _init(rt, demo)  # the lock goes with its connection
    finally:
        locker.dispose()


def _init(rt: Runtime, demo: bool) -> list[services.Deployed]:
    schema.upgrade(rt.engine)
    if demo:
        seed_demo(rt)
    return deploy_directory(rt, rt.settings.definitions_dir)


def deploy_directory(rt: Runtime, directory: Path, actor: str | None = "alur init") -> list[services.Deployed]:
    """Deploy each definition file that was never deployed before.

    A file whose exact content is already one of the key's versions is
    skipped: once the process owner deployed a newer version from the
    editor, running `alur init` again must not bring the file back on top.
    Nor is a changed file (an upgrade's) put over a newest version someone
    else deployed: it would undo their change unseen (`alur deploy` does it
    on purpose).
    """
    results = []
    for path in sorted(directory.glob("*.bpmn")):
        definition = load_file(path)
        with rt.uow() as session:
            known = session.scalars(select(DefinitionVersion).where(
                DefinitionVersion.key == definition.key,
                DefinitionVersion.content_hash == definition.content_hash,
            ).order_by(DefinitionVersion.version.desc())).first()
            latest = services._latest_version(session, definition.key)
        if known is not None and latest is not None and known.version != latest.version:
            results.append(services.Deployed(definition.key, known.version, False, latest.version))
            continue
        if known is None and latest is not None and latest.deployed_by != actor:
            results.append(services.Deployed(definition.key, latest.version, False, latest.version, True))
            continue
        results.append(services.deploy(rt, definition, actor))
    return results


def demo_users() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(login, name, bidang, roles) of the demo office."""
    users = []
    for code, name in DEMO_BIDANG.items():
        for role in LANE_ROLES:
            users.append((f"{code}.{role}", f"Tim {role.capitalize()} {name}", code, (role,)))
        users.append((f"kepala.{code}", f"Kepala {name}", code, ("kepala",)))
    users += [
        ("sekretaris", "Sekretaris Dinas", "sekretariat", ("sekretaris",)),
        ("kadis", "Kepala Dinas Komunikasi dan Informatika", "sekretariat", ("kadis",)),
        ("pemilik.proses", "Pemilik Proses SOP", "sekretariat", ("pemilik_proses",)),
        ("admin", "Administrator Alur", "sekretariat", ("admin",)),
    ]
    return users


def seed_demo(rt: Runtime) -> None:
    """Create the demo Bidang and users; running it twice changes nothing."""
    password = generate_password_hash(DEMO_PASSWORD)
    with rt.uow() as session:
        for code, name in DEMO_BIDANG.items():
            if session.get(Bidang, code) is None:
                session.add(Bidang(code=code, name=name))
        session.flush()
        existing = set(session.scalars(select(User.login)))
        for login, name, bidang, roles in demo_users():
            if login not in existing:
                session.add(User(login=login, name=name, email=f"{login}@demo.alur.local", password_hash=password,
                                 bidang_code=bidang, active=True, roles=[Membership(role=r) for r in roles]))
        if session.get(Setting, "demo") is None:
            session.add(Setting(key="demo", value="true"))
        session.commit()


def is_demo(rt: Runtime) -> bool:
    with rt.uow() as session:
        setting = session.get(Setting, "demo")
        return setting is not None and setting.value == "true"
