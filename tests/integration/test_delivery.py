"""The alert outbox: real SMTP (aiosmtpd) and webhook servers on 127.0.0.1, a clock tests move."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import accounts
from engine.db import Event, User
from engine.notify import SEND_BEGUN, Deliverer
from engine.scheduler import Scheduler
from tests.integration.sop import do_step
from tests.integration.timer_helpers import (
    ONE_MINUTE, SmtpSink, WebhookSink, alert_rows, configure, free_port, open_row, overdue_instances, start, tick,
    timer_rows,
)


def deliver(rt) -> object:
    return Deliverer(rt, owner="pengirim").deliver_due()


def test_a_dead_mail_server_delays_the_mail_then_each_alert_is_mailed_exactly_once(rt, clock):
    port = free_port()
    configure(rt, smtp_port=port, first_delay=60)
    ids = overdue_instances(rt, clock, 3)

    report = deliver(rt)  # nothing listens on the port yet
    assert (report.sent, report.failed) == (0, 3)
    for alert in alert_rows(rt):
        assert alert.sent_at is None and alert.attempts == 1 and "Connection refused" in alert.last_error
        assert alert.next_attempt_at == clock.now() + timedelta(seconds=60)
    assert deliver(rt).failed == 0  # backing off: not retried at once

    clock.advance(seconds=61)
    assert deliver(rt).failed == 3
    assert {a.next_attempt_at - clock.now() for a in alert_rows(rt)} == {timedelta(seconds=120)}  # doubled

    with SmtpSink(port) as sink:
        clock.advance(seconds=121)
        report = deliver(rt)
        assert (report.sent, report.failed) == (3, 0)
        clock.advance(hours=5)
        assert deliver(rt).sent == 0
        Scheduler(rt).run_pass()  # the scheduler's own delivery finds nothing either
    assert len(sink.messages) == 3
    for alert in alert_rows(rt):
        assert alert.sent_at is not None and alert.attempts == 3 and alert.last_error is None
    recipients, mail = sink.messages[0]
    assert recipients == ["kepala.aptika@demo.alur.local"]
    assert mail["Subject"] == "[Alur] Langkah 1 terlambat: Kegiatan 0"
    text = mail.get_payload(decode=True).decode()
    assert "Yth. Kepala Bidang Aplikasi Informatika" in text and "30 Hari" in text
    assert f"#{ids[0]} Kegiatan 0" in text and "WIB" in text


def test_a_mail_server_down_for_a_thousand_tries_still_gets_the_alert_once_it_is_back(rt, clock):
    """A retry delay of 2**attempts seconds overflowed a float after 1,024 failures (17 hours of a
    dead server at one try a minute): the outcome could not be recorded, and the alert, taken out
    of the outbox while it was sent, was never tried again."""
    from sqlalchemy import update

    from engine.db import Alert
    port = free_port()
    configure(rt, smtp_port=port, first_delay=60.0)  # as escalation.yaml gives it: a float
    overdue_instances(rt, clock, 1)
    with rt.uow() as session:
        session.execute(update(Alert).values(attempts=1100))
        session.commit()
    assert deliver(rt).failed == 1  # nothing listens on the port
    [alert] = alert_rows(rt)
    assert alert.attempts == 1101 and alert.next_attempt_at == clock.now() + timedelta(seconds=3600)
    with SmtpSink(port) as sink:
        clock.advance(hours=1, seconds=1)
        assert deliver(rt).sent == 1
    assert len(sink.messages) == 1


def test_starttls_to_a_mail_server_whose_certificate_cannot_be_verified_sends_nothing(rt, clock, tmp_path,
                                                                                      monkeypatch):
    """STARTTLS took any certificate (smtplib's default context checks none), so whoever sat between
    Alur and the mail server read the SMTP password and every alert. An unverifiable certificate is
    now a failed try, retried as a dead server is (a private CA goes in SSL_CERT_FILE)."""
    import shutil
    import ssl
    import subprocess
    from dataclasses import replace

    from tests.conftest import require_service
    require_service("openssl", shutil.which("openssl") is not None, "apt-get install openssl (makes the certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    port = free_port()
    configure(rt, smtp_port=port)
    rt.escalation = replace(rt.escalation, smtp=replace(rt.escalation.smtp, starttls=True))
    overdue_instances(rt, clock, 1)
    with SmtpSink(port, tls_context=tls, require_starttls=True) as sink:
        report = deliver(rt)
    assert (report.sent, report.failed, sink.messages) == (0, 1, [])
    [alert] = alert_rows(rt)
    assert "CERTIFICATE_VERIFY_FAILED" in alert.last_error and alert.next_attempt_at is not None

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the office trusts its own mail server's certificate
    clock.advance(minutes=2)
    with SmtpSink(port, tls_context=tls, require_starttls=True) as sink:
        assert deliver(rt).sent == 1
    assert len(sink.messages) == 1


def test_an_alert_whose_step_was_completed_before_delivery_is_never_sent(rt, clock):
    port = free_port()
    configure(rt, smtp_port=port)
    [instance_id] = overdue_instances(rt, clock, 1)
    do_step(rt, instance_id, 1)
    with SmtpSink(port) as sink:
        assert deliver(rt).sent == 0
    assert sink.messages == []
    [alert] = alert_rows(rt)
    assert alert.cancelled_at is not None and alert.sent_at is None and alert.attempts == 0


def test_an_alert_mailed_while_its_step_is_completed_is_listed_as_sent_and_a_failed_one_is_not_retried(rt, clock,
                                                                                                         monkeypatch):
    """A step completed while its alert was on its way to the mail server: the completion marked the
    alert cancelled, then the delivery marked it sent. Pengawasan and `alur alerts` said it was not
    sent because the step was done, and the history listed it as cancelled, though the supervisor had
    the mail. A try that fails meanwhile is cancelled then: a retry would mail a step already done."""
    from engine import notify
    port = free_port()
    configure(rt, smtp_port=port)
    sent_id, failed_id = overdue_instances(rt, clock, 2)
    mailer_send = notify.Mailer.send

    def send_as_the_step_is_done(self, message):
        instance_id = sent_id if "Kegiatan 0" in message["Subject"] else failed_id
        do_step(rt, instance_id, 1)
        if instance_id == failed_id:
            raise ConnectionResetError("connection reset by the mail server")
        return mailer_send(self, message)

    monkeypatch.setattr(notify.Mailer, "send", send_as_the_step_is_done)
    with SmtpSink(port) as sink:
        assert (deliver(rt).sent, len(sink.messages)) == (1, 1)
        clock.advance(hours=2)
        assert deliver(rt).sent == 0
    sent, failed = (alert_rows(rt, instance_id=i)[0] for i in (sent_id, failed_id))
    assert sent.sent_at is not None and sent.cancelled_at is None
    assert failed.sent_at is None and failed.cancelled_at is not None and failed.next_attempt_at is None
    with rt.uow() as session:
        cancelled = session.scalars(select(Event.data).where(Event.kind == "alerts_cancelled")).all()
    assert [data["alerts"] for data in cancelled] == [[failed.id]]


def mails_of_both_levels(rt, clock) -> list:
    """One late step's mails: level 1's, then level 2's when its time comes."""
    port = free_port()
    configure(rt, smtp_port=port)
    overdue_instances(rt, clock, 1)
    with SmtpSink(port) as sink:
        deliver(rt)
        [second] = timer_rows(rt, kind="second_level")
        tick(rt, clock, second.due_at + ONE_MINUTE)
    return sink.messages


def test_the_second_level_mail_goes_to_the_kadis(rt, clock):
    assert [(m[0], m[1]["Subject"]) for m in mails_of_both_levels(rt, clock)] == [
        (["kepala.aptika@demo.alur.local"], "[Alur] Langkah 1 terlambat: Kegiatan 0"),
        (["kadis@demo.alur.local"], "[Alur] Eskalasi tingkat 2: Langkah 1 masih terlambat: Kegiatan 0"),
    ]


def test_an_administrator_alerted_as_the_last_resort_is_told_why_and_what_to_mend(rt, clock):
    for login, bidang, role in (("kepala.aptika", "aptika", "kepala"), ("kadis", "sekretariat", "kadis")):
        accounts.save_user(rt, "admin", login, login, bidang, [role], active=False)
    port = free_port()
    configure(rt, smtp_port=port)
    overdue_instances(rt, clock, 1)
    with SmtpSink(port) as sink:
        deliver(rt)
    [(to, message)] = sink.messages
    body = " ".join(message.get_payload(decode=True).decode().split())
    assert to == ["admin@demo.alur.local"] and message["Subject"] == "[Alur] Langkah 1 terlambat: Kegiatan 0"
    assert "tidak ada Kepala Bidang maupun Kepala Dinas yang aktif" in body
    assert "halaman Administrasi" in body and "Pengawasan" not in body  # a page an administrator cannot open


def test_the_last_resort_mail_at_level_2_names_only_the_post_level_2_found_empty(rt, clock):
    """Level 1 reached the active Kepala Bidang; level 2 looks for the Kepala Dinas only. The
    administrators' mail blamed both posts, in either language."""
    from web.catalogues import catalogue

    rt.catalogue = catalogue
    accounts.save_user(rt, "admin", "kadis", "kadis", "sekretariat", ["kadis"], active=False)
    accounts.save_user(rt, "admin", "admin.en", "Admin", None, ["admin"], email="admin.en@dinas.test",
                       password="rahasia-panjang-sekali", new=True)
    with rt.uow() as session:
        english = session.scalars(select(User).where(User.login == "admin.en")).one()
    accounts.set_language(rt, english.id, "en")
    mails = {to[0]: " ".join(m.get_payload(decode=True).decode().split()) for to, m in mails_of_both_levels(rt, clock)}
    assert sorted(mails) == ["admin.en@dinas.test", "admin@demo.alur.local", "kepala.aptika@demo.alur.local"]
    assert "karena tidak ada Kepala Dinas yang aktif untuk menerimanya" in mails["admin@demo.alur.local"]
    assert "Kepala Bidang" not in mails["admin@demo.alur.local"]
    assert "because no Head of Agency is active to receive it" in mails["admin.en@dinas.test"]
    assert "Head of Division" not in mails["admin.en@dinas.test"]


def test_the_webhook_gets_one_post_per_escalation_and_is_retried_after_a_failure(rt, clock):
    with WebhookSink(failures=1) as hook:
        configure(rt, smtp_port=None, webhook_url=hook.url, first_delay=30)
        [instance_id] = overdue_instances(rt, clock, 1)
        report = deliver(rt)
        # The person's alert cannot be mailed (e-mail is off): kept, not retried.
        assert (report.sent, report.failed, report.skipped) == (0, 1, 1)
        clock.advance(seconds=31)
        assert deliver(rt).sent == 1
        clock.advance(hours=1)
        assert deliver(rt).sent == 0
    [payload] = hook.payloads
    assert payload["level"] == 1 and payload["instance_id"] == instance_id and payload["step"] == 1
    assert payload["recipients"] == ["kepala.aptika"]
    assert payload["text"] == "[Alur] Langkah 1 terlambat: Kegiatan 0"
    person = alert_rows(rt, recipient="kepala.aptika")[0]
    assert person.sent_at is None and person.next_attempt_at is None and "tidak diaktifkan" in person.last_error


def test_a_deliverer_that_dies_after_sending_never_sends_that_alert_again(rt, clock, monkeypatch):
    """At most once: the mail went out, the process died before recording it; after the lease nobody resends."""
    class Died(BaseException):
        """What kill -9 looks like from inside: nothing after this line runs."""

    port = free_port()
    configure(rt, smtp_port=port)
    overdue_instances(rt, clock, 1)
    with SmtpSink(port) as sink:
        with monkeypatch.context() as patch:
            patch.setattr(Deliverer, "_record", lambda *args, **kwargs: (_ for _ in ()).throw(Died()))
            try:
                deliver(rt)
            except Died:
                pass
        assert len(sink.messages) == 1
        clock.advance(hours=1)  # the dead deliverer's claim expired long ago
        assert deliver(rt).sent == 0
        Scheduler(rt).run_pass()
    assert len(sink.messages) == 1
    [alert] = alert_rows(rt)
    assert alert.sent_at is None and alert.next_attempt_at is None and alert.last_error == SEND_BEGUN


def test_a_pass_beats_after_each_instance_and_each_alert_so_a_slow_one_is_not_taken_for_hung(rt, clock):
    """The server beside the scheduler kills one that stops beating (web/companion.py): a pass that
    fires many timers and waits on a slow mail server must beat as it goes, not only at its end."""
    port = free_port()
    with SmtpSink(port) as sink:
        configure(rt, smtp_port=port)
        ids = [start(rt, "aptika", f"Kegiatan {i}") for i in range(3)]
        beats = []
        tick(rt, clock, open_row(rt, ids[0]).due_at + ONE_MINUTE, heartbeat=lambda: beats.append(1))
    assert len(sink.messages) == 3
    assert len(beats) == 3 + 3  # three instances' timers fired, three alerts mailed


def test_an_alert_of_an_activity_moved_to_a_version_that_renumbers_its_steps_names_its_own_step(rt, clock):
    """The mail took the lane and standard time of the step with the alert's number in the activity's
    version: after a migration to a version inserting a step before it, the inserted step's. It names
    the step by its number in that version, as the pages do."""
    import re

    from engine import editor
    from tests.integration.test_definitions import OWNER, deploy_v2, step_inserted_before_verification
    port = free_port()
    configure(rt, smtp_port=port)
    instance_id = start(rt)
    for step in range(1, 5):
        do_step(rt, instance_id, step)
    assert open_row(rt, instance_id).step == 5
    clock.advance(hours=3)                                  # the verification's 30 minutes have passed
    Scheduler(rt, deliver=False).run_pass()
    assert [a.step for a in alert_rows(rt)] == [5]
    bpmn, yaml_text = step_inserted_before_verification()
    bpmn = re.sub(r'(id="Timer_04b" name=")30 Menit(".*?)PT30M<', r"\g<1>4 Jam\g<2>PT4H<", bpmn, flags=re.S)
    deploy_v2(rt, bpmn, yaml_text)
    editor.migrate(rt, instance_id, OWNER)                  # the verification is step 6 now; step 5 is 4 Jam

    with SmtpSink(port) as sink:
        assert deliver(rt).sent == 1
    [(_to, message)] = sink.messages
    body = message.get_payload(decode=True).decode()
    assert "30 Menit" in body and "4 Jam" not in body, body
    assert "Langkah 6 pada kegiatan" in body and "6. Apakah hasil kegiatan" in body, body  # its number now
    # The alert lists (Pengawasan, `alur alerts`, the API) number it as its task is now, beside its name.
    from engine import alerts
    [listed] = alerts.alerts(rt)
    assert (listed["step"], listed["step_name"]) == (6, open_row(rt, instance_id).name)
    assert alerts.acknowledge(rt, listed["id"], listed["recipient"])["step"] == 6


def test_an_activity_titled_over_two_lines_is_mailed_with_its_title_on_one(rt, clock):
    """A title may hold a line break (the API takes one; the title's control-character check leaves
    line breaks be, as in a step's text). The mail's subject cannot: the message was never built, and
    every alert of the activity failed on each try."""
    port = free_port()
    configure(rt, smtp_port=port)
    instance_id = start(rt, title="Rapat koordinasi\r\nTriwulan I")
    clock.set(open_row(rt, instance_id).due_at + ONE_MINUTE)
    Scheduler(rt, deliver=False).run_pass()
    with SmtpSink(port) as sink:
        report = deliver(rt)
    assert (report.sent, report.failed) == (1, 0)
    [(_to, mail)] = sink.messages
    assert mail["Subject"] == "[Alur] Langkah 1 terlambat: Rapat koordinasi Triwulan I"


def test_an_alert_whose_recipient_was_deactivated_before_delivery_is_not_mailed(rt, clock):
    """The alert was written while the kepala was active; deactivated before the mail went out (they
    left the office), the mail still went to them."""
    port = free_port()
    configure(rt, smtp_port=port)
    overdue_instances(rt, clock, 1)
    accounts.save_user(rt, "admin", "kepala.aptika", "Kepala Aptika", "aptika", ["kepala"],
                       email="kepala.aptika@demo.alur.local", active=False)
    with SmtpSink(port) as sink:
        report = deliver(rt)
    assert sink.messages == [] and (report.sent, report.skipped) == (0, 1)
    [alert] = alert_rows(rt)
    assert alert.sent_at is None and alert.next_attempt_at is None and "nonaktif" in alert.last_error
