"""The What-if page as an analyst reads it (AppTest): money as ¥ to the fen with thousands
separators and changes as %, every column under a label (no internal name, no Python value), the
classes under the policy's labels, one colour for a gain, one for a loss and one per level, the
threshold exposure per level, a sweep's values around the run's own, a case that links to its
explanation, and a data folder of this machine opened by its path."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from engine.inputs.rundata import Period
from engine.page.svg import NEGATIVE, POSITIVE
from engine.plan.polars.batch import Settings
from engine.run.settle import load_data, load_policy, settle
from studio import formats, widgets
from tests.conftest import SAMPLE, run_cli
from tests.studio.apptest import XC, open_app, texts
from tests.studio.test_pages import run_whatif

#: Names of the engine's frames that must never head a column or a metric on screen.
INTERNAL = {"settled", "price", "payment_base", "payment_new", "delta", "pct", "measure"}
MONEY_COLUMNS = re.compile(r"^(payment|delta|budget)")


def columns_shown(at: AppTest) -> list[tuple[str, dict[str, Any], pl.Series | None]]:
    """Every column of every table on the page: its name, its configuration and its values."""
    found = []
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for name in frame.value.columns:
            found.append((name, config.get(name, {}), pl.Series(frame.value[name].tolist())))
    return found


def level_payments(policy_file: Path, params: dict[str, float]) -> dict[int, int]:
    """The payment (fen) of each hospital level, settled by the engine itself."""
    policy = load_policy(policy_file)
    result = settle(
        policy, load_data(SAMPLE, policy), Period.parse("2024"), Settings(params=params)
    )
    cases = result.stages[result.settling_stages()[-1]].cases
    payment = (pl.col("payment") * 100).round(0).cast(pl.Int64)
    per_level = cases.group_by("level").agg(payment.sum())
    return dict(per_level.iter_rows())


def test_money_percent_and_labels_on_every_table(policies: Path) -> None:
    at = open_app("whatif")
    run_whatif(at, "2023", "2024")
    shown = columns_shown(at)
    assert shown
    for name, config, values in shown:
        label = config.get("label")
        assert label and label not in INTERNAL, f"column {name} has no label"
        kind = config.get("type_config", {}).get("format")
        if values is not None and values.dtype.is_numeric() and MONEY_COLUMNS.match(name):
            assert kind == formats.MONEY, f"{name} is money: {config}"
        if name == "pct":
            assert kind == formats.PERCENT
        if values is not None and values.dtype == pl.String:
            assert not values.is_in(["None", "nan"]).any(), f"{name} shows a Python value"
    # the totals: money written ¥ with the fen and thousands, figures of the engine itself
    totals = at.dataframe[0].value
    payment = totals[totals["measure"] == "支付总额 payment"].iloc[0]
    old_fen = sum(level_payments(policies / XC / "2023.policy", {}).values())
    new_fen = sum(level_payments(policies / XC / "2024.policy", {}).values())
    assert payment["new"] == f"¥{new_fen / 100:,.2f}" and old_fen == new_fen  # one budget
    assert payment["change"] == "¥0.00" and payment["change %"] == "0.00%"
    point = totals[totals["measure"] == "点值 point value"].iloc[0]
    assert re.fullmatch(r"1\d\d\.\d{6}", point["new"])  # the point value, 118.46…
    # the tile: short enough not to be cut (亿 to two decimals), the exact amount in its help
    metrics = {m.label: (m.value, m.delta, m.help) for m in at.metric}
    yi = Decimal(new_fen).scaleb(-10).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert new_fen >= 10**10  # the sample pays over one 亿
    assert metrics["支付总额 payment"] == (
        f"¥{yi}亿",
        "¥0.00",
        f"¥{new_fen / 100:,.2f} (¥0.00)",
    )
    assert set(metrics) & INTERNAL == set()
    # the classes under the policy's own labels
    categories = next(d.value for d in at.dataframe if "cases_base" in d.value)
    assert "低倍率病例 low" in set(categories["category"])
    # no Python value in the page's texts
    for text in texts(at.caption) + texts(at.markdown) + [m.value for m in at.metric]:
        assert "None" not in text and "{'" not in text, text


def test_charts_use_one_colour_for_gain_loss_and_one_per_level(policies: Path) -> None:
    at = open_app("whatif")
    run_whatif(at, "2023", "2024")
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    colours = [spec.get("encoding", {}).get("color", {}) for spec in specs]
    signed = [c for c in colours if "condition" in c]
    assert len(signed) == 2  # the change per level and per hospital: gain or loss
    for colour in signed:
        assert (colour["condition"]["value"], colour["value"]) == (POSITIVE, NEGATIVE)
    by_level = [c for c in colours if c.get("field") == "level"]
    assert by_level  # the part of each clause per level
    for colour in by_level:
        scale = colour["scale"]
        for name, shown in zip(scale["domain"], scale["range"], strict=True):
            number = int(name.split(" ")[1])
            assert shown == formats.LEVEL_COLOURS[number]


def test_exposure_shows_the_money_each_step_moves_per_level(policies: Path) -> None:
    """Under the point method the budget is shared whatever the threshold: one step up of the
    grassroots low-ratio line (30% → 35%) moves no total, and moves money from level 1 to
    levels 2 and 3 — the engine's own settlements at 30% and 35% say how much."""
    at = open_app("whatif")
    run_whatif(at, "2024", "2024")
    at.button(key="whatif_exposure").click().run()
    assert not at.exception
    exposed = next(d.value for d in at.dataframe if "threshold" in d.value)
    row = exposed[exposed["threshold"] == "low_ratio_grassroots"].iloc[0]
    assert (row["value"], row["step"]) == ("30%", "5%")
    at_30 = level_payments(policies / XC / "2024.policy", {})
    at_35 = level_payments(policies / XC / "2024.policy", {"low_ratio_grassroots": 0.35})
    moved = {level: at_35[level] - at_30[level] for level in at_30}
    assert sum(moved.values()) == 0 and moved[1] < 0 < moved[3]
    for level, fen in moved.items():
        assert row[f"up: level {level}"] == pytest.approx(fen / 100, abs=0.001)
    assert row["up: total"] == 0
    assert row["up: moved"] == pytest.approx(sum(f for f in moved.values() if f > 0) / 100)
    labels = json.loads(next(d for d in at.dataframe if "threshold" in d.value).proto.columns)
    assert labels["up: level 1"]["label"] == "上移一步 step up · level 1 一级 (¥)"
    assert labels["up: level 1"]["type_config"]["format"] == formats.MONEY


