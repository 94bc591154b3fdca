"""Parses an OpenMetrics file with prometheus_client's strict parser.

Usage: check_openmetrics.py FILE. Exits 77 (meson's "skipped") when the
prometheus_client module is not installed (Debian: python3-prometheus-client).
"""
import sys

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
except ImportError:
    print("prometheus_client not installed; skipping")
    sys.exit(77)

with open(sys.argv[1], encoding="utf-8") as f:
    families = list(text_string_to_metric_families(f.read()))
print(f"{len(families)} families parsed")
