"""The benchmark's HTTP client: one connection with its cookies, the forms of a page, log-in."""

from __future__ import annotations

import http.client
import time
import urllib.parse
from html.parser import HTMLParser


class Session:
    """One HTTP client (its own connection and cookies)."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.port = port
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, bytes, float, dict]:
        hdrs = {"Host": f"127.0.0.1:{self.port}", "User-Agent": "headway-bench"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body, doseq=True).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            hdrs["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            hdrs["Origin"] = f"http://127.0.0.1:{self.port}"
        hdrs.update(headers or {})
        for attempt in range(2):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                payload = resp.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - t0
            for value in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
            return resp.status, payload, elapsed, dict(resp.headers)
        raise RuntimeError("unreachable")


class FormParser(HTMLParser):
    """Collects every form: action, method and the default values of its fields."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or a.get("hx-post") or "",
                          "method": (a.get("method") or ("post" if a.get("hx-post") else "get"))
                          .lower(), "fields": {}, "selects": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button"):
                return
            value = a.get("value")
            if value is None:  # a ticked checkbox or radio without value= sends "on"
                value = "on" if kind in ("checkbox", "radio") else ""
            self._form["fields"][a["name"]] = value
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["selects"][self._select] = []
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form["selects"][self._select].append(value)
            if "selected" in a or self._select not in self._form["fields"]:
                self._form["fields"][self._select] = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_forms(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def login(port: int, email: str, password: str, login_path: str) -> Session:
    s = Session(port)
    status, body, _, _ = s.request("GET", login_path)
    if status != 200:
        raise SystemExit(f"login page: HTTP {status}")
    forms = [f for f in parse_forms(body.decode()) if "csrfmiddlewaretoken" in f["fields"]]
    fields = dict(forms[0]["fields"]) if forms else {}
    user_field = next((n for n in ("username", "email", "login") if n in fields), "username")
    fields.update({user_field: email, "password": password})
    status, body, _, headers = s.request("POST", login_path, fields)
    if status not in (302, 303) or "sessionid" not in s.cookies:
        raise SystemExit(f"login failed: HTTP {status}")
    return s


def wait_http(port: int, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _, _, _ = Session(port).request("GET", path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {path} within {timeout}s")
