"""reports/fidelity.py: the side-by-side rows and the issue's targets (pure: no runs)."""

from __future__ import annotations

from pathlib import Path

from swimlab.reports.fidelity import Samples, compare, quantile, write


def samples(**values: list[float | None]) -> Samples:
    return Samples(dict(values))


def row(rows, key):  # type: ignore[no-untyped-def]
    (found,) = [r for r in rows if r.key == key]
    return found


def test_a_timing_is_within_target_up_to_twenty_percent_or_one_probe_interval() -> None:
    sim = samples(first_dead=[10.0, 10.0, 10.0], remerge=[2.0])
    close = samples(first_dead=[11.9, 12.0, 12.0], remerge=[2.9])  # +20% / +0.9 s (< 1 probe interval)
    far = samples(first_dead=[12.5, 12.5, 12.5], remerge=[3.5])  # +25% / +1.5 s
    rows = compare(sim, close, 1.0, ["first_dead", "remerge"])
    assert row(rows, "first_dead").within and row(rows, "remerge").within
    assert row(rows, "first_dead").ratio == 1.2
    rows = compare(sim, far, 1.0, ["first_dead", "remerge"])
    assert row(rows, "first_dead").within is False and row(rows, "remerge").within is False


def test_a_sample_that_never_happened_is_counted_and_fails_the_target() -> None:
    rows = compare(
        samples(dead_everywhere=[5.0, 5.0]), samples(dead_everywhere=[5.0, None]), 1.0, ["dead_everywhere"]
    )
    r = row(rows, "dead_everywhere")
    assert r.missing == (0, 1) and r.within is False and r.live_median == 5.0


def test_false_positives_are_within_target_only_when_neither_side_raised_any() -> None:
    assert row(
        compare(samples(false_positives=[0.0]), samples(false_positives=[0.0]), 1.0, []), "false_positives"
    ).within
    assert not row(
        compare(samples(false_positives=[0.0]), samples(false_positives=[3.0]), 1.0, []), "false_positives"
    ).within


def test_nearest_rank_quantiles() -> None:
    assert quantile([3.0, 1.0, 2.0], 0.5) == 2.0 and quantile([1.0, 2.0, 3.0, 4.0], 0.9) == 4.0
    assert quantile([], 0.5) is None


def test_the_report_files(tmp_path: Path) -> None:
    sim = samples(first_suspect=[1.0, 2.0], false_positives=[0.0], messages_per_node_per_s=[2.5])
    live = samples(first_suspect=[1.1, 2.1], false_positives=[0.0], messages_per_node_per_s=[2.6])
    rows = compare(sim, live, 1.0, ["first_suspect"])
    written = write(tmp_path, rows, sim, live, "t", ["a note"], {"command": "swimlab fidelity x"})
    names = {p.name for p in written}
    assert {"fidelity.md", "fidelity.json", "fidelity.png", "index.html"} <= names
    assert "| first suspicion (s after crash) | 1.00 |" in (tmp_path / "fidelity.md").read_text()
