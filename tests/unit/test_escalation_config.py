"""definitions/escalation.yaml: the shipped file, defaults, and mistakes named by their key."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.escalation import scaled
from engine.escalation_config import EscalationConfig, EscalationConfigError, Recipient, Retry
from process.mutu_baku import MutuBaku

SHIPPED = Path(__file__).resolve().parents[2] / "definitions" / "escalation.yaml"


def test_the_shipped_file_is_the_built_in_default():
    assert EscalationConfig.from_yaml(SHIPPED.read_text()) == EscalationConfig()


def test_supervisors_by_lane_scope_and_level():
    config = EscalationConfig()
    assert config.recipients(1, "bidang") == (Recipient("kepala", "bidang"),)
    assert config.recipients(1, "office") == (Recipient("kadis", "office"),)
    assert config.recipients(2, "bidang") == (Recipient("kadis", "office"),)
    assert config.second_level_factor == 1.0


def test_the_supervising_roles_are_every_role_a_level_names():
    """The Pengawasan page is for them (engine.escalation.supervising_roles)."""
    assert {rule.role for _, rule in EscalationConfig().rules()} == {"kepala", "kadis"}
    config = EscalationConfig.from_yaml("""
levels:
  1: {office: [{role: sekretaris, within: office}]}
  2: {bidang: [{role: pemilik_proses, within: bidang}], office: []}
""")
    assert config.rules() == (("bidang", Recipient("kepala", "bidang")), ("office", Recipient("sekretaris", "office")),
                              ("bidang", Recipient("pemilik_proses", "bidang")))


def test_an_office_can_change_recipients_and_the_delay():
    config = EscalationConfig.from_yaml("""
levels:
  1: {bidang: [{role: kepala, within: bidang}, {role: sekretaris, within: office}]}
  2: {delay_factor: 0.5}
smtp: {host: mail.salatiga.go.id, port: 587, starttls: true, from: "Alur <alur@salatiga.go.id>"}
webhook: {url: "https://chat.example/hook"}
retry: {first_delay_seconds: 10, max_delay_seconds: 100}
""")
    assert config.recipients(1, "bidang")[1] == Recipient("sekretaris", "office")
    assert config.recipients(1, "office") == (Recipient("kadis", "office"),)  # left out: the default
    assert config.second_level_factor == 0.5
    assert (config.smtp.host, config.smtp.port, config.smtp.starttls) == ("mail.salatiga.go.id", 587, True)
    assert config.webhook.url == "https://chat.example/hook"
    assert [config.retry.delay(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 80, 100]


def test_zero_padded_numbers_are_the_numbers_written():
    """YAML 1.1 read timeout_seconds: 010 as octal 8, and port: 0587 as text that was refused."""
    config = EscalationConfig.from_yaml("smtp: {port: 0587, timeout_seconds: 010}\nretry: {first_delay_seconds: 09}")
    assert (config.smtp.port, config.smtp.timeout, config.retry.first_delay) == (587, 10.0, 9.0)


@pytest.mark.parametrize("text,key", [
    ("levels: {3: {}}", "levels"),
    ("levels: {1: {bidang: [{role: kepala, within: kota}]}}", "levels.1.bidang[0].within"),
    ("levels: {1: {bidang: [{within: bidang}]}}", "levels.1.bidang[0].role"),
    # A role no user can hold: its level would alert nobody, and its supervisors lose the Pengawasan page.
    ("levels: {1: {bidang: [{role: kepala_bidang, within: bidang}]}}", "levels.1.bidang[0].role"),
    ("levels: {2: {office: [{role: kadis}, {role: Kadis}]}}", "levels.2.office[1].role"),
    ("levels: {1: {delay_factor: 2}}", "levels.1"),
    ("levels: {2: {delay_factor: 0}}", "levels.2.delay_factor"),
    ("smtp: {port: 70000}", "smtp.port"),
    ("smtp: {port: 00}", "smtp.port"),
    ("retry: {first_delay_seconds: 1:00}", "retry.first_delay_seconds"),  # no longer the number 60
    ("webhook: {url: &u 'http://x/', timeout_seconds: *u}", "YAML eskalasi tidak dapat dibaca: alias"),
    ("smtp: {hots: x}", "smtp"),
    ("webhook: {url: ftp://x}", "webhook.url"),
    ("retry: {first_delay_seconds: 100, max_delay_seconds: 10}", "retry.max_delay_seconds"),
])
def test_mistakes_name_their_key(text, key):
    with pytest.raises(EscalationConfigError) as err:
        EscalationConfig.from_yaml(text)
    assert str(err.value).startswith(key)


def test_the_second_level_delay_scales_the_standard_time_in_whole_units():
    assert scaled(MutuBaku.parse("30 Hari"), 1.0) == MutuBaku.parse("30 Hari")
    assert scaled(MutuBaku.parse("30 Hari"), 0.5) == MutuBaku.parse("15 Hari")
    assert scaled(MutuBaku.parse("1 Hari"), 0.2) == MutuBaku.parse("1 Hari")  # never below one unit
    assert scaled(MutuBaku.parse("1 Jam"), 0.5) == MutuBaku.parse("30 Menit")
    assert scaled(MutuBaku.parse("7 Hari Kalender"), 2) == MutuBaku.parse("14 Hari Kalender")


def test_retry_delays_double_up_to_the_cap():
    assert [Retry(60, 3600).delay(n) for n in (1, 2, 7, 8, 30)] == [60, 120, 3600, 3600, 3600]
    # However long the mail server stays down: 2**1024 is beyond any float.
    assert Retry(60.0, 3600.0).delay(5000) == 3600.0


@pytest.mark.parametrize("text,seconds", [
    ("", 10.0),                                                     # shipped defaults: mail on, no webhook
    ("smtp: {host: null}\n", 0.0),                                  # nothing is sent
    ("smtp: {timeout_seconds: 3}\nwebhook: {url: 'http://x/', timeout_seconds: 4}\n", 7.0),
    ("smtp: {host: null}\nwebhook: {url: 'http://x/'}\n", 5.0),
])
def test_an_alerts_longest_try_adds_up_the_channels_in_use(text, seconds):
    assert EscalationConfig.from_yaml(text).longest_try_seconds == seconds
