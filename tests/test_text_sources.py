"""Readers of labelled text: CSV / JSONL tables, class-per-folder trees, SpamAssassin archives."""

import json

import pytest

from benchmark import DataError
from plugins.datasets.text_sources import read_folders, read_spamassassin, read_table


def test_csv_and_jsonl_give_the_same_examples(tmp_path):
    rows = [{"body": "cheap pills", "kind": "spam"}, {"body": "lunch at noon", "kind": "ham"}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "a.csv").write_text("body,kind\ncheap pills,spam\nlunch at noon,ham\n")
    for name in ("a.jsonl", "a.csv"):
        texts, labels, classes = read_table(tmp_path / name, "body", "kind")
        assert texts == ["cheap pills", "lunch at noon"] and classes == ("ham", "spam") and labels == [1, 0]


def test_a_missing_column_says_did_you_mean(tmp_path):
    (tmp_path / "a.csv").write_text("text,label\nx,1\n")
    with pytest.raises(DataError, match=r"a.csv: no column 'txt'.*did you mean 'text'"):
        read_table(tmp_path / "a.csv", "txt", "label")


def test_an_empty_text_names_its_row(tmp_path):
    (tmp_path / "a.csv").write_text("text,label\nx,1\n ,0\n")
    with pytest.raises(DataError, match="row 2 has an empty 'text'"):
        read_table(tmp_path / "a.csv", "text", "label")


def test_class_per_folder_tree(tmp_path):
    for name, text in (("pos/1.txt", "good"), ("pos/2.txt", "great"), ("neg/1.txt", "bad")):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    texts, labels, classes = read_folders(tmp_path)
    assert classes == ("neg", "pos") and sorted(zip(labels, texts)) == [(0, "bad"), (1, "good"), (1, "great")]


def test_spamassassin_sets_become_classes(shared_data):
    texts, labels, classes = read_spamassassin(shared_data / "spamassassin", {"ham": ["hard_ham"], "spam": ["spam"]})
    assert classes == ("ham", "spam") and labels.count(0) == 250 and labels.count(1) == 500 and all(texts)


def test_an_unknown_spamassassin_set_says_did_you_mean(tmp_path):
    with pytest.raises(DataError, match="unknown set 'spam2'.*did you mean 'spam_2'"):
        read_spamassassin(tmp_path, {"spam": ["spam2"]})
