"""A step's form: cleaning submitted data per field type, and its JSON Schema."""
from __future__ import annotations

import json
from datetime import date

import pytest

from process.forms import FIELD_TYPES, Form, FormError, FormField

FORM = Form((
    FormField("uraian", "Uraian", "text", required=True, help="Tulis singkat"),
    FormField("jumlah", "Jumlah", "number"),
    FormField("tanggal", "Tanggal", "date"),
    FormField("lengkap", "Data lengkap?", "boolean", required=True),
    FormField("capaian", "Capaian", "choice", choices=("Sesuai rencana", "Sebagian", "Tidak tercapai")),
    FormField("laporan", "Laporan", "file"),
))
VALID = {"uraian": "Rapat", "lengkap": True}


def clean(**data):
    return FORM.clean({**VALID, **data})


def errors_of(data) -> dict[str, str]:
    with pytest.raises(FormError) as caught:
        FORM.clean(data)
    return caught.value.errors


def test_every_field_type_is_covered_here():
    assert {f.type for f in FORM.fields} == set(FIELD_TYPES)


# -- per type: accepted values and their canonical form ---------------------------

@pytest.mark.parametrize("field,given,expected", [
    ("uraian", "  Rapat koordinasi \n", "Rapat koordinasi"),
    ("jumlah", 120, 120),
    ("jumlah", "120", 120),
    ("jumlah", 3.0, 3),
    ("jumlah", "2.5", 2.5),
    ("jumlah", -4, -4),
    ("jumlah", 0, 0),
    ("tanggal", "2026-03-02", "2026-03-02"),
    ("tanggal", date(2026, 3, 2), "2026-03-02"),
    ("lengkap", True, True),
    ("lengkap", False, False),
    ("lengkap", "ya", True),
    ("lengkap", "Tidak", False),
    ("lengkap", "true", True),
    ("lengkap", "FALSE", False),
    ("lengkap", "1", True),
    ("lengkap", "0", False),
    ("capaian", "Sebagian", "Sebagian"),
    ("laporan", "42", "42"),
])
def test_accepted_values_are_cleaned(field, given, expected):
    cleaned = clean(**{field: given})
    assert cleaned[field] == expected
    assert type(cleaned[field]) is type(expected)


@pytest.mark.parametrize("field,given,message", [
    ("uraian", 12, "harus berupa teks"),
    ("uraian", ["a"], "harus berupa teks"),
    ("jumlah", "dua belas", "harus berupa angka"),
    ("jumlah", True, "harus berupa angka"),  # a bool is not a number here
    ("jumlah", [1], "harus berupa angka"),
    ("jumlah", {"n": 1}, "harus berupa angka"),
    ("jumlah", "nan", "harus berupa angka"),   # not JSON; PostgreSQL's jsonb refuses it
    ("jumlah", "inf", "harus berupa angka"),
    ("jumlah", "1e999", "harus berupa angka"),
    ("tanggal", "02-03-2026", "harus berupa tanggal (YYYY-MM-DD)"),
    ("tanggal", "2026-02-30", "harus berupa tanggal (YYYY-MM-DD)"),
    ("tanggal", "besok", "harus berupa tanggal (YYYY-MM-DD)"),
    ("lengkap", "mungkin", "harus ya atau tidak (true/false)"),
    ("lengkap", 1, "harus ya atau tidak (true/false)"),
    ("capaian", "Lainnya", "harus salah satu dari: Sesuai rencana, Sebagian, Tidak tercapai"),
    ("capaian", "sebagian", "harus salah satu dari"),  # exact, not case-folded
    ("laporan", 42, "harus berupa teks"),
])
def test_refused_values_name_the_field_and_the_reason(field, given, message):
    errors = errors_of({**VALID, field: given})
    assert list(errors) == [field]
    assert message in errors[field]


def test_number_results_are_json_ready():
    cleaned = clean(jumlah="12.75", tanggal="2026-03-02")
    assert json.loads(json.dumps(cleaned, allow_nan=False)) == cleaned


