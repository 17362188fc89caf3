"""metrics.csv grows columns as needed and drops rows lost to a kill on resume."""

from emkit.engine.runs.metrics_log import MetricsLog, read_metrics


def test_columns_grow_and_truncate(tmp_path):
    path = tmp_path / "metrics.csv"
    log = MetricsLog(path)
    log.log("step", 1, 10, {"loss": 0.5})
    log.log("epoch", 1, 20, {"val_l1": 0.1})
    log.log("step", 2, 30, {"loss": 0.25})
    rows = read_metrics(path)
    assert [r["step"] for r in rows] == ["10", "20", "30"]
    assert rows[1]["val_l1"] == "0.1" and rows[0]["val_l1"] == ""
    again = MetricsLog(path)
    again.truncate_after(20)
    assert [r["step"] for r in read_metrics(path)] == ["10", "20"]
