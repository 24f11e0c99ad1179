"""The dlt baseline of `rest_throughput.py --latency-ms`: dlt's rest_api source loads the fake openFDA API into DuckDB.

rest_throughput.py runs this with the Python of its own dlt environment (benchmarks/requirements-dlt.txt, installed
under build/benchmark-venvs/), under the same launcher that times `fivetran debug`. It takes one argument, a JSON
file of settings (base URL, paths and parameter names, page size, where the pipeline and its DuckDB file go), and
writes a JSON summary next to them: the rows dlt normalized per table and the duration of each step of the run.

The configuration is dlt's documented declarative REST source and nothing more: an offset paginator with the API's
own parameter names and total path, the records selector, the primary key, and every other setting at dlt's default.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def rest_api_config(settings: dict[str, Any]) -> dict[str, Any]:
    """A RESTAPIConfig for the fake openFDA endpoint (a plain dict: the TypedDict is only for type checkers)."""
    return {
        "client": {
            "base_url": settings["base_url"],
            "paginator": {
                "type": "offset",
                "limit": settings["page_size"],
                "offset_param": settings["offset_param"],
                "limit_param": settings["limit_param"],
                "total_path": settings["total_path"],
            },
        },
        "resources": [
            {
                "name": settings["table"],
                "primary_key": settings["primary_key"],
                "write_disposition": settings["write_disposition"],
                "endpoint": {"path": settings["path"], "data_selector": settings["records_path"]},
            }
        ],
    }


def main(argv: list[str]) -> int:
    settings_path = Path(argv[1])
    settings = json.loads(settings_path.read_text(encoding="utf-8"))

    import dlt
    from dlt.sources.rest_api import rest_api_source

    pipeline = dlt.pipeline(
        pipeline_name="rest_throughput",
        destination=dlt.destinations.duckdb(settings["database"]),
        dataset_name=settings["dataset"],
        pipelines_dir=settings["pipelines_dir"],
    )
    load_info = pipeline.run(rest_api_source(rest_api_config(settings)))
    load_info.raise_on_failed_jobs()

    trace = pipeline.last_trace
    steps = {
        step.step: (step.finished_at - step.started_at).total_seconds()
        for step in trace.steps
        if step.started_at and step.finished_at
    }
    normalize_info = trace.last_normalize_info
    summary = {
        "dlt_version": dlt.__version__,
        "row_counts": dict(normalize_info.row_counts) if normalize_info else {},
        "steps_s": steps,
        "loader_file_format": str(pipeline.destination.capabilities().preferred_loader_file_format),
    }
    Path(settings["summary"]).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(load_info)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
