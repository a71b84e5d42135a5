"""The README's tables, commands and API example stay true to the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from latent_upscale import methods
from latent_upscale.schedules import registered_schedules
from latent_upscale.webui.job import script_fields

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(title)
    following = re.search(r"\n##+ ", README[start + len(title) :])
    return README[start : start + len(title) + (following.start() if following else len(README))]


def test_script_args_table_lists_every_field_in_order():
    rows = re.findall(r"^\| (\d+) \| (\w+) \|", _section("### HTTP API"), flags=re.MULTILINE)
    assert [(int(i), name) for i, name in rows] == [(i, f.name) for i, f in enumerate(script_fields())]
    words = {8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}
    assert f"always send all {words[len(rows)]}" in README


def test_curl_example_sends_every_script_arg():
    example = re.search(r'"script_args": (\[.*?\])', _section("### HTTP API")).group(1)
    assert len(json.loads(example)) == len(script_fields())


def test_methods_table_covers_every_method():
    section = _section("## Resize methods")
    documented = re.findall(r"^\| `([\w-]+)` \|", section, flags=re.MULTILINE)
    assert set(documented) == set(methods()) - {"neural"}
    assert "neural" in README


def test_schedules_table_covers_every_schedule():
    documented = re.findall(r"^\| `([\w]+)` \|", _section("## Noise schedules"), flags=re.MULTILINE)
    assert documented == [s.id for s in registered_schedules()]


def test_the_two_fresh_machine_commands_are_in_the_readme_and_ci_runs_the_test_one():
    development = _section("## Development")
    demo, test = re.findall(r"```bash\n(.+?)\n```", development)[:2]
    assert "latent_upscale demo" in demo and "pip install" in demo
    assert "pytest" in test and "pip install" in test
    assert test in CI.splitlines()  # .ci/run runs the README's test command word for word
