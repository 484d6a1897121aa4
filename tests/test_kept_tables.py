"""Tables Kepu derives from its libraries and keeps in the cache folder (jieba's dictionary,
OpenCC's variants): the same answers as made afresh, and never trusted when not whole."""

from __future__ import annotations

import random

from builder import prose
from builder.search_terms import _variants_of, traditional_variants
from builder.writer import keep_json, kept_json


def test_a_kept_table_reads_back_and_a_damaged_one_does_not(tmp_path):
    path = tmp_path / "t" / "table.json"
    keep_json(path, {"發": "发", "n": [1, 2]})
    assert kept_json(path) == {"發": "发", "n": [1, 2]}
    data = bytearray(path.read_bytes())
    data[-3] ^= 1  # one bit of the body
    path.write_bytes(bytes(data))
    assert kept_json(path) is None
    path.write_bytes(path.read_bytes()[:40])  # cut short
    assert kept_json(path) is None
    keep_json(tmp_path / "real.json", [1])
    path.unlink()
    path.symlink_to(tmp_path / "real.json")
    assert kept_json(path) is None  # a link planted in the cache folder leads elsewhere


def test_kept_variants_are_the_ones_made_afresh(tmp_path):
    rng = random.Random(7)
    for size in (40, 2500):
        characters = {chr(code) for code in rng.sample(range(0x4E00, 0xA000), size)} | {"发", "干", "压"}
        expected = _variants_of(characters)
        assert list(traditional_variants(characters, tmp_path).items()) == list(expected.items())
    assert traditional_variants({"压"}, tmp_path) == {"壓": "压"}


def test_a_damaged_variants_table_is_made_again(tmp_path):
    traditional_variants({"压"}, tmp_path)
    (table,) = (tmp_path / "opencc").iterdir()
    table.write_bytes(table.read_bytes().replace("壓".encode(), "圧".encode()))
    assert traditional_variants({"压"}, tmp_path) == {"壓": "压"}
    assert kept_json(table) is not None  # made and kept again


def test_the_kept_jieba_tables_are_jiebas_own(tmp_path, monkeypatch):
    own_dictionary, own_idf = prose._load_jieba_dictionary(), prose._load_idf()
    monkeypatch.setattr(prose, "_TABLES", {})
    assert prose.jieba_dictionary(tmp_path) == tuple(own_dictionary)
    assert prose.idf_table(tmp_path) == own_idf
    kept = {path.name.split("-")[0]: path for path in (tmp_path / "jieba").iterdir()}
    assert sorted(kept) == ["dictionary", "idf"]
    # Read back in a new process's place: the same tables, from the kept copies.
    monkeypatch.setattr(prose, "_TABLES", {})
    monkeypatch.setattr(prose, "_load_jieba_dictionary", lambda: (_ for _ in ()).throw(AssertionError))
    monkeypatch.setattr(prose, "_load_idf", lambda: (_ for _ in ()).throw(AssertionError))
    assert prose.jieba_dictionary(tmp_path) == tuple(own_dictionary)
    assert prose.idf_table(tmp_path) == own_idf
    # A copy that is not whole is made again from jieba's own files.
    path = kept["dictionary"]
    path.write_bytes(path.read_bytes().replace('"高血压"'.encode(), b'"x"', 1))
    monkeypatch.setattr(prose, "_TABLES", {})
    monkeypatch.setattr(prose, "_load_jieba_dictionary", lambda: own_dictionary)
    assert prose.jieba_dictionary(tmp_path) == tuple(own_dictionary)
    assert kept_json(path) is not None
