"""The command line, run as a learner runs it: a real process."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from visualizer.execution.scenarios import Registry


def _cli(*args: str, columns: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run(
        [sys.executable, "-m", "visualizer", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_list_names_every_scenario_with_its_title(registry: Registry) -> None:
    result = _cli("list")
    assert result.returncode == 0
    for scenario in registry:
        assert scenario.name in result.stdout and scenario.title in result.stdout


def test_run_json_prints_exactly_one_trace_object() -> None:
    result = _cli("run", "item_not_found", "--json")
    assert result.returncode == 0, result.stderr
    trace = json.loads(result.stdout)  # fails on anything but one JSON document
    assert trace["scenario"] == "item_not_found"
    assert trace["requests"][0]["status"] == 404


def test_run_prints_the_table_the_tracker_and_the_differences() -> None:
    result = _cli("run", "create_item")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Execution table" in out and "db = SessionLocal()" in out
    assert "Variable tracker: db" in out and "Closed session" in out
    assert "Key moments" in out
    assert "before 6 the session closed" in out


def test_an_unknown_scenario_exits_2_naming_the_available_ones() -> None:
    result = _cli("run", "no_such_thing")
    assert result.returncode == 2
    assert "unknown scenario 'no_such_thing'" in result.stderr
    assert "create_item" in result.stderr
    assert result.stdout == ""


def test_a_500_scenario_keeps_the_terminal_clean() -> None:
    result = _cli("run", "endpoint_error")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr


def _serve(port: int, data: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "SESSION_VISUALIZER_DATA": str(data)}
    return subprocess.Popen(
        [sys.executable, "-m", "visualizer", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_no_command_serves_the_page_and_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _serve(port, tmp_path)
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in banner
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert home.status_code == 200 and "Create an item" in home.text
        second = _serve(port, tmp_path)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
        assert "Traceback" not in err
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_run_shows_lanes_textbook_against_reality_and_a_transcript() -> None:
    result = _cli("run", "commit_in_dependency")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "request 1  |1" in out and "request 2  |" in out
    assert "Textbook against reality" in out and "5. Commit or rollback" in out
    assert "Transcript" in out and "Request 2. POST /items/?name=pear&price=-1" in out


def test_run_all_prints_one_line_per_scenario_with_progress(registry: Registry) -> None:
    result = _cli("run", "--all")
    assert result.returncode == 0, result.stdout
    header, *lines = result.stdout.splitlines()
    assert header.split()[:2] == ["scenario", "statuses"]
    assert [line.split()[0] for line in lines] == registry.names
    assert f"[{len(registry)}/{len(registry)}] running" in result.stderr
    create = next(line for line in lines if line.startswith("create_item"))
    assert "steps 12345476" in create and "response_before_close" in create


PROGRAM = """
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///{database}")
Local = sessionmaker(bind=engine)
api = FastAPI()


def db():
    s = Local()
    try:
        yield s
    finally:
        s.close()


@api.get("/answer")
def answer(s: Session = Depends(db)):
    return s.execute(text("SELECT 41 + 1")).scalar()
