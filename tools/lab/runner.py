"""The site as AWX runs it: ansible-runner on a private data dir, against the running lab (``python -m tools.lab
runner``, ``up --prove-runner``), and job slicing proved against one full run (``up --prove-slicing``).

A private data dir (``STATE/runner``) is what AWX hands ansible-runner for a job; the lab builds one from its pieces:

    project/           the site directory as the lab copied it (STATE/site: site.yml, ansible.cfg, ./collections with
                       the collection tarball installed) - an AWX project; its inventory/ is left out: the job's
                       inventory comes from the inventory below, as in AWX
    inventory/hosts.yml  the lab's inventory sources (the site's inventory and STATE/layer) flattened into one static
                       inventory by ``ansible-inventory --list --export`` - what AWX's inventory import stores (group
                       variables on the groups, host variables on the hosts); a job slice keeps only its hosts
    env/extravars      the job template's extra variables (the Igor gateways plan-only, where plans go)
    env/envvars        the execution environment's variables (ANSIBLE_COLLECTIONS_PATH, ANSIBLE_CONFIG ...)
    env/settings       process_isolation: false (no container: the lab's routers are namespaces on this machine)
    artifacts/IDENT/   written by ``ansible-runner run DIR -p PLAYBOOK --ident IDENT``: status, rc, stdout,
                       job_events/*.json (the events AWX shows as the job's output)

Job slicing (AWX ``job_slice_count``): the inventory's hosts, sorted by name, dealt round-robin into N slices; each
slice is its own job with an inventory of only its hosts (``slice_inventory``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from . import report, site

RUNNER_DIR = "runner"
SITE_PLAYBOOK = "site.yml"  # the project's playbook: imports otnet.ports.site with the site's rollout settings
PLAN_PLAYBOOK = "otnet.ports.plan"
PLAN_DIR = "plan"
JOB_TIMEOUT = 600
ROLE_TASKS = {  # task names of the roles the job events must show (checked against the roles' tasks files too)
    "opto22_segment": (
        "Check the settings and plan the policy",
        "Compare the live table and the rules file with the rendered rules",
    ),
    "igor_gateway": ("Check the igor_gateway variables and compute igor_gateway_plan",),
}
LOAD_TASK = "Load the rules in one nft transaction (the previous ones saved, the rollback timer armed)"


class RunnerError(site.SiteError):
    """Building or running the private data dir failed."""


# ---- the private data dir --------------------------------------------------------------------------------------


def export_inventory(site_dir: Path, *sources: str) -> dict[str, Any]:
    """Inventory sources (relative to ``site_dir``) as one static inventory: ``ansible-inventory --list --export``."""
    command = [site._bin("ansible-inventory"), *(a for s in sources for a in ("-i", s)), "--list", "--export"]
    proc = subprocess.run(
        [*command, "--yaml"], cwd=site_dir, env=site.ansible_env(site_dir), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RunnerError(f"ansible-inventory on {', '.join(sources)} failed (rc {proc.returncode}):\n{proc.stderr}")
    import yaml  # noqa: PLC0415 - Ansible's dependency, present wherever the lab runs

    return yaml.safe_load(proc.stdout)


def lab_inventory(state: Path) -> dict[str, Any]:
    """The lab's inventory sources (STATE/site/inventory, STATE/layer) as one inventory."""
    return export_inventory(state / "site", "inventory", str(state / "layer"))


