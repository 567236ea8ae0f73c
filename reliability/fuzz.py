"""Fuzz: the property tests of tests/test_hostile.py under the long hypothesis profile.

    python -m reliability.fuzz [--examples 100000] [--out FILE]

HYPOTHESIS_PROFILE=long makes each property run --examples generated inputs (CI runs ~150):
the bulletin parser (bulletin-like text and any Unicode), the decoder and the file readers
(random bytes under every supported suffix), query parsing, search in every mode (a hundredth of
the inputs: each one embeds a query of up to 600 characters with the real model), and the HTTP parameters of every
GET endpoint with a query string (through the Flask app: no 5xx, every JSON valid against the
OpenAPI document). Inputs are counted inside the tests (tests/test_hostile.py EXAMPLES).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .results import ROOT, LoadSampler, code_state, record

PROPERTIES = {  # test -> what it covers
    "test_parser_never_raises": "parser (bulletin-like text)",
    "test_parser_on_any_unicode": "parser (any Unicode)",
    "test_decoder_returns_text_or_a_clear_error": "readers (decoder, random bytes)",
    "test_readers_return_a_document_or_a_clear_error": "readers (random bytes, 14 suffixes)",
    "test_query_parsing_never_raises_unexpectedly": "query parsing",
    "test_search_never_raises_unexpectedly": "search, every mode (a hundredth of the inputs: each embeds a query)",
    "test_http_parameters_never_give_5xx": "HTTP parameters (12 GET routes)",
}


class Recorder:
    """A pytest plugin keeping each test's outcome, duration and failure text."""

    def __init__(self) -> None:
        self.outcomes: dict[str, dict] = {}

    def pytest_runtest_logreport(self, report) -> None:  # noqa: ANN001
        name = report.nodeid.split("::")[-1]
        entry = self.outcomes.setdefault(name, {"seconds": 0.0, "failed": False, "error": ""})
        entry["seconds"] += report.duration
        if report.failed:
            entry["failed"] = True
            entry["error"] += str(report.longrepr)[-3000:]
        print(f"[fuzz] {name} {report.when} {report.outcome} {report.duration:.0f}s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000, help="generated inputs per property")
    parser.add_argument("--only", nargs="*", default=list(PROPERTIES), help="property test names to run")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default reliability/results/<date>.json)")
    args = parser.parse_args(argv)

    os.environ["HYPOTHESIS_PROFILE"] = "long"
    os.environ["HYPOTHESIS_EXAMPLES"] = str(args.examples)
    os.chdir(ROOT)
    import pytest

    recorder = Recorder()
    code = code_state()
    started = time.time()
    with LoadSampler() as load:
        exit_code = pytest.main(["-q", "-p", "no:cacheprovider", "tests/test_hostile.py", "-k", " or ".join(args.only)],
                           plugins=[recorder])
    from tests import test_hostile

    tests = {}
    for name in args.only:
        outcome = recorder.outcomes.get(name, {"seconds": 0.0, "failed": True, "error": "did not run"})
        tests[name] = {"covers": PROPERTIES.get(name, ""), "examples": test_hostile.EXAMPLES.get(name, 0),
                       "failures": int(outcome["failed"]), "seconds": round(outcome["seconds"], 1)}
        if outcome["failed"]:
            tests[name]["error"] = outcome["error"]
    data = {
        "examples_per_property": args.examples,
        "examples": sum(t["examples"] for t in tests.values()),
        "failures": sum(t["failures"] for t in tests.values()),
        "tests": tests,
        "seconds": round(time.time() - started, 1),
        "load_average": load.summary(),
        "pytest_exit_code": int(exit_code),
        "code": code,
    }
    path = record("fuzz", data, args.out)
    print(f"fuzz: {data['examples']:,} inputs, {data['failures']} failures -> {path}")
    return 0 if data["failures"] == 0 and exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
