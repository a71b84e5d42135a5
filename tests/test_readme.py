"""The README's tables, commands and API example stay true to the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from latent_upscale import methods
from latent_upscale.schedules import registered_schedules
from latent_upscale.webui.job import script_fields

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
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


QUICK_START = "## Quick start: the library and the command line"


def test_the_two_fresh_machine_commands_are_in_the_readme_and_ci_runs_the_test_one():
    demo, test = re.findall(r"```bash\n(.+?)\n```", _section(QUICK_START))[:2]
    assert "latent_upscale demo" in demo and "pip install" in demo
    assert "pytest" in test and "pip install" in test
    assert test in CI.splitlines()  # .ci/run runs the README's test command word for word


def test_install_and_quick_start_commands_are_on_the_first_screen():
    first_screen = "\n".join(README.splitlines()[:60])
    assert "## Install" in first_screen and "Install from URL" in first_screen
    assert "git clone" in first_screen and "custom_nodes" in first_screen  # WebUI and ComfyUI
    assert QUICK_START in first_screen
    for command in re.findall(r"```bash\n(.+?)\n```", _section(QUICK_START))[:2]:
        assert command in first_screen
    assert "![" in first_screen  # the before/after picture


def test_the_readme_stays_under_30_kb_and_its_hero_picture_under_400_kb():
    root = Path(__file__).resolve().parents[1]
    assert len(README.encode("utf-8")) < 30 * 1024
    hero = re.search(r"!\[[^\]]*\]\((assets/[^)]+)\)", README).group(1)
    assert (root / hero).stat().st_size < 400_000


def test_every_local_file_the_readme_links_exists():
    root = Path(__file__).resolve().parents[1]
    targets = re.findall(r"\]\(((?:assets|docs|latent_upscale)/[^)#]+)", README)
    assert targets and all((root / target).exists() for target in targets), [
        t for t in targets if not (root / t).exists()
    ]


PYTHON_EXAMPLES = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(PYTHON_EXAMPLES)), ids=lambda i: f"example-{i + 1}")
def test_every_python_example_in_the_readme_runs_as_written(index, tmp_path, monkeypatch):
    example = PYTHON_EXAMPLES[index]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no example may reach the network here
    if 'method="tae"' in example:
        # It downloads the TAEF2 pair where it is missing; here the real pair is found locally instead.
        from tests.helpers.real_weights import require_taef2

        monkeypatch.setenv("LATENT_UPSCALE_MODELS", str(require_taef2()))
    else:
        monkeypatch.setenv("LATENT_UPSCALE_MODELS", str(tmp_path / "no-models"))
    exec(compile(example, f"README.md, Python example {index + 1}", "exec"), {"__name__": "readme_example"})


def test_the_readme_has_python_examples_to_run():
    assert len(PYTHON_EXAMPLES) >= 3


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


def test_the_quality_section_links_the_committed_table_whose_rows_the_methods_table_shows():
    # The full table (SSIM too) lives in assets/quality-results.md; the methods table above carries
    # its PSNR and HaarPSI columns, which test_methods_table_measured_columns_... holds to the JSON.
    assert "](assets/quality-results.md)" in _section("## Quality on real photographs")
    assert [line for line in QUALITY_MD.splitlines() if line.startswith("| `")]


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
    webui_readme = (ROOT / "latent_upscale" / "webui" / "README.md").read_text(encoding="utf-8")
    assert "webui/README.md#hires-fix-through-the-http-api" in _section("### HTTP API")
    example = re.search(r"sdapi/v1/txt2img.*?-d '(\{.*?\})'", webui_readme, flags=re.DOTALL).group(1)
    body = json.loads(example)
    assert body["enable_hr"] and body["hr_additional_modules"] == ["Use same choices"]


def _github_anchor(heading: str) -> str:
    # GitHub's heading ids: lower case, punctuation but hyphens and underscores dropped, spaces → hyphens.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_inside_the_readme_points_at_a_heading():
    anchors = {_github_anchor(h) for h in re.findall(r"^#+ (.+)$", README, flags=re.MULTILINE)}
    links = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert links and links <= anchors, sorted(links - anchors)
