"""What `--out` may replace, every written path under it, one run at a time per folder, the
leftovers of killed runs, and a run over a policy folder that replaces every city's outputs or
none. Each test reproduces a hole of issue 10 ("files lost or code run") and fails on the code
before it was fixed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cli import main
from engine.run import atomic, run_lock
from engine.run.out_folder import SETTLEMENT, WHATIF, OutFolderError, check_out_folder, inside
from engine.run.outputs import write_folder_atomically
from tests.conftest import POLICIES, ROOT, SAMPLE
from tests.conftest import run_cli as run
from tests.engine.folders import beside, snapshot

XUANCHENG = str(POLICIES / "xuancheng" / "2024.policy")


def settle(
    capsys: pytest.CaptureFixture[str],
    out: Path,
    *args: str,
    data: Path = SAMPLE,
    period: str = "2024-03",
) -> tuple[int, str, str]:
    flags = ["--data", str(data), "--period", period, "--out", str(out)]
    if "--policy" not in args:
        flags += ["--policy", XUANCHENG]
    return run(capsys, "settle", *flags, *args)


# ---- 1. only a drgpolicy output is replaced -----------------------------------------------------


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"manifest.json": "", "index.html": "<html>"}, "not one a drgpolicy settlement writes"),
        ({"manifest.json": '{"name": "my web app"}'}, '(no "drgpolicy": "settle")'),
        ({"manifest.json": "{}", "thesis.tex": "\\chapter{}"}, "not one a drgpolicy"),
        (
            {
                "manifest.json": '{"drgpolicy": "settle", "outputs": {"rejects.csv": "x"}}',
                "thesis.tex": "years of work",
            },
            "thesis.tex, which a drgpolicy settlement does not write",
        ),
        ({"manifest.json": '{"drgpolicy": "whatif"}'}, '(no "drgpolicy": "settle")'),
    ],
)
def test_a_folder_that_merely_holds_a_manifest_is_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], words: str
) -> None:
    out = tmp_path / "web"
    out.mkdir()
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    before = snapshot(out)
    code, _, err = settle(capsys, out)
    assert code == 1 and f"--out {out} already exists and holds other files" in err
    assert words in err
    assert snapshot(out) == before and beside(out) == []


def test_an_earlier_output_with_a_file_added_or_a_link_is_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert settle(capsys, out)[0] == 0
    (out / "settlement" / "notes.md").write_text("my notes on March")
    code, _, err = settle(capsys, out)
    assert code == 1 and "settlement/notes.md, which a drgpolicy settlement does not write" in err
    (out / "settlement" / "notes.md").unlink()
    (out / "elsewhere").symlink_to(tmp_path)
    code, _, err = settle(capsys, out)
    assert code == 1 and "elsewhere, which a drgpolicy settlement does not write" in err
    (out / "elsewhere").unlink()
    assert settle(capsys, out)[0] == 0  # exactly an earlier output: replaced


@pytest.fixture(scope="module")
def earlier_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("earlier") / "out"
    flags = ["--policy", XUANCHENG, "--data", str(SAMPLE), "--period", "2024-03"]
    assert main(["settle", *flags, "--out", str(out)]) == 0
    return out


names = st.text(st.sampled_from("ab.-_/冬"), min_size=1, max_size=12).filter(
    lambda n: not n.startswith("/") and ".." not in n and "//" not in n and not n.endswith("/")
)


@given(extra=st.lists(names, min_size=1, max_size=3))
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_an_earlier_output_with_any_file_added_is_refused(
    tmp_path: Path, earlier_output: Path, extra: list[str]
) -> None:
    out = tmp_path / "out"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(earlier_output, out)
    written = set(snapshot(out))
    added = []
    for name in extra:
        path = out / name
        if any(p.is_file() for p in [path, *path.parents]) or path.is_dir():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine")
        added.append(path.relative_to(out).as_posix())
    if not added:
        check_out_folder(out, SETTLEMENT)
        return
    with pytest.raises(OutFolderError, match="which a drgpolicy settlement does not write"):
        check_out_folder(out, SETTLEMENT)
    assert set(snapshot(out)) == written | set(added)


def test_the_manifest_and_the_report_carry_their_marker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert settle(capsys, out)[0] == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["drgpolicy"] == "settle"
    assert set(snapshot(out)) == {"manifest.json", *manifest["outputs"]}
    check_out_folder(out, SETTLEMENT)
    with pytest.raises(OutFolderError, match=r"no whatif\.json"):
        check_out_folder(out, WHATIF)


def test_a_whatif_report_replaces_only_a_whatif_report(tmp_path: Path) -> None:
    report = tmp_path / "report"
    report.mkdir()
    (report / "whatif.json").write_text("{}")
    (report / "report.html").write_text("<html>mine</html>")
    files = {"whatif.json": b'{"drgpolicy": "whatif"}', "report.html": b"<html>"}
    with pytest.raises(OutFolderError, match='no "drgpolicy": "whatif"'):
        write_folder_atomically(report, files, kind=WHATIF)
    assert (report / "report.html").read_text() == "<html>mine</html>"


# ---- 2. every written path lies under --out --------------------------------------------------


@pytest.mark.parametrize("name", ["../victim", "/tmp/victim", "a/../../victim", "link/x"])
def test_a_path_that_leaves_the_output_folder_is_refused(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "staging"
    folder.mkdir()
    (folder / "link").symlink_to(tmp_path)
    with pytest.raises(OutFolderError, match="outside the output folder"):
        inside(folder, name)
    assert inside(folder, "settlement/cases.csv") == folder.resolve() / "settlement/cases.csv"


@given(st.lists(st.sampled_from(["a", "..", ".", "", "/", "link", "b.csv", "～"]), max_size=6))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_inside_gives_a_path_under_the_folder_or_refuses(tmp_path: Path, parts: list[str]) -> None:
    folder = tmp_path / "staging"
    folder.mkdir(exist_ok=True)
    if not (folder / "link").is_symlink():
        (folder / "link").symlink_to(tmp_path)
    name = "/".join(parts)
    try:
        path = inside(folder, name)
    except OutFolderError:
        return
    assert path.is_relative_to(folder.resolve()) and path != folder.resolve()


def test_a_report_file_named_to_leave_the_folder_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "report"
    files = {"whatif.json": b'{"drgpolicy": "whatif"}', "../../victim.html": b"x"}
    with pytest.raises(OutFolderError, match="outside the output folder"):
        write_folder_atomically(out, files, kind=WHATIF)
    assert list(tmp_path.iterdir()) == []


# ---- 3. one run at a time per --out ---------------------------------------------------------


HOLDER = """
import sys, time
from pathlib import Path
from engine.run.run_lock import hold
with hold(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def _hold_in_another_process(out: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def test_a_second_run_into_the_same_out_is_refused_naming_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert settle(capsys, out)[0] == 0
    before = snapshot(out)
    holder = _hold_in_another_process(out)
    try:
        code, _, err = settle(capsys, out)
        assert code == 1
        assert f"--out {out} is being written by another drgpolicy run (pid {holder.pid}" in err
        assert "wait for it to finish, or give another --out" in err
        code, _, err = run(
            capsys,
            "whatif",
            "--base",
            str(POLICIES / "xuancheng" / "2023.policy"),
            "--new",
            XUANCHENG,
            "--data",
            str(SAMPLE),
            "--out",
            str(out),
            "--no-exposure",
        )
        assert code == 1 and f"(pid {holder.pid}" in err
        assert snapshot(out) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the holder was killed: its lock is gone with it, and the next run goes ahead
    assert settle(capsys, out)[0] == 0
    assert beside(out) == []


def test_without_flock_a_stale_lock_is_taken_over_and_a_live_one_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_lock, "fcntl", None)
    out = tmp_path / "out"
    lock = run_lock.lock_path(out)
    lock.write_text(f"{_dead_pid()}\n")
    with run_lock.hold(out):
        assert lock.read_text() == f"{os.getpid()}\n"
    assert not lock.exists()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(f"{live.pid}\n")
        refused = pytest.raises(run_lock.OutFolderLocked, match=f"pid {live.pid}.*delete {lock}")
        with refused, run_lock.hold(out):
            pass
    finally:
        live.kill()
        live.wait()


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


# ---- 4. leftovers of killed runs --------------------------------------------------------------


def test_the_next_run_removes_the_leftovers_of_killed_runs_and_no_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert settle(capsys, out)[0] == 0
    dead, live = _dead_pid(), os.getppid()
    names = {
        "dead": f".out.{dead}.0123456789ab.new",
        "dead previous": f".out.{dead}.0123456789ab.new.previous",
        "before pids": ".out.0123456789ab.new",
        "live": f".out.{live}.0123456789ab.new",
        "other folder": f".other.{dead}.0123456789ab.new",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
        (tmp_path / name / "cases.csv").write_bytes(b"x" * 1000)
    assert settle(capsys, out)[0] == 0
    assert beside(out) == sorted([names["live"], names["other folder"]])


def test_an_old_output_set_aside_by_a_killed_run_is_put_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without an exchange in one step, a run killed between its two renames leaves `out`
    missing and the old outputs beside it: the next run puts them back before anything else."""
    out = tmp_path / "out"
    assert settle(capsys, out)[0] == 0
    old = snapshot(out)
    aside = tmp_path / f".out.{_dead_pid()}.0123456789ab.new.previous"
    out.rename(aside)
    atomic.repair(out)
    assert snapshot(out) == old and beside(out) == []


def test_a_killed_file_write_leaves_a_temporary_the_next_write_removes(tmp_path: Path) -> None:
    path = tmp_path / "2025.policy"
    dead = tmp_path / f".2025.policy.{_dead_pid()}.0123456789ab.tmp"
    dead.write_text("half")
    live = tmp_path / f".2025.policy.{os.getppid()}.0123456789ab.tmp"
    live.write_text("being written")
    atomic.write_file_atomically(path, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["2025.policy", live.name])


# ---- 5. a run over a policy folder: every city's outputs or none ------------------------------


def _cities(tmp_path: Path, *names: str) -> Path:
    root = tmp_path / "policies"
    for name in names:
        shutil.copytree(POLICIES / name, root / name)
    return root


def test_a_city_that_fails_leaves_every_city_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, out = _cities(tmp_path, "wuhan", "wuxi"), tmp_path / "out"
    assert settle(capsys, out, "--policy", str(root))[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["wuhan-2024", "wuxi-2024"]
    old = snapshot(out)
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    scores = pl.read_csv(data / "assessments.csv", infer_schema=False)
    # wuxi reads the insurance assessment (its deposits), wuhan no score
    scores.filter(pl.col("assessment") != "insurance_assessment").write_csv(
        data / "assessments.csv"
    )
    code, _, err = settle(capsys, out, "--policy", str(root), data=data, period="2024")
    assert code == 1 and "no insurance_assessment score for 2024 for 13 hospital(s)" in err
    assert "wuxi 2024 reads insurance_assessment" in err
    assert f"{root / 'wuhan' / '2024.policy'}: 20000 case rows read" in err  # wuhan was settled
    assert snapshot(out) == old and beside(out) == ["data", "policies"]


def test_a_run_over_a_policy_folder_replaces_the_whole_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, out = _cities(tmp_path, "wuhan", "wuxi"), tmp_path / "out"
    assert settle(capsys, out, "--policy", str(root))[0] == 0
    shutil.rmtree(root / "wuxi")
    code, _, err = settle(capsys, out, "--policy", str(root))
    assert code == 0 and f"outputs in {out} (one folder per policy" in err
    assert sorted(p.name for p in out.iterdir()) == ["wuhan-2024"]
    (out / "todo.txt").write_text("mine")
    code, _, err = settle(capsys, out, "--policy", str(root))
    assert code == 1 and "todo.txt" in err and (out / "todo.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "args",
    [
        ["settle", "--policy", XUANCHENG, "--data", str(SAMPLE), "--period", "2024-03"],
        ["sample", "--cases", "10"],
        ["render", XUANCHENG, "--no-pdf"],
    ],
)
def test_the_root_of_the_file_system_as_out_is_refused_in_words(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """`--out /` has no folder beside it for the lock or the swap: refused naming it, not a
    traceback (`PosixPath('/') has an empty name`)."""
    code, _, err = run(capsys, *args, "--out", "/")
    assert code == 1 and "--out / is the root of the file system" in err, err


@pytest.mark.parametrize(
    "args",
    [
        ["settle", "--policy", XUANCHENG, "--data", str(SAMPLE), "--period", "2024-03", "--out"],
        ["sample", "--cases", "1000", "--out"],
        ["render", XUANCHENG, "--no-pdf", "--out"],
        ["init", "sz", "--policies"],
    ],
)
def test_an_out_under_a_file_is_refused_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """`--out a_file/x` (or `init --policies a_file`) ended in a NotADirectoryError traceback on
    fix28, where the lock is taken."""
    (tmp_path / "a_file").write_text("mine")
    code, _, err = run(capsys, *args, str(tmp_path / "a_file" / "x"))
    assert code == 1 and "Traceback" not in err, err
    assert f"cannot be written: {tmp_path / 'a_file'} is a file, not a folder" in err
    assert (tmp_path / "a_file").read_text() == "mine"


def _oversized(manifest: Path) -> None:
    """A settlement's manifest padded past what a run writes: valid JSON, so only a size
    bound refuses it (a 312 MB one cost 1 GB of memory to read)."""
    content = {"drgpolicy": "settle", "policy": {"city": "wuxi", "version": "2024"}}
    text = json.dumps(content | {"period": "2024-03", "outputs": {}, "pad": "x" * 33_000_000})
    manifest.write_text(text, encoding="utf-8")


def _pipe(manifest: Path) -> None:
    os.mkfifo(manifest)  # opened for reading, it would wait for a writer forever


@pytest.mark.parametrize("make", [_oversized, _pipe], ids=["33 MB", "a pipe"])
@pytest.mark.parametrize("reader", ["monitor", "--earlier", "--out"])
def test_every_reader_of_a_manifest_bounds_it_and_says_why(
    tmp_path: Path, make: object, reader: str
) -> None:
    """monitor (and a later run's --previous), a year's --earlier and --out read a manifest
    through one reader (`read_marker`): a pipe (which hung monitor and --earlier) or a file
    larger than any run writes is refused in words, never read."""
    from engine.inputs.earlier import load_earlier
    from engine.inputs.indicator_runs import IndicatorRun
    from engine.inputs.rundata import Period
    from engine.run.settle import load_policy
    from policy_dsl.errors import PolicyError

    folder = tmp_path / "2024-03"
    folder.mkdir()
    (folder / "indicators.csv").write_text("indicator\n", encoding="utf-8")
    assert callable(make)
    make(folder / SETTLEMENT.marker)
    readers = {
        "monitor": lambda: IndicatorRun.read(folder, "monitor"),
        "--earlier": lambda: load_earlier(
            [folder], load_policy(POLICIES / "wuxi" / "2024.policy"), Period.parse("2024")
        ),
        "--out": lambda: check_out_folder(folder, SETTLEMENT),
    }
    words = "bytes, more than the 32,000,000 a run's manifest.json is read up to"
    if make is _pipe:
        words = "a device, a pipe or a folder, not a file"
    signal.signal(signal.SIGALRM, _hung)  # on the code before, the pipe waited forever
    signal.setitimer(signal.ITIMER_REAL, 20)
    try:
        with pytest.raises(PolicyError) as refused:
            readers[reader]()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if reader != "--out" or make is _oversized:  # --out sees a pipe as no manifest at all
        assert words in str(refused.value)


def _hung(signum: int, frame: object) -> None:
    raise AssertionError("the manifest was read without a bound: it hung")
