"""A simulated day against the real domain and database: statistics, estimate accuracy, the CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest

from queue_server.cli import main
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.halls import seed
from queue_server.stats.simulate import SCENARIOS, report, scenario_report, simulate_day
from tests.support import demo_config, write_config

SEED = 7


@pytest.fixture
def empty_hall(sqlite_url, settings_for):
    settings = settings_for(sqlite_url)
    engine = make_engine(sqlite_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as s:
        seed(s, settings)
    yield factory, settings
    engine.dispose()


def test_quoted_ranges_on_a_simulated_day_hold_about_the_stated_share_of_waits(empty_hall):
    factory, settings = empty_hall
    result = simulate_day(factory, "erdao", date(2026, 3, 2), settings=settings, seed=SEED)
    st = result.stats
    assert 250 <= st["counts"]["issued"] <= 340, "about 300 arrivals with a morning peak"
    assert st["counts"]["open"] == 0, "everyone with a ticket is served or marked no-show by closing"
    assert st["counts"]["served"] + st["counts"]["no_show"] == st["counts"]["issued"]
    peak = max(st["by_hour"], key=lambda h: h["arrivals"])
    assert peak["hour"] == 10, "the morning peak"
    assert st["estimate"]["count"] == st["counts"]["issued"]
    print(report(result))  # shown with -s: the coverage number of this seed
    est = st["estimate"]
    assert est["coverage"] == 0.8
    assert 0.70 <= est["inside_share"] <= 0.90, "near the stated 80 % (a wide bound: one seeded day)"
    # narrow enough to tell the citizen something: the first heuristics' ranges were 1.8 mean waits wide on this day
    assert est["mean_width_s"] < 1.5 * st["wait"]["mean_s"]
    assert st["wait"]["p90_s"] > st["wait"]["median_s"] > 0
    assert any(a["behind"] for a in result.advice) and not all(a["behind"] for a in result.advice)


def test_the_same_seed_gives_the_same_day(tmp_path, settings_for):
    days = []
    for name in ("one", "two"):
        url = f"sqlite:///{tmp_path}/{name}.sqlite3"
        engine = make_engine(url)
        upgrade(engine)
        factory = session_factory(engine)
        with transaction(factory) as s:
            seed(s, settings_for(url))
        shape_day = simulate_day(factory, "erdao", date(2026, 3, 2), settings=settings_for(url), seed=3)
        days.append((shape_day.stats["counts"], shape_day.stats["wait"], shape_day.stats["estimate"]))
        engine.dispose()
    assert days[0] == days[1]


def test_simulate_command_prints_statistics(tmp_path, capsys):
    config = write_config(
        tmp_path / "config.yaml", demo_config(f"sqlite:///{tmp_path}/live.sqlite3", tmp_path / "data")
    )
    url = f"sqlite:///{tmp_path}/sim.sqlite3"
    args = [
        "--config",
        str(config),
        "simulate",
        "--hall",
        "erdao",
        "--day",
        "2026-03-02",
        "--seed",
        "2",
        "--database",
        url,
        "--json",
    ]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["database"] == url and out["stats"]["hall"] == "erdao" and out["stats"]["counts"]["issued"] > 200
    assert main(args) == 2, "refuses a database that already has that day"
    assert "already has tickets" in capsys.readouterr().err
    assert main(["--config", str(config), "simulate", "--hall", "nowhere"]) == 2
    assert not (tmp_path / "live.sqlite3").exists(), "the hall's own database is never touched"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_scenario_keeps_the_new_estimators_coverage_near_the_stated_share(empty_hall, scenario):
    factory, settings = empty_hall
    result = simulate_day(
        factory, "erdao", date(2026, 3, 2), settings=settings, seed=SEED, shape=SCENARIOS[scenario](), compare=True
    )
    new, old = result.estimators["new"], result.estimators["old"]
    print(scenario_report({scenario: result}, compare=True))  # shown with -s: this seed's figures
    assert new["count"] == old["count"] == result.stats["estimate"]["count"] > 100, "both judged on the same waits"
    assert new["inside_share"] == result.stats["estimate"]["inside_share"], "the new one is what tickets were quoted"
    assert new["coverage"] == 0.8
    # A wide bound (one seeded day; seed 7 gives 67–86 % across the scenarios): it catches a broken estimator
    # (ranges collapsing or blowing up), not a missed target; the targets are the simulate report's.
    assert 0.55 <= new["inside_share"] <= 0.97, "near the stated 80 %"
    assert new["mean_bound_s"] > 0 and new["width_over_bound"] > 0
    assert new["mean_width_s"] != old["mean_width_s"], "the old estimator's ranges are its own"


def test_a_slow_stretch_lengthens_the_waits_of_the_same_day(empty_hall):
    factory, settings = empty_hall
    long = simulate_day(factory, "erdao", date(2026, 3, 2), settings=settings, seed=SEED, shape=SCENARIOS["long"]())
    ordinary = simulate_day(factory, "erdao", date(2026, 3, 3), settings=settings, seed=SEED)
    assert long.stats["service"]["mean_s"] > 1.1 * ordinary.stats["service"]["mean_s"]
    assert long.stats["wait"]["mean_s"] > ordinary.stats["wait"]["mean_s"]


def test_simulate_command_compares_both_estimators_per_scenario(tmp_path, capsys):
    config = write_config(
        tmp_path / "config.yaml", demo_config(f"sqlite:///{tmp_path}/live.sqlite3", tmp_path / "data")
    )
    base = ["--config", str(config), "simulate", "--hall", "erdao", "--day", "2026-03-02", "--seed", "2"]
    assert main([*base, "--scenario", "lunch", "--compare"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("lunch ")]
    assert [row[1] for row in rows[:2]] == ["new", "old"], out
    assert "width new/old" in out and "coverage" in out
    assert main([*base, "--scenario", "rush", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["scenarios"]["rush"]["estimators"]
    assert 0.5 < figures["new"]["inside_share"] <= 1 and figures["new"]["width_over_wait"] > 0
    url = f"sqlite:///{tmp_path}/one.sqlite3"
    assert main([*base, "--scenario", "all", "--database", url]) == 2, "one database holds one scenario's day"
    assert "--database" in capsys.readouterr().err
    assert not (tmp_path / "live.sqlite3").exists()