def _groups(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in (node.get("children") or {}).values():
        yield from _groups(child or {})


def inventory_hosts(inventory: Mapping[str, Any]) -> list[str]:
    """Every host of an inventory (YAML inventory shape), sorted by name."""
    return sorted({host for group in _groups(inventory.get("all") or {}) for host in group.get("hosts") or {}})


def slice_hosts(hosts: list[str], number: int, count: int) -> list[str]:
    """AWX's slice ``number`` (1-based) of ``count``: the hosts sorted by name, every count-th from number-1."""
    if not 1 <= number <= count:
        raise RunnerError(f"slice {number} of {count}: the slice number must be 1 to {count}")
    return sorted(hosts)[number - 1 :: count]


def slice_inventory(inventory: Mapping[str, Any], number: int, count: int) -> dict[str, Any]:
    """The inventory of slice ``number`` of ``count``: every group kept, with only the slice's hosts (and their
    variables); group variables unchanged."""
    keep = set(slice_hosts(inventory_hosts(inventory), number, count))
    sliced = copy.deepcopy(dict(inventory))
    for group in _groups(sliced.get("all") or {}):
        hosts = group.get("hosts")
        if hosts:
            group["hosts"] = {name: value for name, value in hosts.items() if name in keep}  # type: ignore[index]
    return sliced


def envvars(project: Path) -> dict[str, str]:
    """The execution environment's variables: the project's ansible.cfg and collections, this venv's Python."""
    return {
        "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": f"{project / 'collections'}{os.pathsep}{site.dependency_path()}",
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(project.parent / "tmp"),
    }


def build(dest: Path, site_dir: Path, inventory: Mapping[str, Any], extravars: Mapping[str, Any]) -> Path:
    """A private data dir at ``dest`` (replaced): project = ``site_dir`` without its inventory/, the given inventory
    and extra variables, envvars and settings. Returns ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    project = dest / "project"
    shutil.copytree(site_dir, project, symlinks=True, ignore=shutil.ignore_patterns("inventory", "*.retry"))
    _json(dest / "inventory" / "hosts.yml", inventory)  # JSON is YAML
    _json(dest / "env" / "extravars", extravars)
    _json(dest / "env" / "envvars", envvars(project))
    _json(dest / "env" / "settings", {"process_isolation": False, "job_timeout": JOB_TIMEOUT})
    return dest


def _json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def lab_extravars(state: Path, data_dir: Path) -> dict[str, Any]:
    """The extra variables the lab's ansible-playbook runs pass (cli._inventory_args), plus where the plan goes."""
    return {
        "otnet_ports_site_igor_plan_only": True,
        "otnet_ports_site_plan_dir": str(state / "plans"),
        "otnet_ports_plan_dir": str(data_dir / PLAN_DIR),
        "otnet_ports_plan_site": "lab-site",
    }


# ---- running it and reading the artifacts ----------------------------------------------------------------------


def command(data_dir: Path, playbook: str, ident: str) -> list[str]:
    executable = site._bin("ansible-runner")
    if not shutil.which(executable):
        raise RunnerError("ansible-runner is not installed; `make setup` installs it (requirements-dev.txt)")
    return [executable, "run", str(data_dir), "-p", playbook, "--ident", ident]


def start(data_dir: Path, playbook: str, ident: str, log: Path) -> subprocess.Popen[str]:
    """``ansible-runner run DIR -p PLAYBOOK --ident IDENT`` in the background, its output into ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    argv = command(data_dir, playbook, ident)
    with log.open("w") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)


def run(data_dir: Path, playbook: str, ident: str, log: Path, echo: bool = False) -> Path:
    """Run one job in the foreground; returns its artifacts directory."""
    rc = start(data_dir, playbook, ident, log).wait()
    if echo:
        sys.stdout.write(log.read_text())
    artifacts = data_dir / "artifacts" / ident
    if not artifacts.is_dir():
        raise RunnerError(f"ansible-runner wrote no artifacts (rc {rc}); output in {log}")
    return artifacts


def read_artifacts(artifacts: Path) -> dict[str, Any]:
    """status, rc, the job events and per host the tasks they show: {host: {role: {task: [event, ...]}}}, and the
    play recap (playbook_on_stats)."""
    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
    events.sort(key=lambda event: event.get("counter", 0))
    tasks: dict[str, dict[str, dict[str, list[str]]]] = {}
    stats: dict[str, Any] = {}
    for event in events:
        data = event.get("event_data") or {}
        if event.get("event") == "playbook_on_stats":
            stats = data
        host, task = data.get("host"), data.get("task")
        if not (host and task and str(event.get("event", "")).startswith("runner_on_")):
            continue
        outcome = event["event"].removeprefix("runner_on_")
        if outcome == "ok" and (data.get("res") or {}).get("changed"):
            outcome = "changed"
        tasks.setdefault(host, {}).setdefault(data.get("role") or "", {}).setdefault(task, []).append(outcome)
    status = artifacts / "status"
    rc = artifacts / "rc"
    return {
        "status": status.read_text().strip() if status.exists() else "",
        "rc": int(rc.read_text().strip()) if rc.exists() else None,
        "events": len(events),
        "tasks": tasks,
        "stats": stats,
    }


def ran(job: Mapping[str, Any], host: str, role: str, task: str, outcomes: tuple[str, ...] = ("ok", "changed")) -> bool:
    """Did ``task`` of ``role`` run on ``host`` with one of ``outcomes``?"""
    return any(o in outcomes for o in job["tasks"].get(host, {}).get(role, {}).get(task, []))


def role_task_names(collections_path: Path, role: str) -> set[str]:
    """Every task name in the installed role's tasks files (so the checked names cannot silently go stale)."""
    names: set[str] = set()
    for path in (collections_path / "ansible_collections/otnet/ports/roles" / role / "tasks").glob("*.yml"):
        for line in path.read_text().splitlines():
            text = line.strip()
            if text.startswith("- name: "):
                names.add(text.removeprefix("- name: ").strip().strip("'\""))
    return names


def _task_checks(job: Mapping[str, Any], collections_path: Path, routers: list[str], gateways: list[str]) -> dict:
    checks: dict[str, bool] = {}
    for role, names in ROLE_TASKS.items():
        known = role_task_names(collections_path, role)
        hosts = routers if role == "opto22_segment" else gateways
        for name in names:
            checks[f"role {role}: task '{name}' ran on {', '.join(hosts) or 'no host'}"] = (
                name in known and bool(hosts) and all(ran(job, host, role, name) for host in hosts)
            )
    return checks


def _job_checks(what: str, job: Mapping[str, Any]) -> dict[str, bool]:
    return {
        f"{what}: status successful, rc 0 ({job['status']}, rc {job['rc']}, {job['events']} events)": (
            job["status"] == "successful" and job["rc"] == 0
        )
    }


def _print(checks: Mapping[str, bool]) -> None:
    for what, good in checks.items():
        print(f"  {report.OK if good else report.BAD} {what}")


# ---- `runner` and `up --prove-runner` ----------------------------------------------------------------------------


def jobs(state: Path, echo: bool) -> tuple[Path, dict[str, Path]]:
    """STATE/runner built from the lab; the site job then the plan job. Returns the data dir and the artifacts."""
    data_dir = state / RUNNER_DIR
    build(data_dir, state / "site", lab_inventory(state), lab_extravars(state, data_dir))
    artifacts = {}
    for ident, playbook in (("site", SITE_PLAYBOOK), ("plan", PLAN_PLAYBOOK)):
        print(f"\n== ansible-runner run {data_dir} -p {playbook} --ident {ident}")
        artifacts[ident] = run(data_dir, playbook, ident, state / "log" / f"runner-{ident}.log", echo=echo)
    return data_dir, artifacts


def prove(state: Path, routers: list[str], gateways: list[str], echo: bool = False) -> bool:
    """The site and plan playbooks through ansible-runner against the rolled-out lab; their artifacts checked."""
    print("\n== AWX's engine: ansible-runner (process isolation off) on a private data dir built from the lab ==")
    data_dir, artifacts = jobs(state, echo)
    collections_path = data_dir / "project" / "collections"
    site_job, plan_job = (read_artifacts(artifacts[ident]) for ident in ("site", "plan"))
    checks = _job_checks(f"site job ({SITE_PLAYBOOK})", site_job)
    checks.update(_task_checks(site_job, collections_path, routers, gateways))
    changed = {h: n for h, n in (site_job["stats"].get("changed") or {}).items() if n and h in routers}
    checks[f"after the rollout the site job changes no router (changed: {changed or 'none'})"] = (
        bool(site_job["stats"]) and not changed
    )
    checks.update(_job_checks(f"plan job ({PLAN_PLAYBOOK})", plan_job))
    plan = data_dir / PLAN_DIR
    same = {r: _plan_matches(plan / r / "rules.nft", state / "hosts" / r / "opto22-segment.nft") for r in routers}
    checks[f"the plan job wrote {plan}/ROUTER/rules.nft, the file each router has loaded"] = bool(same) and all(
        same.values()
    )
    _print(checks)
    print(f"  (artifacts: {data_dir / 'artifacts'}; output: {state / 'log'}/runner-*.log)")
    return all(checks.values())


def _plan_matches(planned: Path, loaded: Path) -> bool:
    return planned.is_file() and loaded.is_file() and planned.read_text() == loaded.read_text()


# ---- `up --prove-slicing` ----------------------------------------------------------------------------------------


def router_state(state: Path, prefix: str, router: str, table: str) -> dict[str, str]:
    """What the role made on a router: its table as the kernel has it (nft -s: no counters), and every file under
    the router's STATE/hosts/ROUTER (rules file, state directory) by content hash."""
    proc = subprocess.run(
        ["ip", "netns", "exec", f"{prefix}-{router}", "nft", "-s", "list", "table", "inet", table],
        capture_output=True,
        text=True,
        check=False,
    )
    found = {"nft -s list table": proc.stdout if proc.returncode == 0 else f"(no table: {proc.stderr.strip()})"}
    root = state / "hosts" / router
    for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []:
        found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def reset_router(state: Path, prefix: str, router: str, table: str) -> None:
    """Back to a fresh lab router: the role's table deleted, its rules file and state directory removed."""
    subprocess.run(
        ["ip", "netns", "exec", f"{prefix}-{router}", "nft", "delete", "table", "inet", table],
        capture_output=True,
        check=False,
    )
    shutil.rmtree(state / "hosts" / router, ignore_errors=True)


def _differences(one: Mapping[str, str], other: Mapping[str, str]) -> list[str]:
    return sorted(key for key in set(one) | set(other) if one.get(key) != other.get(key))


def prove_slicing(state: Path, prefix: str, routers: list[str], count: int = 2) -> bool:
    """After the full rollout: record each router's state, reset the routers to fresh, run the site playbook as
    ``count`` slice jobs at the same time (AWX: separate jobs, sliced inventories), and compare."""
    print(f"\n== Job slicing: the site playbook as {count} slice jobs (ansible-runner, sliced inventories) ==")
    table = site.role_table(site.collections(state / "site"))
    full = {router: router_state(state, prefix, router, table) for router in routers}
    for router in routers:
        reset_router(state, prefix, router, table)
    fresh = {router: router_state(state, prefix, router, table) for router in routers}
    checks = {"the routers reset to fresh: no table, no rules file, no state": all(len(f) == 1 for f in fresh.values())}
    inventory = lab_inventory(state)
    hosts = inventory_hosts(inventory)
    started = []
    for number in range(1, count + 1):
        data_dir = state / f"{RUNNER_DIR}-slice{number}"
        build(data_dir, state / "site", slice_inventory(inventory, number, count), lab_extravars(state, data_dir))
        log = state / "log" / f"runner-slice{number}.log"
        started.append((number, data_dir, start(data_dir, SITE_PLAYBOOK, "site", log)))
    for number, data_dir, proc in started:
        proc.wait()
        mine = slice_hosts(hosts, number, count)
        job = read_artifacts(data_dir / "artifacts" / "site")
        checks.update(_job_checks(f"slice {number}/{count} ({', '.join(mine)})", job))
        loaded = [r for r in routers if ran(job, r, "opto22_segment", LOAD_TASK, ("changed",))]
        strangers = sorted(set(job["tasks"]) - set(mine) - {"localhost"})
        checks[f"slice {number}: loaded the rules on {', '.join(loaded) or 'no router'}, touched no other host"] = (
            loaded == [r for r in routers if r in mine] and not strangers
        )
    after = {router: router_state(state, prefix, router, table) for router in routers}
    for router in routers:
        diff = _differences(full[router], after[router])
        what = ", ".join(k for k in full[router] if k != "nft -s list table")
        checks[f"{router}: after the slices = after one full run (nft -s list table, {what})"] = not diff and bool(what)
        if diff:
            print(f"  {router} differs in: {', '.join(diff)}")
    _print(checks)
    print(f"  (data dirs: {state}/{RUNNER_DIR}-slice*; output: {state / 'log'}/runner-slice*.log)")
    return all(checks.values())
