#!/usr/bin/env python3
"""Checks weir's /metrics with Prometheus's own text parser.

usage: metrics_check.py URL CHECK...

Each CHECK is NAME|LABELS|OP|VALUE: LABELS is label=value pairs separated by
commas (the sample must have at least these labels; "" for none), OP one of
==, >=, >, <=. Besides the checks, every family must have HELP and a known
TYPE, every sample name start with weir_, and the Content-Type be the text
format's version 0.0.4. Exit 0 when everything holds; otherwise each problem
is printed on a line of its own and the exit code is 1.
"""
import operator
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

OPS = {"==": operator.eq, ">=": operator.ge, ">": operator.gt, "<=": operator.le}


def main():
    url, checks = sys.argv[1], sys.argv[2:]
    with urllib.request.urlopen(url, timeout=5) as response:
        content_type = response.headers.get("Content-Type", "")
        text = response.read().decode("utf-8")
    problems = []
    if content_type != "text/plain; version=0.0.4; charset=utf-8":
        problems.append("Content-Type is %r" % content_type)
    samples = []
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("weir_"):
            problems.append("family %s: name does not start with weir_" % family.name)
        if not family.documentation:
            problems.append("family %s: no HELP" % family.name)
        if family.type not in ("counter", "gauge", "histogram"):
            problems.append("family %s: type %s" % (family.name, family.type))
        samples.extend(family.samples)
    for check in checks:
        name, labels, op, value = check.split("|")
        want = dict(kv.split("=", 1) for kv in labels.split(",") if kv)
        found = [s for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in want.items())]
        if not found:
            problems.append("%s: no sample %s{%s}" % (check, name, labels))
            continue
        total = sum(s.value for s in found)
        if not OPS[op](total, float(value)):
            problems.append("%s: value is %r" % (check, total))
    for p in problems:
        print(p)
    if not problems:
        print("ok: %d samples, %d checks" % (len(samples), len(checks)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
