"""A supervisor's alerts: listing them and acknowledging them (for the CLI and the web)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from engine.db import Alert, Instance, TaskRow
from engine.errors import Forbidden, NotFound
from engine.escalation import WEBHOOK
from engine.events import log
from engine.runtime import Runtime
from engine.services import user
from process.messages import Text


def alerts(rt: Runtime, login: str | None = None, unacknowledged: bool = False) -> list[dict[str, Any]]:
    """Alerts of one recipient (newest first), or every alert, webhook deliveries included."""
    with rt.uow() as session:
        query = select(Alert, Instance.title, Instance.bidang_code, TaskRow.name, TaskRow.step) \
            .join(Instance, Instance.id == Alert.instance_id) \
            .outerjoin(TaskRow, TaskRow.id == Alert.task_id)
        if login is not None:
            user(session, login)  # an unknown login is an error, not an empty list
            query = query.where(Alert.recipient == login)
        if unacknowledged:
            query = query.where(Alert.acknowledged_at.is_(None), Alert.recipient != WEBHOOK)
        rows = session.execute(query.order_by(Alert.created_at.desc(), Alert.id.desc())).all()
        return [_alert_dict(alert, title, bidang, step_name, step) for alert, title, bidang, step_name, step in rows]


def acknowledge(rt: Runtime, alert_id: int, login: str) -> dict[str, Any]:
    """The recipient marks an alert as read; acknowledging twice changes nothing."""
    with rt.uow() as session:
        user(session, login)
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise NotFound(Text("peringatan %(alert_id)s tidak ditemukan", alert_id=alert_id))
        if alert.recipient != login:
            raise Forbidden(Text("peringatan %(alert_id)s bukan ditujukan kepada %(login)s",
                                 alert_id=alert_id, login=login))
        now = rt.now()
        if alert.acknowledged_at is None and _mark_read(session, alert, now):
            log(session, alert.instance_id, now, "alert_acknowledged", login, alert.step, alert.task_id,
                {"alert_id": alert.id, "level": alert.level})
            session.commit()
        instance = session.get(Instance, alert.instance_id)
        row = session.get(TaskRow, alert.task_id)
        return _alert_dict(alert, instance.title, instance.bidang_code, row.name if row else None,
                           row.step if row else None)


def _mark_read(session, alert: Alert, now: datetime) -> bool:
    """Mark the alert read unless someone did meanwhile (two tabs at once: on PostgreSQL the second
    waits for the first, then matches nothing); either way `alert` then holds the stored time."""
    marked = session.execute(update(Alert).where(Alert.id == alert.id, Alert.acknowledged_at.is_(None))
                             .values(acknowledged_at=now)).rowcount == 1
    session.refresh(alert)
    return marked


def _alert_dict(alert: Alert, title: str, bidang: str, step_name: str | None, step: int | None) -> dict[str, Any]:
    # The step's number is its task's, beside its name: an activity migrated to a version that
    # renumbers its steps keeps alerts written under the old number.
    return {
        "id": alert.id, "level": alert.level, "recipient": alert.recipient,
        "step": step if step is not None else alert.step,
        "step_name": step_name, "task_id": alert.task_id, "instance_id": alert.instance_id,
        "title": title, "bidang": bidang, "created_at": _iso(alert.created_at), "sent_at": _iso(alert.sent_at),
        "cancelled_at": _iso(alert.cancelled_at), "acknowledged_at": _iso(alert.acknowledged_at),
        "attempts": alert.attempts, "last_error": alert.last_error,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
