"""Delivering the alert outbox: e-mail through SMTP, and JSON to an optional webhook.

An alert row is the outbox entry. A person's alert is mailed to that person;
a "#webhook" row is POSTed to the configured URL. Delivery:

1. claims due rows (unsent, not cancelled, `next_attempt_at <= now`) with a
   lock owner and expiry, skipping rows another deliverer holds (SKIP LOCKED
   on PostgreSQL), so two deliverers never take the same row;
2. for each row, renews its claim in one statement that also re-checks that
   it is still unsent and not cancelled (a step completed a moment ago is not
   announced), then sends it with no transaction open;
3. records the outcome: sent_at, or the error with the next attempt after an
   exponential back-off. A row is never dropped; a failure only delays it.

At most once: the renewal in step 2 also takes the row out of the outbox
(no next attempt) and notes that a send has begun. If the process dies
between handing the message to the mail server and recording the outcome
(kill -9, power loss), nobody can know whether the mail went out, and the
row is not sent again: a head of office must not get the same escalation
twice. The alert itself is not lost: it stays on the supervisor's page and in
`alur alerts`, with that note as its last error. A failure that is known
(the server refused, the connection broke) is retried as before.

Nothing here raises into the scheduler: a dead mail server costs a failed
attempt per row, nothing else.
"""
from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, format_datetime, parseaddr

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine import alert_text, escalation
from engine.alert_text import AlertFacts
from engine.db import Alert, Bidang, Instance, TaskRow, User
from engine.escalation import WEBHOOK
from engine.escalation_config import Smtp

log = logging.getLogger("alur.notify")

# The last error of a row whose send began but whose outcome was never recorded (see above).
SEND_BEGUN = escalation.SEND_BEGUN
DEFAULT_BATCH = 20
# Covers one send (SMTP timeout 10 s by default): the claim is renewed before each.
DEFAULT_LEASE = timedelta(seconds=120)


def _deliverable(now) -> tuple:
    """Alerts a deliverer may take: unsent, not cancelled, their attempt due, not held by a live claim."""
    return (Alert.sent_at.is_(None), Alert.next_attempt_at <= now, Alert.cancelled_at.is_(None),
            or_(Alert.lock_owner.is_(None), Alert.lock_expires < now))


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


class Undeliverable(Exception):
    """Nothing can be sent for this row (no e-mail address, e-mail turned off); not retried."""


