"""What happens when a step overruns its standard time.

Level 1: when the step's deadline timer fires (inside `Run.save`), the step is
marked overdue, its supervisors get an alert row, and a "second_level" timer
row is written. Level 2: when that timer comes due and the step is still
open, the head of office gets an alert row, even when level 1 already went
to them (a Sekretaris-lane step, or a fallback): level 2 says something new,
that the step is still open a whole further period later. Alert rows are the
outbox that `engine.notify` delivers; completing the step cancels what was
not sent yet.

Everything here runs inside the caller's transaction: an escalation is
written together with the state change that caused it, or not at all.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import accounts
from engine.db import Alert, Event, Instance, Membership, TaskRow, Timer, User
from engine.escalation_config import LEVELS, Recipient
from engine.events import log
from engine.permissions import role_name, sees_all_bidang
from process.definition import SCOPE_BIDANG, SCOPE_OFFICE, Step
from process.messages import Text
from process.mutu_baku import MutuBaku, Unit

SECOND_LEVEL = "second_level"
# The outbox row that carries an escalation to the webhook. "#" cannot start a
# login, so it never collides with a person's alert.
WEBHOOK = "#webhook"
# Who is alerted when no level finds anyone active (see `supervisors`).
LAST_RESORT = Recipient("admin", SCOPE_OFFICE)

logger = logging.getLogger("alur.escalation")

# The last error of an alert whose send began and whose outcome is not recorded (yet, or ever: the
# sender stopped; engine.notify). Such an alert may have reached its recipient: it is not cancelled.
SEND_BEGUN = "pengiriman dimulai tetapi hasilnya tidak tercatat (proses pengirim berhenti); tidak dikirim ulang"


def step_overdue(rt, session: Session, instance: Instance, row: TaskRow, step: Step, now: datetime) -> None:
    """Level 1: mark the step overdue, alert its supervisors, plan level 2.

    The mark leaves the task's row_version alone: that version is what a
    user's open form or an API client sends back, and the deadline passing
    changes nothing they hold, so a step completed late must not be refused
    as changed meanwhile. A completion racing this command still loses on
    the instance's version, which both of them move.
    """
    tasks = TaskRow.__table__
    session.connection().execute(update(tasks).where(tasks.c.id == row.id).values(overdue=True))
    set_committed_value(row, "overdue", True)
    log(session, instance.id, now, "overdue", step=row.step, task_id=row.id,
        data={"due_at": row.due_at.isoformat() if row.due_at else None, "mutu_baku": str(step.mutu_baku)})
    escalate(rt, session, instance, row, 1, now)
    deadline = row.due_at or now
    session.add(Timer(instance_id=instance.id, task_id=row.id, spiff_timer_id=None, kind=SECOND_LEVEL,
                      due_at=second_level_due(rt, step, deadline)))


def second_level_due(rt, step: Step, deadline: datetime) -> datetime:
    """The deadline plus delay_factor x the standard time, counted with the office calendar."""
    mutu = scaled(step.mutu_baku, rt.escalation.second_level_factor)
    return rt.calendar.due(deadline, mutu, rt.calendar.rule(step.counting))


def scaled(mutu: MutuBaku, factor: float) -> MutuBaku:
    """A standard time times a factor, in whole units the calendar can count (at least one)."""
    if factor == 1:
        return mutu
    if mutu.unit is Unit.HARI:
        return MutuBaku(max(1, round(mutu.amount * factor)), Unit.HARI, mutu.working)
    # Minutes keep the precision a factor such as 0.5 x 1 Jam needs.
    return MutuBaku(max(1, round(mutu.minutes * factor)), Unit.MENIT, mutu.working)


def fire_second_level(rt, session: Session, timer_id: int, now: datetime) -> bool:
    """Level 2 for one due timer row; False if there was nothing (left) to do.

    The timer row is locked first (PostgreSQL), so a completion of the step
    running at the same time either deletes the timer before us (we see no
    row) or waits for us and then cancels the alerts we wrote.
    """
    timer = session.get(Timer, timer_id, with_for_update=True)
    if timer is None or timer.fired_at is not None:
        return False
    row = session.get(TaskRow, timer.task_id)
    if row is None or row.state != "open":
        session.delete(timer)  # a leftover of a finished step; nothing to tell anyone
        return False
    timer.fired_at = now
    escalate(rt, session, session.get(Instance, timer.instance_id), row, 2, now)
    return True


def escalate(rt, session: Session, instance: Instance, row: TaskRow, level: int, now: datetime) -> list[str]:
    """Write the alert rows of one escalation level and log it; returns the recipients' logins."""
    logins, data = supervisors(rt, session, instance, row, level)
    targets = logins + ([WEBHOOK] if rt.escalation.webhook.url else [])
    for login in targets:
        session.add(Alert(instance_id=instance.id, task_id=row.id, step=row.step, level=level, recipient=login,
                          created_at=now, attempts=0, next_attempt_at=now))
    log(session, instance.id, now, "escalated", step=row.step, task_id=row.id,
        data={**data, "recipients": logins, "due_at": row.due_at.isoformat() if row.due_at else None})
    return logins