# -- numbers typed as people write them -------------------------------------------------

NUMBER = FormField("jumlah", "Jumlah", "number")


@pytest.mark.parametrize("language,typed,expected", [
    ("id", "1.000", 1000), ("id", "1,5", 1.5), ("id", "1.000.000", 1_000_000), ("id", "-1.250,75", -1250.75),
    ("id", "0,125", 0.125), ("id", " 120 ", 120),
    ("en", "1,000", 1000), ("en", "1.5", 1.5), ("en", "1,250.75", 1250.75), ("en", "0.125", 0.125),
    # No page language (the API, the CLI): text every language reads alike.
    (None, "120", 120), (None, "2.5", 2.5), (None, "1,5", 1.5), (None, "1.000,5", 1000.5), (None, "1,000.5", 1000.5),
])
def test_a_number_typed_as_text_reads_as_its_language_writes_it(language, typed, expected):
    cleaned = NUMBER.clean(typed, language)
    assert cleaned == expected and type(cleaned) is type(expected)


@pytest.mark.parametrize("number", [1000, 1.5, -4, 0])
def test_a_json_number_is_taken_as_it_is_whatever_the_language(number):
    assert NUMBER.clean(number, "id") == number and NUMBER.clean(number) == number


@pytest.mark.parametrize("language,typed,message", [
    ("id", "1,000", "tidak jelas: 1 atau 1.000?"),      # English habit on an Indonesian page
    ("en", "1.000", "tidak jelas: 1 atau 1,000?"),      # Indonesian habit on an English page
    (None, "1.000", "tidak jelas: 1.000 dapat dibaca 1 atau 1000; kirim sebagai angka JSON"),
    (None, "12,500", "tidak jelas: 12,500 dapat dibaca 12.5 atau 12500"),
    ("id", "1.5", "harus berupa angka, mis. 1.250 atau 1,5"),  # not Indonesian: 15 or 1,5?
    ("id", "1,000.5", "harus berupa angka, mis. 1.250 atau 1,5"),
    ("en", "1,5", "harus berupa angka, mis. 1.250 atau 1,5"),
    ("id", "nan", "harus berupa angka"), (None, "inf", "harus berupa angka"), ("id", "1e999", "harus berupa angka"),
])
def test_a_number_that_could_be_read_two_ways_or_not_at_all_is_refused(language, typed, message):
    with pytest.raises(FormError) as caught:
        Form((NUMBER,)).clean({"jumlah": typed}, language)
    assert caught.value.errors["jumlah"].startswith(message)


# -- required, missing and unknown fields --------------------------------------------

@pytest.mark.parametrize("missing", [None, "", "   ", " \n\t "])
def test_required_field_missing_or_empty(missing):
    # Only spaces are no answer: they were taken, and stored as an empty text.
    errors = errors_of({"uraian": missing, "lengkap": True})
    assert errors == {"uraian": "wajib diisi"}


def test_required_boolean_false_is_an_answer_not_a_missing_value():
    assert FORM.clean({"uraian": "x", "lengkap": False}) == {"uraian": "x", "lengkap": False}


def test_optional_fields_left_out_are_left_out():
    assert FORM.clean({"uraian": "x", "lengkap": "ya", "jumlah": "", "tanggal": None, "capaian": "  "}) == \
        {"uraian": "x", "lengkap": True}


def test_unknown_field_is_refused():
    errors = errors_of({**VALID, "catatan_rahasia": "x"})
    assert errors == {"catatan_rahasia": "isian tidak dikenal pada langkah ini"}


def test_all_problems_are_reported_together():
    with pytest.raises(FormError) as caught:
        FORM.clean({"jumlah": "banyak", "tanggal": "kemarin", "asal": 1})
    errors = caught.value.errors
    assert errors == {
        "asal": "isian tidak dikenal pada langkah ini",
        "uraian": "wajib diisi",
        "jumlah": "harus berupa angka",
        "tanggal": "harus berupa tanggal (YYYY-MM-DD)",
        "lengkap": "wajib diisi",
    }
    message = str(caught.value)
    for name, text in errors.items():
        assert f"{name}: {text}" in message


