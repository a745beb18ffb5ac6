#!/usr/bin/env python
"""How many actions a member's weekly check-in takes (issue 19), in Debian's Chromium.

A team page with six metric key results owned by one member, two of which changed this
week. The script does the check-in as a person would with mouse and keyboard and counts
the actions: clicks and key presses outside the typed values (typing "55" is not counted,
the click into the field is, and a select-all when the click did not select the prefilled
value). It then checks in the database that the six check-ins were
recorded with the two new values, so an action count is only reported for a check-in that
really happened. Run at 1280 px and 390 px wide.

    .venv/bin/python bench/checkin_actions.py                 # this tree
    .venv/bin/python bench/checkin_actions.py --tree /tmp/old # another checkout (before)

Each run migrates a fresh SQLite database in /tmp, seeds it with `manage.py shell` in the
measured tree, serves it with `manage.py runserver` on --port (8183) and drives Chromium
with Playwright. The page decides the strategy: with a "Check in all" button, change the
two rows, tick "the rows I did not change: no change" and press it; without one (the page
before issue 19), check in each row with its own button, clicking into the value first
where it changed. Prints one JSON line per width; --markdown prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")

SEED = r"""
import datetime as dt, json
from django.test import Client
from django.utils import timezone
from accounts.models import Membership, Organization, Role, Team, User
from goals.models import Cycle
from okrs.models import KeyResult, Objective
org = Organization.objects.create(name="Demo", slug="demo")
user = User.objects.create_user(email="mark@example.com", password="x", name="Mark Member")
Membership.objects.create(user=user, organization=org, role=Role.MEMBER)
team = Team.objects.create(organization=org, name="Support", slug="support")
team.members.add(user)
today = timezone.localdate()
cycle = Cycle.objects.create(organization=org, name="This quarter", kind="quarter",
                             start=today - dt.timedelta(days=45), end=today + dt.timedelta(days=45))
objectives = [Objective.objects.create(organization=org, cycle=cycle, team=team, owner=user,
                                       title=f"Objective {i + 1}") for i in range(2)]
krs = []
for i in range(6):
    krs.append(KeyResult.objects.create(
        organization=org, objective=objectives[i // 3], title=f"Key result {i + 1}",
        start_value=0, target_value=100, current_value=40 + i, unit="tickets", owner=user))
client = Client()
client.force_login(user)
print("SEED" + json.dumps({"session": client.cookies["sessionid"].value,
                           "krs": [k.pk for k in krs]}))
"""

CHECK = r"""
import json
from okrs.models import CheckIn, KeyResult
ids = %s
print("CHECK" + json.dumps({
    "checkins": CheckIn.objects.filter(key_result_id__in=ids).count(),
    "values": [KeyResult.objects.get(pk=i).current_value for i in ids]}))
"""


def _manage(tree: Path, env: dict, *args: str, capture: bool = False) -> str:
    out = subprocess.run([PYTHON, "manage.py", *args], cwd=tree, env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout


def _tagged(text: str, tag: str) -> dict:
    line = next(x for x in text.splitlines() if x.startswith(tag))
    return json.loads(line[len(tag):])


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (our own server on 127.0.0.1)
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not answer")


class Counter:
    """Clicks and key presses, counted as they are made (typed values are not counted)."""

    def __init__(self, page):
        self.page = page
        self.actions: list[str] = []

    def click(self, selector: str) -> None:
        self.actions.append(f"click {selector}")
        self.page.locator(selector).click()

    def press(self, key: str) -> None:
        self.actions.append(f"press {key}")
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:  # the typed value itself: not an action
        self.page.keyboard.type(text)


def replace_value(page, counter: Counter, pk: int, value: str) -> None:
    """Click into the row's value and type the new one; select the prefilled value first
    (one more action) only when the click did not select it."""
    selector = f"#id_kr{pk}-value"
    counter.click(selector)
    selected = page.locator(selector).evaluate(
        "el => el.selectionStart === 0 && el.selectionEnd === el.value.length")
    if not selected:
        counter.press("Control+A")
    counter.type(value)


def check_in(page, counter: Counter, krs: list[int], changed: dict[int, str]) -> None:
    if page.locator("#ci-all-go").count():
        for pk, value in changed.items():
            replace_value(page, counter, pk, value)
        counter.click("#ci-untouched")
        counter.click("#ci-all-go")
        page.locator("#ci-all-summary").wait_for(timeout=20_000)
        return
    for pk in krs:  # the page before issue 19: a button per row
        if pk in changed:
            replace_value(page, counter, pk, changed[pk])
        counter.click(f"#kr-row-{pk} button[type=submit]")
        page.locator(f"#kr-row-{pk}.ci-row--saved").wait_for(timeout=20_000)


def run_width(tree: Path, width: int, port: int) -> dict:
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="checkin_actions_"))
    env = {**os.environ, "SQLITE_NAME": str(workdir / "db.sqlite3"), "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    _manage(tree, env, "migrate", "--noinput")
    seed = _tagged(_manage(tree, env, "shell", "-c", SEED), "SEED")
    krs = seed["krs"]
    changed = {krs[1]: "55", krs[4]: "62"}
    server = subprocess.Popen([PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}",
                               "--noreload"], cwd=tree, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/accounts/login/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.add_cookies([{"name": "sessionid", "value": seed["session"],
                                  "url": base}])
            page = context.new_page()
            page.goto(base + "/o/demo/teams/support/check-in/")
            counter = Counter(page)
            started = time.monotonic()
            check_in(page, counter, krs, changed)
            elapsed = time.monotonic() - started
            page.screenshot(path=str(workdir / f"after-{width}.png"), full_page=True)
            browser.close()
        check = _tagged(_manage(tree, env, "shell", "-c", CHECK % json.dumps(krs)), "CHECK")
    finally:
        server.terminate()
        server.wait(timeout=20)
    expected_values = [float(changed.get(pk, 40 + i)) for i, pk in enumerate(krs)]
    ok = check["checkins"] == 6 and check["values"] == expected_values
    return {"width": width, "actions": len(counter.actions), "ok": ok,
            "checkins": check["checkins"], "values": check["values"],
            "steps": counter.actions, "seconds_under_load": round(elapsed, 2),
            "screenshot": str(workdir / f"after-{width}.png")}


TIMING = r"""
import datetime as dt, json, re, statistics, time
from django.test import Client
from django.utils import timezone
from accounts.models import Membership, Organization, Role, Team, User
from goals.models import Cycle
from okrs.models import KeyResult, Objective
org, created = Organization.objects.get_or_create(slug="timing", defaults={"name": "Timing"})
user, _ = User.objects.get_or_create(email="timing@example.com", defaults={"name": "Tim"})
Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.MEMBER})
today = timezone.localdate()
if created:
    cycle = Cycle.objects.create(organization=org, name="Q", kind="quarter",
                                 start=today - dt.timedelta(days=45), end=today + dt.timedelta(days=45))
    for t in range(%(teams)d):
        team = Team.objects.create(organization=org, name=f"Team {t}", slug=f"team-{t}")
        team.members.add(user)
        for o in range(6):
            obj = Objective.objects.create(organization=org, cycle=cycle, team=team, title=f"O{o}")
            KeyResult.objects.bulk_create([KeyResult(
                organization=org, objective=obj, title=f"KR {o}.{k}", start_value=0,
                target_value=100, current_value=40, owner=user) for k in range(6)])