def test_a_sweep_starts_around_the_runs_own_value(policies: Path) -> None:
    """The default values of a sweep include the value this run used (the slider's 35%), so
    the sweep shows the run itself, at a change of zero; another parameter (a count) gets a
    range of its own."""
    at = open_app("whatif")
    run_whatif(at, "2024", "2024", low_ratio_grassroots=0.35)
    at.selectbox(key="whatif_sweep_param").set_value("low_ratio_grassroots").run()
    next(b for b in at.button if b.label == "Sweep").click().run()
    assert not at.exception
    swept = next(d.value for d in at.dataframe if "low_ratio_grassroots" in d.value)
    values = [round(v, 6) for v in swept["low_ratio_grassroots"]]
    assert values == [0.0, 0.25, 0.35, 0.5, 0.75, 1.0]
    assert swept[swept["low_ratio_grassroots"].round(6) == 0.35].iloc[0]["delta"] == 0

    at.selectbox(key="whatif_sweep_param").set_value("large_number_cases").run()
    span = at.slider(key="whatif_sweep_span_large_number_cases")
    declared = next(s for s in widgets_specs(policies) if s.name == "large_number_cases")
    assert span.value == (declared.low, declared.high)
    assert declared.low <= declared.value <= declared.high
    next(b for b in at.button if b.label == "Sweep").click().run()
    assert not at.exception
    swept = next(d.value for d in at.dataframe if "large_number_cases" in d.value)
    assert declared.value in set(swept["large_number_cases"])
    assert swept[swept["large_number_cases"] == declared.value].iloc[0]["delta"] == 0


