"""Jobs tab: field errors in the form, a valid job reaching the queue and the history (also one submitted
over the REST API), Cancel, paging and the status filter, and a job's detail: cold start marked, outliers
highlighted, statistics equal to the model's, the per-run plot, telemetry, JSON/CSV export."""

from __future__ import annotations

import csv
import io
import json

import aiohttp
import numpy as np
from PySide6.QtCore import Qt

from gui.conftest import started, wait_for
from gui.fake_hw import TOKEN, fake_agent
from ruckus_agent.core.agent import Agent
from ruckus_agent.gui import jobs_tab as jobs_module
from ruckus_agent.gui import theme
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.job_detail import ROLE_KIND
from ruckus_agent.gui.jobs_tab import JobsTab
from ruckus_agent.models.jobs import JobRequest, MultiRunJobResult
from ruckus_agent.runtime import Runtime


def make_tab(qtbot, agent: Agent) -> JobsTab:
    tab = JobsTab(agent, AgentBridge(agent))
    qtbot.addWidget(tab)
    tab.resize(1400, 900)
    tab.show()
    return tab


def history_ids(tab: JobsTab) -> list[str]:
    return [s.job_id for s in tab.history.states]


def history_status(tab: JobsTab, job_id: str) -> str | None:
    table = tab.history.table
    for row in range(table.rowCount()):
        if table.item(row, 0) and table.item(row, 0).text() == job_id:
            return table.item(row, 2).text()
    return None


