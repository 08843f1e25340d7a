"""Mutu baku waktu: the SOP's own notation to ISO 8601 and back."""
from __future__ import annotations

from datetime import timedelta

import pytest

from process.mutu_baku import MutuBaku, MutuBakuError, Unit

# text as written in an SOP -> (ISO 8601 on the timer, text read back from the ISO, minutes)
NOTATIONS = {
    "30 Menit": ("PT30M", "30 Menit", 30),
    "120 Menit": ("PT120M", "120 Menit", 120),  # stays minutes: not PT2H
    "1 Hari": ("P1D", "1 Hari", 24 * 60),
    "1Hari": ("P1D", "1 Hari", 24 * 60),       # step 14 of the seed SOP is written without a space
    "7 Hari": ("P7D", "7 Hari", 7 * 24 * 60),
    "2 Jam": ("PT2H", "2 Jam", 120),
    "30 Hari Kerja": ("P30D", "30 Hari", 30 * 24 * 60),  # ISO cannot say "kerja"; the counting rule does
}


@pytest.mark.parametrize("text", NOTATIONS)
def test_text_to_iso(text):
    iso, _, minutes = NOTATIONS[text]
    mutu = MutuBaku.parse(text)
    assert mutu.to_iso() == iso
    assert mutu.minutes == minutes
    assert mutu.clock_delta == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", NOTATIONS)
def test_iso_back_to_text(text):
    iso, back, _ = NOTATIONS[text]
    mutu = MutuBaku.from_iso(iso)
    assert str(mutu) == back
    assert mutu.to_iso() == iso
    # and the round trip is stable
    assert str(MutuBaku.parse(str(mutu))) == back
    assert MutuBaku.parse(back) == mutu


def test_the_sop_notation_is_kept():
    assert MutuBaku.parse("120 Menit") == MutuBaku(120, Unit.MENIT)
    assert MutuBaku.parse("120 Menit") != MutuBaku.parse("2 Jam")
    assert MutuBaku.parse("120 Menit").minutes == MutuBaku.parse("2 Jam").minutes


def test_kerja_and_kalender_are_remembered_in_text():
    assert MutuBaku.parse("30 Hari Kerja").working is True
    assert str(MutuBaku.parse("30 hari kerja")) == "30 Hari Kerja"
    assert MutuBaku.parse("3 Hari Kalender") == MutuBaku(3, Unit.HARI, False)
    assert str(MutuBaku.parse("3 Hari Kalender")) == "3 Hari Kalender"
    assert MutuBaku.parse("7 Hari").working is None  # the definition's counting rule decides


@pytest.mark.parametrize("text,expected", [
    ("30 menit", MutuBaku(30, Unit.MENIT)),
    ("  2 JAM ", MutuBaku(2, Unit.JAM)),
    ("5menit", MutuBaku(5, Unit.MENIT)),
])
def test_text_is_read_leniently(text, expected):
    assert MutuBaku.parse(text) == expected


@pytest.mark.parametrize("iso", ["pt30m", " P7D ", "'PT2H'", '"P1D"'])
def test_iso_is_read_leniently(iso):
    assert MutuBaku.from_iso(iso).to_iso() == iso.strip().strip("'\"").upper()


BAD_TEXT = {
    "": "mutu baku waktu '' tidak terbaca",
    "tiga hari": "mutu baku waktu 'tiga hari' tidak terbaca",
    "5 Detik": "mutu baku waktu '5 Detik' tidak terbaca",
    "P1Y": "mutu baku waktu 'P1Y' tidak terbaca",
    "PT": "mutu baku waktu 'PT' tidak terbaca",
    "P1DT2H": "mutu baku waktu 'P1DT2H' tidak terbaca",
    "30 Menit 2 Jam": "mutu baku waktu '30 Menit 2 Jam' tidak terbaca",
    "-5 Menit": "mutu baku waktu '-5 Menit' tidak terbaca",
    "0 Menit": "mutu baku waktu '0 Menit' harus lebih dari nol",
}


@pytest.mark.parametrize("text", BAD_TEXT)
def test_bad_text_is_refused_with_a_clear_message(text):
    with pytest.raises(MutuBakuError) as caught:
        MutuBaku.parse(text)
    message = str(caught.value)
    assert BAD_TEXT[text] in message
    if "nol" not in message:
        assert "tulis '<angka> Menit|Jam|Hari', mis. '30 Menit'" in message


BAD_ISO = {
    "": "durasi '' tidak terbaca",
    "tiga hari": "durasi 'tiga hari' tidak terbaca",
    "5 Detik": "durasi '5 Detik' tidak terbaca",
    "30 Menit": "durasi '30 Menit' tidak terbaca",
    "P1Y": "durasi 'P1Y' tidak terbaca",
    "P": "durasi 'P' tidak terbaca",
    "PT": "durasi 'PT' tidak terbaca",
    "P1DT2H": "durasi 'P1DT2H' tidak terbaca",     # two components: which one is the SOP's?
    "PT1H30M": "durasi 'PT1H30M' tidak terbaca",
    "PT30X": "durasi 'PT30X' tidak terbaca",
    "PT1.5H": "durasi 'PT1.5H' tidak terbaca",
    "0 Menit": "durasi '0 Menit' tidak terbaca",
    "PT0M": "durasi 'PT0M' harus lebih dari nol",
    "P0D": "durasi 'P0D' harus lebih dari nol",
}


@pytest.mark.parametrize("iso", BAD_ISO)
def test_bad_iso_is_refused_with_a_clear_message(iso):
    with pytest.raises(MutuBakuError) as caught:
        MutuBaku.from_iso(iso)
    message = str(caught.value)
    assert BAD_ISO[iso] in message
    if "nol" not in message:
        assert "tulis satu komponen ISO 8601 seperti P7D, PT2H atau PT30M" in message


def test_mutu_baku_error_is_a_value_error():
    # callers that only know ValueError (forms, the CLI's last guard) still catch it
    assert issubclass(MutuBakuError, ValueError)


# How each reader writes a number of minutes.
WRITTEN = {"parse": "{} Menit", "from_iso": "PT{}M"}


@pytest.mark.parametrize("reader", WRITTEN)
@pytest.mark.parametrize("digits", ["9" * 5000, "12" * 2200])
def test_thousands_of_digits_are_refused_as_too_long(reader, digits):
    # Python reads at most 4,300 digits into an int and raises a plain ValueError past that:
    # a 5,000-digit duration on a diagram's timer crashed the loader instead of being a finding.
    with pytest.raises(MutuBakuError, match="lebih dari sepuluh tahun"):
        getattr(MutuBaku, reader)(WRITTEN[reader].format(digits))


@pytest.mark.parametrize("reader", WRITTEN)
def test_thousands_of_leading_zeros_still_read_as_the_number(reader):
    read, zeros = getattr(MutuBaku, reader), "0" * 5000
    assert read(WRITTEN[reader].format(zeros + "30")) == MutuBaku(30, Unit.MENIT)
    with pytest.raises(MutuBakuError, match="harus lebih dari nol"):
        read(WRITTEN[reader].format(zeros))