def widgets_specs(policies: Path) -> list[Any]:
    from policy_dsl.loader import read_policy_file, resolve
    from studio import runs

    files = [read_policy_file(policies / XC / f"{v}.policy") for v in ("2023", "2024")]
    return runs.numeric_params(resolve(files[1], [files[0]]))


def explain_first_moved(at: AppTest) -> str:
    """Pick the first case of the What-if page's cases that change category (as a click on its
    row does): the Explain page opens on it; its id."""
    moved = next(d.value for d in at.dataframe if "category_new" in d.value)
    case_id = str(moved["case_id"].iloc[0])
    at.session_state["whatif_moved_pick"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    assert next(h.value for h in at.subheader) == f"Case {case_id} under xuancheng 2024"
    return case_id


def test_a_case_that_changes_category_opens_its_explanation(policies: Path) -> None:
    at = open_app("whatif")
    run_whatif(at, "2023", "2024")
    explain_first_moved(at)
    assert any("part first, on the payment's path" in w for w in texts(at.warning))
    assert at.session_state["explain_other"] == "2023"


def gbk_sample(folder: Path) -> Path:
    """The bundled sample with its CSV files saved in GBK, as Excel saves them."""
    shutil.copytree(SAMPLE, folder)
    for path in folder.glob("*.csv"):
        path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    return folder


def test_a_data_folder_of_this_machine(
    policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = gbk_sample(tmp_path / "gbk")
    at = open_app("whatif")
    at.radio(key="whatif_data_kind").set_value(widgets.FOLDER).run()
    at.text_input(key="whatif_folder").set_value(str(folder)).run()
    at.radio(key="whatif_encoding").set_value("gbk").run()
    run_whatif(at, "2023", "2024")
    assert any(f"on the folder {folder} (20,000 cases" in c for c in texts(at.caption))

    # a folder that is not there, and one without its hospitals: the command's own words
    (folder / "hospitals.csv").unlink()
    for data in (tmp_path / "nowhere", folder):
        at.text_input(key="whatif_folder").set_value(str(data)).run()
        run_whatif(at, "2023", "2024")
        policy = str(policies / XC / "2024.policy")
        out = str(tmp_path / "out")
        code, _, err = run_cli(
            capsys,
            "settle",
            "--policy",
            policy,
            "--data",
            str(data),
            "--out",
            out,
            "--period",
            "2024",
            "--encoding",
            "gbk",
        )
        assert code != 0
        said = err.strip().splitlines()[-1].removeprefix("error: ")
        assert texts(at.error) == [f"The dataset does not meet the data contract: {said}"]


def test_a_data_folder_is_checked_as_validate_checks_it(
    policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The folder's check on the page is `drgpolicy validate --data`'s report, word for word:
    here a GBK folder with a case of a hospital that is not in its hospitals file."""
    folder = gbk_sample(tmp_path / "gbk")
    cases = (folder / "cases.csv").read_bytes().decode("gbk").split("\n")
    cases[5] = cases[5].replace("H00", "H99", 1)
    (folder / "cases.csv").write_bytes("\n".join(cases).encode("gbk"))
    at = open_app("whatif")
    at.radio(key="whatif_data_kind").set_value(widgets.FOLDER).run()
    at.text_input(key="whatif_folder").set_value(str(folder)).run()
    at.radio(key="whatif_encoding").set_value("gbk").run()
    at.button(key="whatif_validate").click().run()
    assert not at.exception
    code, out, _ = run_cli(capsys, "validate", "--data", str(folder), "--encoding", "gbk")
    assert code == 1 and "NOT CLEAN" in out
    assert [c.value for c in at.code] == [out.rstrip("\n")]
    assert texts(at.warning) == ["Not clean: see below."]
