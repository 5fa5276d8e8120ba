"""`report --html`: one self-contained page, drawn by headless Chromium with the network cut
off; its charts carry exactly the numbers of `report --json`, and campaign text is escaped and
PII-masked."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine

from tests.reporting.conftest import cli, make_campaign

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs the Debian package)"
)
FIGURE = re.compile(r'<script type="application/json" id="figure-(\w+)">(.*?)</script>', re.S)


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with every request sent to a closed port: only what is inline draws."""
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--window-size=1280,2600",
            "--virtual-time-budget=20000",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def figures(page: Path) -> dict[str, dict[str, Any]]:
    return {key: json.loads(body) for key, body in FIGURE.findall(page.read_text("utf-8"))}


def traces(fig: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in fig["data"]}


def write_page(url: str, cid: str, path: Path) -> dict[str, Any]:
    """The page and the JSON report of one campaign, from the CLI."""
    made = cli(url, "report", cid, "--html", str(path))
    assert made.returncode == 0, made.stderr
    assert f"charts written to {path}" in " ".join(made.stdout.split())
    return json.loads(cli(url, "report", cid, "--json").stdout)


@needs_chromium
def test_the_page_draws_offline_and_is_not_blank(
    report_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = report_db
    page = tmp_path / "report.html"
    write_page(url, make_campaign(engine), page)
    html = page.read_text("utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    shot = tmp_path / "shot.png"
    run = chromium(page, tmp_path / "profile", f"--screenshot={shot}")
    assert shot.is_file(), run.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    size = image.width * image.height
    inked = sum(image.convert("L").histogram()[:235]) / size
    coloured = sum(image.convert("HSV").getchannel("S").histogram()[80:]) / size
    # text alone inks well under 1 % and is grey; the bars, funnels and markers are coloured
    assert inked > 0.03 and coloured > 0.01, (inked, coloured)
    dom = chromium(page, tmp_path / "profile", "--dump-dom").stdout
    drawn = re.findall(r'id="chart-(\w+)"[^>]*>\s*<div class="plot-container plotly"', dom)
    assert sorted(drawn) == sorted(figures(page)) == ["funnel", "kpi", "lift", "sends", "spend"]


def test_the_charts_hold_the_numbers_of_the_json_report(
    report_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = report_db
    page = tmp_path / "report.html"
    body = write_page(url, make_campaign(engine), page)
    figs = figures(page)

    sends = traces(figs["sends"])
    assert set(sends) == set(body["timeline"]["channels"]) == {"email", "sms"}
    for channel, points in body["timeline"]["channels"].items():
        assert sends[channel]["x"] == [start for start, _ in points]
        assert sends[channel]["y"] == [n for _, n in points]
    assert sum(sum(t["y"]) for t in sends.values()) == body["total"]["sent"] == 30

    funnel = traces(figs["funnel"])
    for channel, line in body["channels"].items():
        assert funnel[channel]["y"] == [
            line[k] for k in ("sent", "delivered", "opened", "clicked", "conversions")
        ]

    g = body["groups"]
    rates, lift = figs["lift"]["data"]
    assert rates["y"] == [g["treated_rate"], g["holdout_rate"]]
    for i, ci in enumerate((g["treated_ci"], g["holdout_ci"])):
        assert rates["y"][i] + rates["error_y"]["array"][i] == pytest.approx(ci[1])
        assert rates["y"][i] - rates["error_y"]["arrayminus"][i] == pytest.approx(ci[0])
    assert lift["y"] == [g["lift"]]
    assert lift["y"][0] + lift["error_y"]["array"][0] == pytest.approx(g["lift_ci"][1])
    assert lift["y"][0] - lift["error_y"]["arrayminus"][0] == pytest.approx(g["lift_ci"][0])

    spend = traces(figs["spend"])
    assert spend["budget"]["y"] == [float(body["budget_limit"])]
    for channel, line in body["channels"].items():
        assert spend[channel]["y"] == [float(line["cost"])]

    kpi = traces(figs["kpi"])
    for name, k in body["kpi"].items():
        assert kpi[name]["y"] == [k["target"], k["actual"]]
        assert kpi[name]["x"] == ["target", "actual so far"]  # still sending: not final
    assert "(so far)" in figs["kpi"]["layout"]["title"]["text"]


def test_campaign_text_is_escaped_and_masked(report_db: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = report_db
    name = '</script><img src=x onerror="alert(1)">会员日 13812345678 wang.wu@example.com'
    page = tmp_path / "report.html"
    write_page(url, make_campaign(engine, name=name), page)
    html = page.read_text("utf-8")
    assert "<img src=x" not in html and "</script><img" not in html
    assert "13812345678" not in html and "wang.wu@example.com" not in html
    assert (
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;会员日 138****5678 w***@example.com" in html
    )


def test_an_unwritable_file_is_one_clear_line(
    report_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = report_db
    out = cli(url, "report", make_campaign(engine), "--html", str(tmp_path / "no" / "r.html"))
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"error: cannot write {tmp_path / 'no' / 'r.html'}: No such file or directory"
    ]