"""


def test_any_program_file_runs_with_requests_given_as_options(tmp_path: Path) -> None:
    program = tmp_path / "myapp.py"
    program.write_text(PROGRAM.format(database=tmp_path / "own.db"))
    result = _cli("run", str(program), "--request", "GET /answer", "--json")
    assert result.returncode == 0, result.stderr
    trace = json.loads(result.stdout)
    assert [(r["path"], r["status"], r["body"]) for r in trace["requests"]] == [
        ("/answer", 200, "42")
    ]
    assert trace["file"] == "myapp.py"
    created = next(e for e in trace["events"] if e["kind"] == "session.create")
    assert created["detail"]["created_in"] == "db" and created["file"] == "myapp.py"
    table = _cli("run", str(program), "--request", "GET /answer").stdout
    assert "s = Local()" in table and "yield s" in table and "s.close()" in table


def test_a_program_file_that_cannot_run_says_why_in_one_line(tmp_path: Path) -> None:
    program = tmp_path / "myapp.py"
    program.write_text(PROGRAM.format(database=tmp_path / "own.db"))
    no_requests = _cli("run", str(program))
    assert no_requests.returncode == 2 and "--request 'GET /items/'" in no_requests.stderr
    bad_request = _cli("run", str(program), "--request", "answer please")
    assert bad_request.returncode == 2 and "METHOD /path" in bad_request.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("import os\nvalue = 1 / 0\n")
    crashed = _cli("run", str(broken), "--request", "GET /")
    assert crashed.returncode == 2
    assert crashed.stderr.strip() == (
        "session-visualizer: broken.py, line 2: ZeroDivisionError: division by zero"
    )
    missing = _cli("run", str(tmp_path / "nope.py"), "--request", "GET /")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_run_fits_the_terminal_width_and_keeps_every_sql_statement_whole() -> None:
    for args, columns, width in [(("--width", "80"), None, 80), ((), "60", 60)]:
        result = _cli("run", "pool_exhaustion", *args, columns=columns)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= width, width
    result = _cli("run", "create_item", "--width", "80")
    assert "> SELECT items.id, items.name FROM items WHERE items.id = ?" in result.stdout
    assert "> INSERT INTO items (name) VALUES (?)" in result.stdout
    narrow = _cli("run", "create_item", "--width", "20")
    assert narrow.returncode == 2 and "at least 40" in narrow.stderr


def test_lane_digits_never_hide_each_other_and_keep_their_order() -> None:
    from visualizer.cli.terminal import _columns

    assert _columns([5, 5, 5], 10) == [5, 6, 7]
    assert _columns([9, 9, 9], 10) == [7, 8, 9]  # squeezed left at the end, still in order
    assert _columns([0, 3, 3, 9], 10) == [0, 3, 4, 9]
    result = _cli("run", "concurrent_requests", "--width", "70")
    lines = result.stdout.splitlines()
    bars = [
        (i, line) for i, line in enumerate(lines) if line.startswith("  request ") and "|" in line
    ]
    assert len(bars) == 3
    for index, bar in bars:
        digits = [c for c in bar.split("|")[1] if c.isdigit()]
        assert digits == lines[index + 1].split(), bar


IMPORTED = """
import json, sys
from visualizer.cli.main import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump(sorted(sys.modules), out)
sys.exit(code)
"""
# trace.py and serve.py name the settings model and the frame limit at import: nothing more
# of the web may load for `list` or `run`.
SMALL_WEB = {"visualizer.web", "visualizer.web.settings", "visualizer.web.guard"}
NEVER = ("jinja2", "markupsafe", "httpx", "websockets", "visualizer.app", "visualizer.mount")


def _imported(tmp_path: Path, *args: str) -> set[str]:
    listing = tmp_path / "modules.json"
    command = [sys.executable, "-c", IMPORTED, str(listing), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(listing.read_text()))


def test_list_and_run_import_their_own_stack_and_no_web_page(tmp_path: Path) -> None:
    listed = _imported(tmp_path, "list")
    ran = _imported(tmp_path, "run", "read_items", "--json")
    for modules in (listed, ran):
        assert {m for m in modules if m.startswith("visualizer.web")} <= SMALL_WEB
        assert not [m for m in modules if m.split(".")[0] in NEVER or m in NEVER]
        assert not [m for m in modules if m.startswith(("visualizer.classroom", "visualizer.live"))]
    assert not {"sqlalchemy", "fastapi", "uvicorn", "starlette"} & listed  # no server to list
    assert {"sqlalchemy", "fastapi", "uvicorn"} <= ran


def test_a_scenario_named_alone_is_the_one_the_registry_has(
    registry: Registry, tmp_path: Path
) -> None:
    from visualizer.execution.scenarios import ScenarioError, scenario_named

    for scenario in registry:
        assert scenario_named(scenario.name) == scenario
    source = registry.get("create_item").path.read_text()
    (tmp_path / "create_item.py").write_text(source)
    (tmp_path / "_draft.py").write_text(source)  # the registry skips files named _...
    for hidden in ("_draft", "../" + tmp_path.name + "/create_item"):
        with pytest.raises(ScenarioError, match=re.escape(f"unknown scenario {hidden!r}")):
            scenario_named(hidden, tmp_path)


def test_the_terminal_names_lanes_as_the_page_does() -> None:
    from visualizer.cli.terminal import _label
    from visualizer.execution.runner import run_scenario
    from visualizer.execution.scenarios import read_program
    from visualizer.lesson.reducer import frame_at
    from visualizer.web.stage import label

    program = Path(__file__).parent / "corpus" / "middleware_session.py"
    trace = run_scenario(read_program(program, []))
    frame = frame_at(trace, len(trace.events))
    assert frame.sessions > 1  # the case where the label names the session too
    for lane in frame.lanes:
        assert _label(lane, frame) == label(lane, frame).lower()


FROZEN = """
import gc, sys
from visualizer.cli.main import main
main(["list"])
passed = gc.get_freeze_count()
sys.argv = ["session-visualizer", "list"]
main()
print(passed, gc.get_freeze_count(), file=sys.stderr)
"""


def test_only_the_process_own_command_line_freezes_its_objects_for_a_quick_exit() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FROZEN], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    passed, own = result.stderr.split()
    assert passed == "0" and int(own) > 10_000