def _scope(row: TaskRow) -> str:
    return SCOPE_OFFICE if row.bidang_code is None else SCOPE_BIDANG


def _rules(rt, row: TaskRow) -> list[Recipient]:
    """Every level's recipient rules for the step's lane, each once, in level order."""
    rules: list[Recipient] = []
    for level in LEVELS:
        rules += [rule for rule in rt.escalation.recipients(level, _scope(row)) if rule not in rules]
    return rules


def oversees(rt, account, row: TaskRow) -> bool:
    """Whether the account is among the supervisors a late step of this lane alerts, at any level:
    the ones who may hand the step to someone else. (A Kepala Bidang oversees the Bidang's lanes,
    not the Sekretaris's, which the office's rules give to the Kepala Dinas.)"""
    return any(rule.role in account.role_names
               and (rule.within != SCOPE_BIDANG or account.bidang_code == row.instance_bidang)
               for rule in _rules(rt, row))


def supervising_roles(rt) -> frozenset[str]:
    """The roles the escalation rules name at any level, for any lane: the supervisors, whom the
    Pengawasan page is for. (Not the administrators alerted as the last resort: they mend
    accounts, they do not oversee steps.)"""
    return frozenset(rule.role for _, rule in rt.escalation.rules())


def lanes_overseen_office_wide(rt, account) -> frozenset[str]:
    """The lane scopes for which a rule names one of the account's roles `within: office`:
    their late steps in every Bidang are the account's to oversee."""
    return frozenset(scope for scope, rule in rt.escalation.rules()
                     if rule.within == SCOPE_OFFICE and rule.role in account.role_names)


def sees_every_bidang(rt, account) -> bool:
    """Whether the account may look at every Bidang's activities: the office-wide roles, and the
    supervisors a rule names `within: office` (alerted of late steps in every Bidang)."""
    return sees_all_bidang(account) or bool(lanes_overseen_office_wide(rt, account))


def overseers(rt, session: Session, row: TaskRow) -> Text | str:
    """Who `oversees` the step, in words: "Kepala Bidang (Bidang Aplikasi Informatika) atau Kepala Dinas".
    The Bidang by its name, as staff know it, not its code."""
    rules = _rules(rt, row)
    bidang = row.instance_bidang
    if any(rule.within == SCOPE_BIDANG for rule in rules):
        bidang = accounts.bidang_name(session, bidang)
    names = [Text("%(role)s (%(bidang)s)", role=role_name(rule.role), bidang=bidang)
             if rule.within == SCOPE_BIDANG else role_name(rule.role) for rule in rules]
    if not names:  # levels left empty in escalation.yaml: nobody oversees the lane
        return Text("pengawas yang disebut aturan eskalasi")
    said = names[-1]
    for name in reversed(names[:-1]):
        said = Text("%(one)s atau %(other)s", one=name, other=said)
    return said


