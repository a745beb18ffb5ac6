"""The forms of a rendered page, read as a browser would submit them untouched.

Shared by the race and hostile-input suites (a helper module, like tests/url_table.py):
`page_forms(html)` lists every <form> with its action, method and the values its controls
would send (checked boxes, selected options, textareas, hidden inputs), plus which fields a
person can type into.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

TYPABLE = {"text", "search", "email", "url", "tel", "number", "date", "month", "week",
           "datetime-local", "time", "password", "textarea", ""}


@dataclass
class Form:
    action: str
    method: str
    data: dict[str, list[str]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type / select / textarea
    choices: dict[str, list[str]] = field(default_factory=dict)

    def values(self) -> dict[str, list[str] | str]:
        return {k: (v if len(v) != 1 else v[0]) for k, v in self.data.items()}

    def typable(self) -> list[str]:
        return [n for n, kind in self.kinds.items() if kind in TYPABLE and n != "version"]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_has_selected = False
        self.select_multiple = False
        self.option_value: str | None = None
        self.option_selected = False
        self.option_text = ""
        self.textarea: str | None = None
        self.textarea_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = Form(action=a.get("action") or "", method=(a.get("method") or "get").lower())
            self.forms.append(self.form)
            return
        if self.form is None:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            self.form.kinds.setdefault(name, kind)
            if kind in {"checkbox", "radio"}:
                self.form.choices.setdefault(name, []).append(a.get("value") or "on")
                if "checked" in a:
                    self.form.data.setdefault(name, []).append(a.get("value") or "on")
                return
            self.form.data.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name and "disabled" not in a:
            self.select, self.select_first, self.select_has_selected = name, None, False
            self.select_multiple = "multiple" in a
            self.form.kinds[name] = "select"
            self.form.choices.setdefault(name, [])
        elif tag == "option" and self.select:
            self.option_value = a.get("value")
            self.option_selected = "selected" in a
            self.option_text = ""
        elif tag == "textarea" and name:
            self.textarea, self.textarea_text = name, ""
            self.form.kinds[name] = "textarea"

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea_text += data
        elif self.option_value is not None or (self.select and self.option_text is not None):
            self.option_text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "option" and self.select and self.form is not None:
            value = self.option_value if self.option_value is not None else self.option_text.strip()
            self.form.choices[self.select].append(value)
            if self.select_first is None:
                self.select_first = value
            if self.option_selected:
                self.select_has_selected = True
                self.form.data.setdefault(self.select, []).append(value)
            self.option_value = None
        elif tag == "select" and self.select and self.form is not None:
            if not self.select_has_selected and not self.select_multiple and self.select_first is not None:
                self.form.data.setdefault(self.select, []).append(self.select_first)
            self.select = None
        elif tag == "textarea" and self.textarea and self.form is not None:
            text = self.textarea_text[1:] if self.textarea_text.startswith("\n") else self.textarea_text
            self.form.data.setdefault(self.textarea, []).append(text)
            self.textarea = None


def page_forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    return parser.forms