client = Client()
client.force_login(user)
page = "/o/timing/teams/team-0/check-in/"
def form():
    html = client.get(page).content.decode()
    data = {m.group(1): m.group(2) for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)}
    for m in re.finditer(r'name="(kr\d+-status)"[^>]*>(.*?)</select>', html, re.S):
        data[m.group(1)] = re.search(r'<option value="([^"]*)" selected', m.group(2)).group(1)
    ids = sorted({int(k[2:-5]) for k in data if k.endswith("-orig")})
    return data, ids
single, every = [], []
for i in range(%(repeat)d):
    data, ids = form()
    data[f"kr{ids[0]}-value"] = str(41 + i %% 50)
    t = time.perf_counter()
    r = client.post(f"/o/timing/check-ins/kr/{ids[0]}/new/", data, HTTP_HX_REQUEST="true")
    single.append((time.perf_counter() - t) * 1000)
    assert r.status_code == 200
for i in range(%(repeat_all)d):
    data, ids = form()
    for pk in ids:
        data[f"kr{pk}-value"] = str(50 + i %% 40)
    t = time.perf_counter()
    r = client.post("/o/timing/teams/team-0/check-in/all/", data, HTTP_HX_REQUEST="true")
    every.append((time.perf_counter() - t) * 1000)
    assert r.status_code == 200 and b"36 checked in" in r.content, r.content[:300]
print("TIMING" + json.dumps({"rows": len(ids), "krs_in_org": KeyResult.objects.filter(organization=org).count(),
      "single_p50_ms": round(statistics.median(single), 1), "all36_p50_ms": round(statistics.median(every), 1),
      "single_n": len(single), "all_n": len(every)}))
"""


def timing(tree: Path, database_url: str, teams: int = 20) -> dict:
    """p50 of the single check-in POST and of "check in all" of a 36-row team page, in
    process (Django's test client: the whole middleware stack, no HTTP server), on the
    PostgreSQL database `database_url` (migrated here; the organisation seeded once)."""
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    _manage(tree, env, "migrate", "--noinput")
    code = TIMING % {"teams": teams, "repeat": 30, "repeat_all": 10}
    return _tagged(_manage(tree, env, "shell", "-c", code), "TIMING")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout to measure")
    ap.add_argument("--port", type=int, default=8183)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--timing", metavar="DATABASE_URL",
                    help="measure the POSTs' p50 on this PostgreSQL database instead")
    args = ap.parse_args(argv)
    if args.timing:
        print(json.dumps(timing(args.tree, args.timing)))
        return 0
    results = [run_width(args.tree, width, args.port) for width in (1280, 390)]
    for r in results:
        print(json.dumps(r))
    if args.markdown:
        print("| width | actions | six check-ins recorded, two new values |")
        print("|---|---|---|")
        for r in results:
            print(f"| {r['width']} px | {r['actions']} | {'yes' if r['ok'] else 'NO'} |")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