class Deliverer:
    def __init__(self, rt, owner: str, batch: int = DEFAULT_BATCH, lease: timedelta = DEFAULT_LEASE,
                 progress: Callable[[], None] = lambda: None):
        self.rt, self.owner, self.batch, self.lease = rt, owner, batch, lease
        self.progress = progress  # called after each alert: a slow mail server is not a hung scheduler

    def deliver_due(self) -> DeliveryReport:
        report = DeliveryReport()
        claimed = self.claim()
        if not claimed:
            return report
        mailer = Mailer(self.rt.escalation.smtp)
        try:
            for alert_id in claimed:
                self._deliver_one(alert_id, mailer, report)
                self.progress()
        finally:
            mailer.close()
        return report

    def claim(self) -> list[int]:
        if not self.rt.finds_any(select(Alert.id).where(*_deliverable(self.rt.now()))):
            return []
        with self.rt.uow() as session:
            now = self.rt.now()
            ids = list(session.scalars(
                select(Alert.id)
                .where(*_deliverable(now))
                .order_by(Alert.next_attempt_at)
                .limit(self.batch)
                .with_for_update(skip_locked=True)))
            if ids:
                session.execute(update(Alert).where(Alert.id.in_(ids))
                                .values(lock_owner=self.owner, lock_expires=now + self.lease))
                session.commit()
            return ids

    def _deliver_one(self, alert_id: int, mailer: "Mailer", report: DeliveryReport) -> None:
        try:
            if not self._renew(alert_id):
                return  # cancelled, sent, or taken over meanwhile
            send = self._prepare(alert_id)
            send(mailer)
        except Undeliverable as err:
            report.skipped += 1
            self._record(alert_id, error=str(err), retry=False)
        except Exception as err:  # noqa: BLE001 -- any failure only delays this alert
            report.failed += 1
            log.warning("alert %s not delivered: %s", alert_id, err)
            self._record(alert_id, error=f"{type(err).__name__}: {err}", retry=True)
        else:
            report.sent += 1
            self._record(alert_id, error=None, retry=False)

    def _renew(self, alert_id: int) -> bool:
        """Keep the claim and mark the send as begun: from here on the row is never claimed again."""
        with self.rt.uow() as session:
            now = self.rt.now()
            result = session.execute(
                update(Alert)
                .where(Alert.id == alert_id, Alert.lock_owner == self.owner,
                       Alert.sent_at.is_(None), Alert.cancelled_at.is_(None))
                .values(lock_expires=now + self.lease, next_attempt_at=None, last_error=SEND_BEGUN))
            session.commit()
            return result.rowcount == 1

    def _prepare(self, alert_id: int):
        """Read what to send; returns a function that sends it (outside any transaction)."""
        config = self.rt.escalation
        with self.rt.uow() as session:
            alert = session.get(Alert, alert_id)
            if alert.recipient == WEBHOOK:
                if not config.webhook.url:
                    raise Undeliverable("webhook tidak dikonfigurasi")
                payload = alert_text.webhook_payload(self._facts(session, alert), _level_recipients(session, alert))
                return lambda _mailer: post_json(config.webhook.url, payload, config.webhook.timeout)
            if not config.smtp.enabled:
                raise Undeliverable("pengiriman e-mail tidak diaktifkan")
            facts = self._facts(session, alert)
            person = session.execute(select(User.email, User.active).where(User.login == alert.recipient)).first()
        # Deactivated after the alert was written (they left the office): not theirs to read any more.
        if person is not None and not person.active:
            raise Undeliverable(f"akun {alert.recipient} sudah nonaktif")
        if person is None or not person.email:
            raise Undeliverable(f"{alert.recipient} tidak punya alamat e-mail")
        email = person.email
        say = alert_text.speaker(self.rt.catalogue, facts.language)
        message = mail(facts, email, config.smtp, self.rt.calendar.tz, say)
        return lambda mailer: mailer.send(message)

    def _facts(self, session: Session, alert: Alert) -> AlertFacts:
        instance = session.get(Instance, alert.instance_id)
        row = session.get(TaskRow, alert.task_id)
        # By the step's element: an instance moved to a version that renumbers its steps keeps the
        # alert's number, which may then be another step's (or none).
        definition = self.rt.definition_of(instance)[0]
        step = (row and definition.step_for_element(row.element_id)) or definition.step(alert.step)
        bidang = session.get(Bidang, instance.bidang_code)
        person = session.scalars(select(User).where(User.login == alert.recipient)).first()
        last_resort = escalation.reached_last_resort(session, alert.task_id, alert.level)
        return AlertFacts(
            alert_id=alert.id, level=alert.level, recipient=alert.recipient,
            recipient_name=person.name if person else alert.recipient, instance_id=instance.id,
            title=instance.title, bidang=instance.bidang_code, bidang_name=bidang.name if bidang else "",
            step=row.step if row else alert.step, step_name=row.name if row else step.name, lane_name=step.lane.name,
            assignee=row.assignee if row else None, mutu_baku=str(step.mutu_baku),
            due_at=row.due_at if row else None, created_at=alert.created_at,
            last_resort=last_resort,
            vacant=escalation.roles_sought(self.rt, row, alert.level) if last_resort and row else (),
            language=(person.language if person else None) or "id",
        )

    def _record(self, alert_id: int, error: str | None, retry: bool) -> None:
        """The outcome of one attempt; only while we still hold the claim."""
        try:
            with self.rt.uow() as session:
                alert = session.get(Alert, alert_id)
                if alert is None or alert.lock_owner != self.owner:
                    log.warning("alert %s: claim lost before its outcome was recorded", alert_id)
                    return
                now = self.rt.now()
                alert.attempts += 1
                alert.lock_owner = alert.lock_expires = None
                alert.last_error = error[:2000] if error else None
                if error is None:
                    alert.sent_at, alert.next_attempt_at = now, None
                else:
                    alert.next_attempt_at = \
                        now + timedelta(seconds=self.rt.escalation.retry.delay(alert.attempts)) if retry else None
                    if session.get(TaskRow, alert.task_id).state != "open":  # done while this try was on its way
                        session.flush()
                        escalation.cancel_pending_alerts(session, alert.task_id, now)
                session.commit()
        except Exception:  # the claim expires and the row is tried again; never lost
            log.exception("alert %s: outcome not recorded", alert_id)


def _level_recipients(session: Session, alert: Alert) -> list[str]:
    return sorted(session.scalars(select(Alert.recipient).where(
        Alert.task_id == alert.task_id, Alert.level == alert.level, Alert.recipient != WEBHOOK)))


def mail(facts: AlertFacts, email: str, smtp: Smtp, tz, say: alert_text.Speaker) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = formataddr((facts.recipient_name, email))
    message["Subject"] = alert_text.subject(facts, say)
    message["Date"] = format_datetime(facts.created_at)
    domain = parseaddr(smtp.sender)[1].partition("@")[2] or "alur.local"
    # Stable across retries, so a mail client can fold a rare repeat.
    message["Message-ID"] = f"<alur-alert-{facts.alert_id}@{domain}>"
    message["X-Alur-Alert"] = str(facts.alert_id)
    message.set_content(alert_text.body(facts, tz, say))
    return message


class Mailer:
    """One SMTP connection for a batch, opened on first use.

    A connection that cannot be opened fails the rest of the batch at once
    instead of waiting for a timeout per message.
    """

    def __init__(self, config: Smtp):
        self.config = config
        self._conn: smtplib.SMTP | None = None
        self._connect_error: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        conn = self._connection()
        try:
            conn.send_message(message)
        except Exception:
            self.close()  # the next message starts on a fresh connection
            raise

    def _connection(self) -> smtplib.SMTP:
        if self._connect_error is not None:
            raise self._connect_error
        if self._conn is None:
            try:
                conn = smtplib.SMTP(self.config.host, self.config.port, timeout=self.config.timeout)
                if self.config.starttls:
                    # smtplib's own default checks no certificate: the password would go to anyone between.
                    conn.starttls(context=ssl.create_default_context())
                if self.config.username:
                    conn.login(self.config.username, self.config.password or "")
            except Exception as err:
                self._connect_error = err
                raise
            self._conn = conn
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except Exception:  # noqa: BLE001 -- already broken; nothing to tidy
                conn.close()


def post_json(url: str, payload: dict, timeout: float) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Alur"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 -- configured URL
        if not 200 <= response.status < 300:
            raise RuntimeError(f"webhook answered HTTP {response.status}")
