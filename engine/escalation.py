"""What happens when a step overruns its standard time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.db import Alert, Instance, TaskRow
from engine.events import log


def step_overdue(rt, session: Session, instance: Instance, row: TaskRow, step, now: datetime) -> None:
    """Mark the step overdue and record it in the instance's log."""
    row.overdue = True
    log(session, instance.id, now, "overdue", step=row.step, task_id=row.id,
        data={"due_at": row.due_at.isoformat() if row.due_at else None, "mutu_baku": str(step.mutu_baku)})


def cancel_pending_alerts(session: Session, task_id: str, now: datetime) -> None:
    """A step completed in the meantime: its unsent alerts are not sent."""
    session.execute(
        update(Alert)
        .where(Alert.task_id == task_id, Alert.sent_at.is_(None), Alert.cancelled_at.is_(None))
        .values(cancelled_at=now)
    )
