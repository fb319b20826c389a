#!/usr/bin/python3
"""Reads Prometheus text on stdin with the Prometheus client library's own parser (Debian's
python3-prometheus-client, which refuses a malformed exposition) and prints one sample per line,
labels sorted: NAME{k="v",...} VALUE."""
import sys

from prometheus_client.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
        print(f"{sample.name}{{{labels}}} {sample.value:g}")
