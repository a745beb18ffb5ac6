"""The README's "script your week" block, run as written against a live server: it checks
in on a KR, reads the objective's new progress and pages through every KPI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.models import Role
from okrs.models import CheckIn
from tests.factories import CycleFactory, KeyResultFactory, KpiFactory, ObjectiveFactory
from tests.test_api import make_token

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_script() -> str:
    text = README.read_text()
    block = re.search(r"<!-- script-your-week -->\n```python\n(.*?)```", text, re.S)
    assert block, "the README's script-your-week block"
    return block.group(1)


@pytest.mark.django_db(transaction=True)
def test_readme_script_runs_against_a_live_server(live_server, org, member_of):
    leader = member_of(Role.LEADER)
    cycle = CycleFactory(organization=org)
    objective = ObjectiveFactory(organization=org, cycle=cycle, title="Ship faster")
    kr = KeyResultFactory(objective=objective, start_value=0, target_value=10, current_value=0)
    for i in range(450):  # three pages of 200
        KpiFactory(organization=org, name=f"KPI {i:03}")
    env = {**os.environ, "HEADWAY_URL": live_server.url, "HEADWAY_TOKEN": make_token(org, leader),
           "HEADWAY_KR": str(kr.pk)}
    for _ in range(2):  # a retried job checks in once
        out = subprocess.run([sys.executable, "-c", readme_script()], env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == ["Ship faster: 70%", "450 KPIs, 0 off target"]
    assert CheckIn.objects.filter(key_result=kr).count() == 1