async def test_the_form_shows_errors_next_to_the_fields(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        form = make_tab(qtbot, agent).form
        form.task_combo.setCurrentText("noop")
        error = form.errors["parameters"]

        form.params_edit.setPlainText('{"sleep_s": -1}')
        assert not form.check()
        assert error.isVisibleTo(form) and error.text().startswith("sleep_s: ")
        assert "greater than or equal to 0" in error.text()
        assert not form.submit_button.isEnabled()

        form.params_edit.setPlainText('{"sleep_s": 0.1, "sleeps": 2}')
        assert not form.check()
        assert "sleeps: Extra inputs are not permitted" in error.text()

        form.params_edit.setPlainText('{"sleep_s": ')
        assert not form.check()
        assert error.text().startswith("not valid JSON")

        form.params_edit.setPlainText("[1, 2]")
        assert not form.check() and "JSON object" in error.text()

        form.params_edit.setPlainText('{"sleep_s": 0.1}')
        form.experiment_edit.setText("x" * 300)
        assert not form.check()
        assert form.errors["experiment_id"].isVisibleTo(form)
        assert not error.isVisibleTo(form)

        form.experiment_edit.setText("")
        assert form.check() and form.submit_button.isEnabled()
        assert all(not label.isVisibleTo(form) for label in form.errors.values())
        assert await form.submit() is not None  # nothing was submitted before it was valid
        assert (await agent.list_jobs())[1] == 1


async def test_a_valid_noop_job_goes_through_the_queue_into_the_history(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = make_tab(qtbot, agent)
        form = tab.form
        form.task_combo.setCurrentText("noop")
        form.runs_spin.setValue(3)
        form.params_edit.setPlainText('{"sleep_s": 0.3}')
        form.submit_button.click()
        await wait_for(lambda: tab.queue.rows, what="the job in the queue")
        job_id = next(iter(tab.queue.rows))
        assert form.result_label.text().startswith(f"Submitted {job_id}")
        await wait_for(lambda: job_id in history_ids(tab), what="the job in the history")
        await wait_for(
            lambda: (tab.queue.progress_of(job_id) or (0, 0))[0] >= 1, what="a run in the queue's bar"
        )
        assert tab.queue.progress_of(job_id)[1] == 3
        await wait_for(lambda: history_status(tab, job_id) == "completed", what="completed in the history")
        assert job_id not in tab.queue.rows and tab.queue.table.rowCount() == 0
        row = history_ids(tab).index(job_id)
        assert tab.history.table.item(row, 3).text() == "3/3"
        await wait_for(lambda: tab.detail.result is not None, what="the detail of the submitted job")
        assert tab.detail.result.job_id == job_id


async def test_a_job_submitted_over_the_rest_api_appears_live(qtbot, tmp_path, nvml) -> None:
    agent = fake_agent(tmp_path, nvml, sample_interval_s=0.05)
    runtime = Runtime(agent.settings, agent=agent)
    tab = make_tab(qtbot, runtime.agent)  # made before the start, as the window is
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as http:
            body = {"job_id": "from-the-api", "task_type": "noop", "runs_per_job": 2}
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with http.post(f"{runtime.url}/api/v1/jobs", json=body, headers=headers) as resp:
                assert resp.status == 202, await resp.text()
        await wait_for(lambda: "from-the-api" in history_ids(tab), what="the API's job in the history")
        await wait_for(lambda: history_status(tab, "from-the-api") == "completed", what="it to complete")
    finally:
        await runtime.stop()


async def test_cancel_from_the_queue(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = make_tab(qtbot, agent)
        await agent.submit_job(
            JobRequest(job_id="slow", task_type="noop", runs_per_job=5, parameters={"sleep_s": 5})
        )
        await wait_for(lambda: "slow" in tab.queue.rows, what="the job in the queue")
        button = tab.queue.table.cellWidget(0, 4)
        assert button.text() == "Cancel"
        button.click()
        await wait_for(lambda: history_status(tab, "slow") == "cancelled", what="cancelled in the history")
        assert "slow" not in tab.queue.rows


async def test_history_pages_and_filters(qtbot, tmp_path, nvml, monkeypatch) -> None:
    monkeypatch.setattr(jobs_module, "PAGE_SIZE", 2)
    async with started(tmp_path, nvml) as agent:
        tab = make_tab(qtbot, agent)
        # one long job holds the single worker slot; the others wait in the queue and are cancelled there
        await agent.submit_job(JobRequest(job_id="a", task_type="noop", parameters={"sleep_s": 30}))
        for job_id in ("b", "c", "d"):
            await agent.submit_job(JobRequest(job_id=job_id, task_type="noop"))
        for job_id in ("c", "d"):
            await agent.cancel_job(job_id)
        await wait_for(lambda: tab.history.total == 4 and len(tab.history.states) == 2, what="page 1")
        assert history_ids(tab) == ["d", "c"]  # newest first
        assert tab.history.page_label.text() == "1-2 of 4"
        assert not tab.history.prev_button.isEnabled() and tab.history.next_button.isEnabled()
        tab.history.next_button.click()
        await wait_for(lambda: history_ids(tab) == ["b", "a"], what="page 2")
        assert not tab.history.next_button.isEnabled()
        tab.history.status_combo.setCurrentText("cancelled")
        await wait_for(lambda: history_ids(tab) == ["d", "c"] and tab.history.total == 2, what="the filter")
        assert tab.history.offset == 0
        await agent.cancel_job("b")  # a live event: the filtered page picks it up
        await wait_for(lambda: tab.history.total == 3, what="the newly cancelled job")
        await agent.cancel_job("a")


async def test_the_detail_marks_the_cold_start_outliers_and_statistics(qtbot, tmp_path, nvml) -> None:
    values = [9.0, 1.0, 1.1, 0.9, 1.05, 0.95, 5.0, 1.0, 1.02, 0.98, 1.01]  # run 0 is cold; run 6 stands out
    async with started(tmp_path, nvml) as agent:
        tab = make_tab(qtbot, agent)
        await agent.submit_job(
            JobRequest(
                job_id="stats", task_type="values", runs_per_job=len(values), parameters={"values": values}
            )
        )
        await wait_for(lambda: history_status(tab, "stats") == "completed", what="the job to finish")
        detail = tab.detail
        detail.load("stats")
        await wait_for(lambda: detail.result is not None, what="the result")
        result = await agent.job_result("stats")
        assert isinstance(result, MultiRunJobResult)
        stats = result.summary_stats["latency_s"]
        assert 6 in stats.outliers  # the rule flags the obvious one; the GUI shows whatever it flags

        runs = detail.runs_table
        headers = [runs.horizontalHeaderItem(c).text() for c in range(runs.columnCount())]
        latency_col = headers.index("latency_s")
        for row in range(runs.rowCount()):
            run_id = int(runs.item(row, 0).text())
            item = runs.item(row, 0)
            background = item.background()
            assert float(runs.item(row, latency_col).text()) == values[run_id]
            if run_id == 0:
                assert item.data(ROLE_KIND) == "cold" and runs.item(row, 1).text() == "cold start"
                assert item.font().bold() and background.color() == theme.cold_start_brush()
            elif run_id in stats.outliers:
                assert item.data(ROLE_KIND) == "outlier"
                assert background.color() == theme.outlier_brush()
                assert runs.item(row, latency_col).font().bold()
            else:
                assert item.data(ROLE_KIND) == "warm"
                assert background.style() == Qt.BrushStyle.NoBrush

        table = detail.stats_table
        cells = {
            table.horizontalHeaderItem(c).text(): table.item(0, c).text() for c in range(table.columnCount())
        }
        assert cells["Metric"] == "latency_s (s)"
        assert cells["Count"] == str(stats.count) == "10"
        assert cells["Mean ± std"] == f"{stats.mean:.4g} ± {stats.std:.4g} s"
        assert cells["Median"] == f"{stats.median:.4g}"
        assert cells["p90"] == f"{stats.p90:.4g}" and cells["p95"] == "—" and cells["p99"] == "—"
        assert cells["CI 95 %"] == f"[{stats.ci95_low:.4g}, {stats.ci95_high:.4g}]"
        assert cells["CV"] == f"{100 * stats.cv:.1f} %"
        assert cells["Outlier runs"] == ", ".join(str(r) for r in stats.outliers)

        detail.metric_combo.setCurrentText("latency_s")
        assert detail.summary_label.text().startswith(
            f"latency_s: {stats.mean:.4g} ± {stats.std:.4g} s over 10 warm"
        )
        x, y = detail.warm_curve.getData()
        np.testing.assert_array_equal(x, range(1, len(values)))
        np.testing.assert_array_equal(y, values[1:])
        np.testing.assert_array_equal(detail.cold_point.getData()[0], [0])
        np.testing.assert_array_equal(detail.cold_point.getData()[1], [values[0]])
        assert detail.cold_label.isVisible()
        np.testing.assert_array_equal(detail.outlier_points.getData()[0], stats.outliers)
        assert detail.mean_line.value() == stats.mean

        assert detail.telemetry_table.rowCount() == len(values)
        samples = [int(detail.telemetry_table.item(r, 1).text()) for r in range(len(values))]
        assert samples == [r.telemetry.samples if r.telemetry else 0 for r in result.individual_runs]

        detail.export_json(tmp_path / "job.json")
        exported = json.loads((tmp_path / "job.json").read_text())
        assert exported["job_id"] == "stats" and len(exported["individual_runs"]) == len(values)
        detail.export_csv(tmp_path / "job.csv")
        rows = list(csv.DictReader(io.StringIO((tmp_path / "job.csv").read_text())))
        assert [float(r["latency_s"]) for r in rows] == values
        assert [r["cold_start"] for r in rows] == ["True"] + ["False"] * (len(values) - 1)
        assert {int(r["run_id"]) for r in rows if r["outlier_in"] == "latency_s"} == set(stats.outliers)
