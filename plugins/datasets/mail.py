"""Raw RFC 822 mail -> the text a classifier reads: the subject, then the plain-text body.

Headers other than the subject are dropped on purpose: in the SpamAssassin corpus they carry
dates, relay host names and list headers that tell its older and later collections (and ham
from spam) apart without reading a word, so a model could score well while learning nothing
about the text.

Real mail is messy, and this never raises on any input:
- a part may declare a charset Python does not know (``default_charset``, ``x-unknown``):
  it is decoded as UTF-8 with replacement characters instead;
- a body may be HTML only: tags, scripts and styles are dropped, entities unescaped;
- base64 and quoted-printable bodies are decoded by the standard library's ``email`` package.
"""

import email
import email.policy
import html
import re
from email.message import Message
from html.parser import HTMLParser

_WHITESPACE = re.compile(r"\s+")


class _TextOfHTML(HTMLParser):
    """Collects the text of an HTML document, skipping <script> and <style> contents."""

    SKIPPED = {"script", "style", "head", "title"}
    BREAKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "td", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The visible text of ``markup``; malformed HTML gives what could be read, never an error."""
    parser = _TextOfHTML()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient, but a broken document must not lose the mail
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    return "".join(parser.parts)


def part_text(part: Message) -> str:
    """The decoded text of one leaf part (transfer encoding and charset undone)."""
    payload = part.get_payload(decode=True)  # bytes with base64 / quoted-printable undone; None if not text
    if payload is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # a charset that does not exist, e.g. "default_charset"
        return payload.decode("utf-8", errors="replace")


def subject_of(message: Message) -> str:
    raw = message.get("Subject", "")
    try:
        decoded = email.header.make_header(email.header.decode_header(str(raw)))
        return str(decoded)
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return str(raw)


def mail_to_text(raw: bytes) -> str:
    """The subject and every text part of the body (HTML parts as their visible text), as one string
    with runs of whitespace collapsed to single spaces. Empty when the mail holds no text at all."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    plain, markup = [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            plain.append(part_text(part))
        elif kind == "text/html":
            markup.append(html_to_text(part_text(part)))
    # A multipart/alternative mail has the same text twice; prefer the plain version when there is one.
    body = plain if any(p.strip() for p in plain) else markup
    return _WHITESPACE.sub(" ", " ".join([subject_of(message), *body])).strip()