def supervisors(rt, session: Session, instance: Instance, row: TaskRow, level: int) -> tuple[list[str], dict]:
    """The logins a level names, and the data its log entry starts with.

    A level whose rules find nobody active (a Bidang whose Kepala Bidang post
    is empty, or whose holder was deactivated) goes to the next level's
    recipients at once, so a late step is never escalated to nobody; the
    log says so with `fallback_level`. When no level finds anyone, the
    administrators are the last resort.
    """
    scope = _scope(row)
    logins = recipients(session, rt.escalation.recipients(level, scope), instance.bidang_code)
    data: dict = {"level": level}
    for higher in range(level + 1, max(LEVELS) + 1):
        if logins:
            break
        logins = recipients(session, rt.escalation.recipients(higher, scope), instance.bidang_code)
        data["fallback_level"] = higher
    if not logins:
        logins = last_resort(session, instance, row)
        data["last_resort"] = LAST_RESORT.role
    return logins, data


def roles_sought(rt, row: TaskRow, level: int) -> tuple[str, ...]:
    """The roles a level looks for (with the levels it falls back to), each once: the posts found
    empty when that level reached the last resort (`supervisors`)."""
    roles: list[str] = []
    for higher in range(level, max(LEVELS) + 1):
        roles += [rule.role for rule in rt.escalation.recipients(higher, _scope(row)) if rule.role not in roles]
    return tuple(roles)


def last_resort(session: Session, instance: Instance, row: TaskRow) -> list[str]:
    """The active administrators, for a late step that no level's rules find anyone for.

    Nobody holds a supervising post, not even a Kepala Dinas. The
    administrators are told instead: the gap is in the user accounts, which
    only they can mend (activate a Kepala Dinas or appoint an acting one),
    and a late step must not pass unnoticed meanwhile. The caller's log entry
    says `last_resort`, so the escalation stays visible in the event log even
    when there is no administrator either.
    """
    logins = recipients(session, (LAST_RESORT,), instance.bidang_code)
    if not logins:
        logger.warning("instance %s, step %s is late and no active user can be alerted", instance.id, row.step)
    return logins


def reached_last_resort(session: Session, task_id: str, level: int) -> bool:
    """Whether this level of the step's escalation went to the administrators (its log entry says so)."""
    entries = session.scalars(select(Event.data).where(Event.task_id == task_id, Event.kind == "escalated"))
    return any(data.get("level") == level and "last_resort" in data for data in entries)


def recipients(session: Session, rules: tuple[Recipient, ...], bidang: str) -> list[str]:
    """Logins of the active users that the rules name, each once, sorted."""
    found: set[str] = set()
    for rule in rules:
        query = select(User.login).join(Membership, Membership.user_id == User.id) \
            .where(Membership.role == rule.role, User.active.is_(True))
        if rule.within == SCOPE_BIDANG:
            query = query.where(User.bidang_code == bidang)
        found.update(session.scalars(query))
    return sorted(found)


def cancel_pending_alerts(session: Session, task_id: str, now: datetime) -> None:
    """A step completed in the meantime: its unsent alerts are not sent (and the log says so). One
    on its way to the mail server is left to its outcome (engine.notify cancels it if it fails)."""
    cancelled = session.execute(
        update(Alert)
        .where(Alert.task_id == task_id, Alert.sent_at.is_(None), Alert.cancelled_at.is_(None),
               or_(Alert.last_error.is_(None), Alert.last_error != SEND_BEGUN))
        # No next attempt: the row also leaves the outbox index range.
        .values(cancelled_at=now, next_attempt_at=None)
        .returning(Alert.id, Alert.instance_id, Alert.step)
    ).all()
    if cancelled:
        log(session, cancelled[0].instance_id, now, "alerts_cancelled", step=cancelled[0].step, task_id=task_id,
            data={"alerts": sorted(row.id for row in cancelled)})