@pytest.mark.parametrize("data", [None, [], "uraian=x", 5])
def test_data_must_be_an_object(data):
    with pytest.raises(FormError) as caught:
        FORM.clean(data)
    assert caught.value.errors == {"_": "data harus berupa objek JSON"}


def test_form_error_is_a_value_error():
    assert issubclass(FormError, ValueError)


def test_empty_form_accepts_nothing_but_empty_data():
    assert Form().clean({}) == {}
    with pytest.raises(FormError) as caught:
        Form().clean({"x": 1})
    assert caught.value.errors == {"x": "isian tidak dikenal pada langkah ini"}


def test_a_field_of_unknown_type_cannot_clean():
    with pytest.raises(ValueError, match="jenis isian tidak dikenal: angka"):
        FormField("x", "X", "angka").clean("1")


# -- JSON Schema --------------------------------------------------------------------

def test_json_schema():
    schema = FORM.json_schema()
    assert schema["type"] == "object"
    assert schema["required"] == ["uraian", "lengkap"]
    assert schema["additionalProperties"] is False
    assert schema["properties"] == {
        "uraian": {"title": "Uraian", "type": "string", "description": "Tulis singkat"},
        "jumlah": {"title": "Jumlah", "type": "number"},
        "tanggal": {"title": "Tanggal", "type": "string", "format": "date"},
        "lengkap": {"title": "Data lengkap?", "type": "boolean"},
        "capaian": {"title": "Capaian", "type": "string", "enum": ["Sesuai rencana", "Sebagian", "Tidak tercapai"]},
        "laporan": {"title": "Laporan", "type": "string", "contentMediaType": "application/octet-stream"},
    }
    json.dumps(schema)  # JSON-ready


def test_json_schema_of_an_empty_form_still_has_required():
    assert Form().json_schema() == {"type": "object", "properties": {}, "required": [],
                                    "additionalProperties": False}


def test_json_schema_agrees_with_clean():
    jsonschema = pytest.importorskip("jsonschema")
    schema = FORM.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = FORM.clean({"uraian": "x", "lengkap": "ya", "jumlah": "3", "capaian": "Sebagian"})
    assert list(validator.iter_errors(good)) == []
    assert [e.validator for e in validator.iter_errors({"lengkap": True})] == ["required"]
    assert [e.validator for e in validator.iter_errors({**good, "asal": 1})] == ["additionalProperties"]


PERIOD = Form((FormField("mulai", "Tanggal mulai", "date", required=True),
               FormField("selesai", "Tanggal selesai", "date", not_before="mulai")))


def test_an_end_date_before_its_start_is_refused_naming_the_start():
    with pytest.raises(FormError) as err:
        PERIOD.clean({"mulai": "2026-03-02", "selesai": "2026-03-01"})
    assert err.value.errors == {"selesai": "tidak boleh sebelum tanggal mulai"}
    assert PERIOD.clean({"mulai": "2026-03-02", "selesai": "2026-03-02"})["selesai"] == "2026-03-02"
    assert PERIOD.clean({"mulai": "2026-03-02"}) == {"mulai": "2026-03-02"}  # no end given: nothing to compare
    with pytest.raises(FormError) as err:  # a start that is itself wrong is reported once, at the start
        PERIOD.clean({"mulai": "kemarin", "selesai": "2026-03-01"})
    assert list(err.value.errors) == ["mulai"]


COUNT = Form((FormField("peserta", "Jumlah peserta", "number", min=0),))


def test_a_number_below_the_fields_min_is_refused_naming_the_min():
    with pytest.raises(FormError) as err:
        COUNT.clean({"peserta": -3})
    assert err.value.errors == {"peserta": "tidak boleh kurang dari 0"}
    with pytest.raises(FormError):
        COUNT.clean({"peserta": "-0,5"}, "id")
    assert COUNT.clean({"peserta": 0}) == {"peserta": 0}
    assert COUNT.clean({"peserta": "1.250"}, "id") == {"peserta": 1250}
    assert COUNT.json_schema()["properties"]["peserta"]["minimum"] == 0
    assert "minimum" not in FORM.json_schema()["properties"]["jumlah"]  # no min: any number


