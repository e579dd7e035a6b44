import gzip
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jingzhun.errors import InputError
from jingzhun.ingest import read_file

ROWS = "id,name,city\n1,张三,上海\n2,李四,北京\n"


def _values(raw, col):
    return raw.data.column(col).to_pylist()


@pytest.mark.parametrize("encoding, prefix", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gbk", b""),
                                              ("gb18030", b"")])
def test_encodings_are_detected_with_chinese_intact(tmp_path, encoding, prefix):
    path = tmp_path / "c.csv"
    path.write_bytes(prefix + ROWS.encode(encoding))
    raw = read_file(path)
    assert raw.columns == ("id", "name", "city")
    assert _values(raw, "name") == ["张三", "李四"] and _values(raw, "_row") == [2, 3]


def test_gbk_declared_as_utf8_names_the_row(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(ROWS.encode("gbk"))
    with pytest.raises(InputError, match="not UTF-8 as declared") as err:
        read_file(path, encoding="utf-8")
    assert err.value.row == 2 and err.value.file == str(path)


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, delim):
    path = tmp_path / "d.csv"
    path.write_text(ROWS.replace(",", delim), encoding="utf-8")
    assert _values(read_file(path), "city") == ["上海", "北京"]


def test_whitespace_delimiter_and_gzip(tmp_path):
    path = tmp_path / "w.txt.gz"
    path.write_bytes(gzip.compress(b" id  day n\r\n 00001 19970101  1\r\n 00002   19970102 3\r\n"))
    raw = read_file(path, delimiter="whitespace")
    assert raw.columns == ("id", "day", "n") and _values(raw, "id") == ["00001", "00002"]


def test_bad_rows_are_set_aside_with_their_row(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6\n7,8\n", encoding="utf-8")
    raw = read_file(path)
    assert _values(raw, "a") == ["1", "7"] and _values(raw, "_row") == [2, 5]
    assert [(b.row, b.reason) for b in raw.bad_rows] == [(3, "row has 3 fields, the header has 2"),
                                                        (4, "row has 1 fields, the header has 2")]
    assert raw.rows_read == 4


@pytest.mark.parametrize("text, row", [("a,b\n1,2\n3", 3), ('a,b\n1,2\n3,"unclosed\n', 3)])
def test_truncated_last_line_is_an_error(tmp_path, text, row):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="truncated") as err:
        read_file(path)
    assert err.value.row == row


def test_empty_and_binary_files(tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_file(empty)
    noise = tmp_path / "n.csv"
    noise.write_bytes(os.urandom(1 << 20))
    with pytest.raises(InputError, match="binary"):
        read_file(noise)


def test_missing_required_column(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(ROWS, encoding="utf-8")
    with pytest.raises(InputError, match="required column 'phone'") as err:
        read_file(path, required=["id", "phone"])
    assert err.value.field == "phone" and err.value.row == 1


def test_quoted_newlines_keep_record_numbers(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('a,b\n1,"two\nlines"\n3,4\n', encoding="utf-8")
    raw = read_file(path)
    assert _values(raw, "b") == ["two\nlines", "4"] and _values(raw, "_row") == [2, 3]


def test_parquet_jsonl_and_excel(tmp_path):
    pq.write_table(pa.table({"id": [1, 2], "price": [1.5, None], "city": ["上海", "北京"]}), tmp_path / "p.parquet")
    raw = read_file(tmp_path / "p.parquet")
    assert _values(raw, "id") == ["1", "2"] and _values(raw, "price") == ["1.5", ""] and _values(raw, "_row") == [1, 2]

    lines = [json.dumps({"id": 1, "city": "上海"}, ensure_ascii=False), "",
             json.dumps({"id": 2, "tags": ["a"], "ok": True})]
    (tmp_path / "j.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_file(tmp_path / "j.jsonl")
    assert raw.columns == ("id", "city", "tags", "ok")
    assert _values(raw, "tags") == ["", '["a"]'] and _values(raw, "ok") == ["", "true"]
    assert _values(raw, "_row") == [1, 3]

    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "city", "when"])
    sheet.append([1, "上海", datetime.datetime(2024, 5, 1, 9, 30)])
    sheet.append([2.0, "北京", None])
    book.save(tmp_path / "x.xlsx")
    raw = read_file(tmp_path / "x.xlsx")
    assert _values(raw, "id") == ["1", "2"] and _values(raw, "city") == ["上海", "北京"]
    assert _values(raw, "when") == ["2024-05-01 09:30:00", ""] and _values(raw, "_row") == [2, 3]
