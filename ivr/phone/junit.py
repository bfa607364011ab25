"""JUnit XML for CI from scenario results."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def write(results, path: str | Path, suite: str = "ivr test") -> None:
    root = ET.Element("testsuites")
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)),
                         failures=str(sum(r.status == "failed" for r in results)),
                         skipped=str(sum(r.status == "skipped" for r in results)),
                         time=f"{sum(r.seconds for r in results):.3f}")
    for result in results:
        case = ET.SubElement(node, "testcase", classname=Path(result.scenario.file).stem,
                             name=result.scenario.name, time=f"{result.seconds:.3f}")
        if result.status == "failed":
            failure = ET.SubElement(case, "failure", message=result.message.splitlines()[0] if result.message else "")
            failure.text = result.message
        elif result.status == "skipped":
            ET.SubElement(case, "skipped", message=result.message)
        if result.call is not None:
            ET.SubElement(case, "system-out").text = result.call.transcript
    ET.ElementTree(root).write(str(path), encoding="utf-8", xml_declaration=True)