def test_the_min_a_number_falls_below_is_written_as_where_it_was_typed():
    """0.5 cannot be typed on an Indonesian page (it is refused as no number): the message says 0,5."""
    half = Form((FormField("jam", "Jam", "number", min=0.5), FormField("peserta", "Peserta", "number", min=1000)))
    with pytest.raises(FormError) as err:
        half.clean({"jam": "0,25", "peserta": "999"}, "id")
    assert err.value.errors == {"jam": "tidak boleh kurang dari 0,5", "peserta": "tidak boleh kurang dari 1.000"}
    with pytest.raises(FormError) as err:
        half.clean({"jam": "0.25", "peserta": "999"}, "en")
    assert err.value.errors == {"jam": "tidak boleh kurang dari 0.5", "peserta": "tidak boleh kurang dari 1,000"}
    with pytest.raises(FormError) as err:  # the API and the CLI: as a JSON number
        half.clean({"jam": 0.25, "peserta": 999})
    assert err.value.errors == {"jam": "tidak boleh kurang dari 0.5", "peserta": "tidak boleh kurang dari 1000"}


PEOPLE = Form((FormField("peserta", "Jumlah peserta", "number", min=0, whole=True),))


@pytest.mark.parametrize("typed,language", [("12,5", "id"), ("12.5", "en"), (12.5, None), ("1.000,5", "id")])
def test_a_whole_number_field_refuses_a_fraction(typed, language):
    with pytest.raises(FormError) as err:
        PEOPLE.clean({"peserta": typed}, language)
    assert err.value.errors == {"peserta": "harus bilangan bulat"}


@pytest.mark.parametrize("typed,language,number", [("1.250", "id", 1250), ("1,250", "en", 1250), (12.0, None, 12),
                                                   ("40", None, 40)])
def test_a_whole_number_field_takes_whole_numbers_however_written(typed, language, number):
    cleaned = PEOPLE.clean({"peserta": typed}, language)["peserta"]
    assert cleaned == number and isinstance(cleaned, int)


@pytest.mark.parametrize("typed,language,message", [
    ("abc", "id", "harus berupa bilangan bulat, mis. 40 atau 1.250"),
    ("abc", "en", "harus berupa bilangan bulat, mis. 40 atau 1.250"),  # the page shows it as English writes it
    ("1,000", "id", "tidak jelas: 1 atau 1.000? Tulis ribuan dengan titik (1.250)"),
])
def test_a_whole_number_field_explains_itself_with_a_whole_number(typed, language, message):
    """Text that reads as no number on a whole-number field was told "mis. 1.250 atau 1,5": a fraction
    the field then refuses."""
    with pytest.raises(FormError) as err:
        PEOPLE.clean({"peserta": typed}, language)
    assert err.value.errors == {"peserta": message}


def test_a_whole_number_fields_schema_says_integer():
    assert PEOPLE.json_schema()["properties"]["peserta"] == {"title": "Jumlah peserta", "type": "integer",
                                                             "minimum": 0}
    assert COUNT.json_schema()["properties"]["peserta"]["type"] == "number"


@pytest.mark.parametrize("typed", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
def test_a_date_of_a_year_no_office_works_in_is_refused(typed):
    """A mistyped year (0202, 9999) made an activity's schedule overlap every other one."""
    with pytest.raises(FormError) as err:
        PERIOD.clean({"mulai": typed})
    assert err.value.errors == {"mulai": "tahun antara 1900 dan 2999"}


def test_dates_of_the_years_an_office_works_in_are_taken():
    assert PERIOD.clean({"mulai": "1900-01-01", "selesai": "2999-12-31"}) == {"mulai": "1900-01-01",
                                                                              "selesai": "2999-12-31"}
