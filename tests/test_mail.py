"""Mail -> text: the subject and the decoded plain-text body, never a header, never an exception."""

import tarfile

import pytest

from plugins.datasets.mail import html_to_text, mail_to_text


def mail(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


def test_subject_and_plain_body_without_other_headers():
    raw = mail("From: alice@relay.example.org\nDate: Tue, 27 Aug 2002 10:00:00 +0000\nSubject: Lunch?\n"
               "Content-Type: text/plain\n", b"Shall we meet at noon?\n")
    text = mail_to_text(raw)
    assert text == "Lunch? Shall we meet at noon?"
    assert "relay" not in text and "2002" not in text  # headers would let a model tell collections apart


def test_base64_and_quoted_printable_bodies_are_decoded():
    b64 = mail("Subject: a\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n",
               b"Q2Fmw6kgb3V2ZXJ0\n")
    qp = mail("Subject: b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n",
              b"Caf=E9 ouvert=\n demain\n")
    assert mail_to_text(b64) == "a Café ouvert"
    assert mail_to_text(qp) == "b Café ouvert demain"


def test_a_charset_that_does_not_exist_falls_back_instead_of_raising():
    raw = mail("Subject: offer\nContent-Type: text/plain; charset=default_charset\n", b"Cheap \xe9 pills now")
    text = mail_to_text(raw)
    assert text.startswith("offer Cheap") and text.endswith("pills now")


def test_html_only_mail_becomes_its_visible_text():
    raw = mail("Subject: WIN\nContent-Type: text/html\n",
               b"<html><head><style>p{color:red}</style></head><body><p>Click&nbsp;<b>here</b></p>"
               b"<script>alert(1)</script></body></html>")
    assert mail_to_text(raw) == "WIN Click here"


def test_multipart_alternative_prefers_the_plain_part_and_skips_attachments():
    raw = mail('Subject: both\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="X"\n',
               b"--X\r\nContent-Type: multipart/alternative; boundary=\"Y\"\r\n\r\n"
               b"--Y\r\nContent-Type: text/plain\r\n\r\nplain words\r\n"
               b"--Y\r\nContent-Type: text/html\r\n\r\n<p>html words</p>\r\n--Y--\r\n"
               b"--X\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--X--\r\n")
    assert mail_to_text(raw) == "both plain words"


def test_broken_html_still_gives_text():
    assert "text" in html_to_text("<p>text <a href='x' <<< >")


def test_every_mail_of_the_real_corpus_reads(shared_data):
    """All 6,046 mails of the five SpamAssassin archives give non-empty text without an error."""
    counts = {}
    for name in ("easy_ham", "easy_ham_2", "hard_ham", "spam", "spam_2"):
        archive = shared_data / "spamassassin" / f"20030228_{name}.tar.bz2"
        if not archive.exists():
            pytest.skip(f"{archive} not found")
        with tarfile.open(archive) as members:
            texts = [mail_to_text(members.extractfile(m).read()) for m in members.getmembers() if m.isfile()]
        assert all(texts), f"{name}: a mail gave no text"
        counts[name] = len(texts)
    assert counts == {"easy_ham": 2500, "easy_ham_2": 1400, "hard_ham": 250, "spam": 500, "spam_2": 1396}
