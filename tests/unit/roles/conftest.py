from __future__ import annotations

import pytest

FAULT_REPORT = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def fault_report(request) -> dict:
    """What the commit-confirm fault-injection test counted; printed at the end of the run."""
    return request.config.stash.setdefault(
        FAULT_REPORT, {"steps": set(), "outcomes": set(), "runs": 0, "unfiltered": 0}
    )


def pytest_terminal_summary(terminalreporter, config) -> None:
    report = config.stash.get(FAULT_REPORT, None)
    if report and report["runs"]:
        points = {step for step, _timeout in report["steps"]}
        terminalreporter.write_line(
            f"fault injection (opto22_segment commit-confirm): {len(points)} steps "
            f"({len(report['steps'])} with and without a confirm timeout) x {len(report['outcomes'])} outcomes "
            f"= {report['runs']} runs, {report['unfiltered']} unfiltered"
        )
