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


QUALITY = json.loads((Path(__file__).resolve().parents[1] / "assets" / "quality-results.json").read_text())
QUALITY_MD = (Path(__file__).resolve().parents[1] / "assets" / "quality-results.md").read_text(
    encoding="utf-8"
)


def test_methods_table_measured_columns_are_the_committed_quality_results():
    rows = {(r["method"], r["scale"]): r for r in QUALITY["rows"]}
    table = re.findall(
        r"^\| `([\w-]+)` \| [^|]+ \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|",
        _section("## Resize methods"),
        flags=re.MULTILINE,
    )
    # A new method without committed numbers yet shows dashes in its row (test_quality_evidence.py
    # says how to measure it); every measured method shows its numbers.
    measured = {method for method in methods() if (method, 2.0) in rows}
    assert {method for method, *_ in table} == measured - {"neural"}
    for method, psnr15, haar15, psnr2, haar2 in table:
        for scale, psnr, haar in ((1.5, psnr15, haar15), (2.0, psnr2, haar2)):
            row = rows[(method, scale)]
            assert (psnr, haar) == (f"{row['psnr']:.1f}", f"{row['perceptual']:.3f}"), (method, scale)


def test_quality_table_is_the_committed_markdown_table():
    committed = [line for line in QUALITY_MD.splitlines() if line.startswith("| `")]
    shown = [
        line for line in _section("## Quality on real photographs").splitlines() if line.startswith("| `")
    ]
    assert committed and shown == committed


def test_default_method_in_the_api_table_and_the_python_example_is_the_real_default():
    from latent_upscale import DEFAULT_METHOD

    assert f"| 0 | method | `{DEFAULT_METHOD}` |" in _section("### HTTP API")
    assert f"default method: {DEFAULT_METHOD}" in _section("## Python API")


def test_script_args_ranges_are_the_accepted_ranges():
    ranges = re.findall(
        r"^\| \d+ \| (\w+) \| [^|]+ \| ([\d.]+)–([\d.]+), used with",
        _section("### HTTP API"),
        flags=re.MULTILINE,
    )
    from latent_upscale.schedules import get_schedule

    fields = {f.name: f for f in script_fields()}
    assert len(ranges) == sum(f.schedule is not None for f in fields.values())
    for name, low, high in ranges:
        spec = {p.name: p for p in get_schedule(fields[name].schedule).params}[fields[name].param]
        assert (float(low), float(high)) == (spec.minimum, spec.maximum), name


def test_txt2img_hires_example_carries_forges_hr_additional_modules():
    example = re.search(
        r"sdapi/v1/txt2img.*?-d '(\{.*?\})'", _section("### HTTP API"), flags=re.DOTALL
    ).group(1)
    body = json.loads(example)
    assert body["enable_hr"] and body["hr_additional_modules"] == ["Use same choices"]


def _github_anchor(heading: str) -> str:
    # GitHub's heading ids: lower case, punctuation but hyphens and underscores dropped, spaces → hyphens.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_inside_the_readme_points_at_a_heading():
    anchors = {_github_anchor(h) for h in re.findall(r"^#+ (.+)$", README, flags=re.MULTILINE)}
    links = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert links and links <= anchors, sorted(links - anchors)
