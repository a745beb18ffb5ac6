"""checkin2: bench/client.py's form parser sends what a browser sends — a ticked checkbox (or
radio) without value= as "on", one with value= as its value, an unticked one not at all."""

from __future__ import annotations

from bench.client import parse_forms


def test_a_ticked_checkbox_without_value_sends_on():
    (form,) = parse_forms("""
    <form method="post" action="/o/x/check-ins/all/">
      <input type="checkbox" name="kr7-done" checked>
      <input type="checkbox" name="kr8-done">
      <input type="checkbox" name="untouched" value="1" checked>
      <input type="checkbox" name="empty" value="" checked>
      <input type="radio" name="pick" checked>
      <input name="kr7-value">
    </form>""")
    assert form["fields"] == {"kr7-done": "on", "untouched": "1", "empty": "", "pick": "on",
                              "kr7-value": ""}
