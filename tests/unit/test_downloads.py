"""Download names: one Content-Disposition for every file the app hands out."""
from __future__ import annotations

import pytest
from werkzeug.http import parse_options_header

from web.downloads import attachment


@pytest.mark.parametrize("name", ["rekap.csv", 'SOP-a"b-v1.pdf', "SOP-a\\b-v1.pdf", "SOP-ş-v1.pdf"])
def test_the_name_reads_back_exactly_and_the_header_is_ascii(name):
    header = attachment(name)
    header.encode("ascii")
    assert parse_options_header(header) == ("attachment", {"filename": name})


@pytest.mark.parametrize("name,exact", [('a"b.pdf', True), ("a\\b.pdf", True), ("ş.pdf", True), ("ab.pdf", False)])
def test_a_name_a_quoted_string_would_alter_also_goes_as_filename_star(name, exact):
    assert ("filename*=UTF-8''" in attachment(name)) is exact


def test_control_characters_never_reach_the_header():
    assert parse_options_header(attachment("a\r\nb.pdf"))[1]["filename"] == "a__b.pdf"
