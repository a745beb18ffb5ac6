"""Refresh the catalogues and fill in translations: the one way the .po files are written.

    .venv/bin/python locale/fill.py [TRANSLATIONS.json ...]

1. `manage.py makemessages` for de, fr and es, both domains (`django`: templates and Python;
   `djangojs`: static/js), so every wrapped string of the tree is in each catalogue and
   translations already there are kept (msgmerge).
2. Each JSON file given maps a msgid to its translations:
       {"Check in": {"de": "Einchecken", "fr": "Faire le point", "es": "Registrar"},
        "%(n)s key result": {"de": ["%(n)s Schlüsselergebnis", "%(n)s Schlüsselergebnisse"]},
        "month\\u0004May": {"de": "Mai"}}
   (a list for a plural; "context\\u0004msgid" for a msgctxt). They fill empty or fuzzy
   entries, or replace an entry whose translation differs (the JSON is the newer word).
3. `manage.py compilemessages`: the .mo files are committed, so running and testing need no
   gettext on the machine.
4. Prints, per language and domain, how many entries there are and how many are still empty.

Several engineers may run it at once: it takes an exclusive lock (fcntl) on locale/.lock for
the whole run, so one run's makemessages never overwrites another's filled entries.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("de", "fr", "es")
IGNORE = [".venv", "tests", "staticfiles", "node_modules", "static/vendor", "docs", "bench/out"]


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def refresh() -> None:
    ignore = [f"--ignore={path}" for path in IGNORE]
    langs = [f"-l{code}" for code in LANGS]
    manage("makemessages", *langs, "--add-location=file", "--no-obsolete", *ignore)
    manage("makemessages", "-d", "djangojs", *langs, "--add-location=file", "--no-obsolete",
           *ignore)


def load(paths: list[str]) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for path in paths:
        for msgid, words in json.loads(Path(path).read_text()).items():
            merged.setdefault(msgid, {}).update(words)
    return merged


def fill(words: dict[str, dict]) -> list[str]:
    report = []
    for code in LANGS:
        for domain in ("django", "djangojs"):
            path = ROOT / "locale" / code / "LC_MESSAGES" / f"{domain}.po"
            if not path.exists():
                continue
            catalogue = polib.pofile(str(path), wrapwidth=100)
            for entry in catalogue:
                key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
                given = words.get(key, {}).get(code)
                if given is None:
                    continue
                if entry.msgid_plural:
                    forms = given if isinstance(given, list) else [given, given]
                    entry.msgstr_plural = dict(enumerate(forms))
                else:
                    entry.msgstr = given if isinstance(given, str) else given[0]
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
                    entry.previous_msgid = entry.previous_msgid_plural = None
                    entry.previous_msgctxt = None  # a lone "#| msgctxt" is a msgfmt syntax error
            catalogue.save()
            empty = [e for e in catalogue if not e.translated() and not e.obsolete]
            report.append(f"{code} {domain}: {len(catalogue)} entries, {len(empty)} not "
                          f"translated" + (f" (first: {empty[0].msgid[:60]!r})" if empty else ""))
    return report


def main(paths: list[str]) -> int:
    with open(ROOT / "locale" / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        refresh()
        report = fill(load(paths))
        manage("compilemessages", "--ignore=.venv")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
