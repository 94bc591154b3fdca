#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<harness>/) from the
protocol samples: one publish of each shape, as JSON lines with `topic` and
`payload` (the protocol reference's samples.jsonl).

Usage: make_seed_corpus.py SAMPLES_JSONL [OUT_DIR]   (OUT_DIR: ./corpus)

The seeds are committed; run this again when the samples change. Seed files
hold only topics, payloads, option lines and header values.
"""

import json
import os
import sys

# engine_observe_fuzzer control byte (see engine_observe_fuzzer.cc).
STEP_1MS, STEP_50MS, STEP_1S, STEP_31S = 1, 2, 3, 5
ADVANCE, SNAPSHOT, TRUNCATED = 0x08, 0x10, 0x20

DEVICE = "A1B2C3D4E5F6"


def record(control, topic, payload):
    return bytes([control]) + topic.encode() + b"\t" + payload.encode() + b"\n"


def engine_seeds(samples):
    seeds = {}
    for i, s in enumerate(samples):
        seeds["sample-%02d" % i] = b"\x00" + record(STEP_50MS | SNAPSHOT, s["topic"], s["payload"])
    everything = b"".join(record(STEP_50MS, s["topic"], s["payload"]) for s in samples)
    for config in range(8):
        seeds["all-samples-config-%d" % config] = bytes([config]) + everything
    requests = [s for s in samples if s["topic"] == "STOCKPRICEUPDATE"]
    answers = [s for s in samples if s["topic"] == DEVICE]
    # Each request answered, then each left to time out, then superseded.
    conversation = b"\x01"
    for r in requests:
        for a in answers:
            conversation += record(STEP_1MS, r["topic"], r["payload"])
            conversation += record(STEP_50MS | SNAPSHOT, a["topic"], a["payload"])
    for r in requests:
        conversation += record(STEP_1MS, r["topic"], r["payload"])
        conversation += record(STEP_1MS, r["topic"], r["payload"])
        conversation += record(STEP_31S | ADVANCE | SNAPSHOT, "DEVICESTATUS", '{"action":"status"}')
    seeds["conversation"] = conversation
    seeds["truncated-request"] = b"\x00" + record(STEP_1S | TRUNCATED, requests[0]["topic"],
                                                  requests[0]["payload"][:20])
    # Tiny caps: more devices and symbols than fit.
    many = b"\x02"
    for n in range(6):
        dev = "%012X" % (0xA1B2C3D4E5F0 + n)
        many += record(STEP_1MS, "STOCKPRICEUPDATE",
                       '{"type":"UPDATE","device":"%s","symbol":"S%d"}' % (dev, n))
        many += record(STEP_1MS | SNAPSHOT, dev, answers[0]["payload"])
    seeds["over-the-caps"] = many
    # Label caps (plugin-contract.md 7.2): more distinct firmware_version, iv
    # and flashID values than 256 per label, some over-long or not printable.
    labels = b"\x00"
    for n in range(300):
        value = "v%d" % n
        if n % 50 == 1:
            value = value.ljust(33, "x")
        elif n % 50 == 2:
            value += "\\u0001"
        labels += record(STEP_1MS, "DEVICESTATUS_RES",
                         '{"device":"%012X","firmware_version":"f%s","iv":"i%s","flashID":"x%s",'
                         '"uptime":%d}' % (n + 1, value, value, value, 1000 - n))
    labels += record(STEP_1MS | SNAPSHOT, "TICKRMETERBOOT", '{"type":"BOOT","device":"%012X"}' % 300)
    seeds["label-caps"] = labels
    # Requests superseding each other (the deadline queue), then a timeout.
    flood = b"\x00"
    for n in range(300):
        flood += record(STEP_1MS, "STOCKPRICEUPDATE",
                        '{"type":"UPDATE","device":"%s","symbol":"AAPL"}' % DEVICE)
    flood += record(STEP_31S | ADVANCE | SNAPSHOT, "DEVICESTATUS", '{"action":"status"}')
    seeds["superseding-requests"] = flood
    return seeds


def option_seeds():
    lines = {
        "defaults": ["http_listen=127.0.0.1:10883", "request_timeout=30", "device_timeout=2100",
                     "symbol_expiry=86400", "latency_buckets=0.1,0.5,1,2,5,10,30,60",
                     "quantile_window=300", "ranking_min_requests=10", "max_devices=100000",
                     "max_symbols=10000", "per_device_metrics=false",
                     "device_id_pattern=^[0-9A-F]{12}$"],
        "ipv6": ["http_listen=[::1]:10883"],
        "any-address": ["http_listen=0.0.0.0:10883"],
        "edges": ["request_timeout=0.001", "device_timeout=2592000", "quantile_window=0.01",
                  "max_devices=1", "max_symbols=1000000", "per_device_metrics=yes"],
        "bad": ["request_timeout=soon", "latency_buckets=1,1", "max_devices=0",
                "device_id_pattern=(", "http_listen=localhost:80"],
        "protection": ["http_auth_file=users", "http_tls_cert=cert.pem", "http_tls_key=key.pem"],
        "unknown": ["no_such_option=1"],
        "exponent": ["request_timeout=1e2", "latency_buckets=1e-3,2E1"],
    }
    return {name: ("\n".join(v) + "\n").encode() for name, v in lines.items()}


def http_seeds():
    sets = {
        "empty": ["", "", "", ""],
        "prometheus": ["application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,"
                       "*/*;q=0.1", "gzip", "10", DEVICE],
        "curl": ["*/*", "deflate, gzip;q=1.0, *;q=0.5", "1000", "a1b2c3d4e5f6"],
        "text": ["text/plain;version=0.0.4", "identity", "-5", ""],
        "openmetrics-old": ["application/openmetrics-text;version=0.0.1;q=1", "x-gzip;q=0", "1.5",
                            "%00"],
        "browser": ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                    "gzip, deflate, br", "99999999999999999999999", "<b>A1B2C3D4E5F6</b>"],
    }
    return {name: "\n".join(v).encode() for name, v in sets.items()}


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(__file__), "corpus")
    with open(sys.argv[1]) as f:
        samples = [json.loads(line) for line in f if line.strip()]
    for harness, seeds in (("engine_observe_fuzzer", engine_seeds(samples)),
                           ("config_option_fuzzer", option_seeds()),
                           ("http_request_fuzzer", http_seeds())):
        d = os.path.join(out, harness)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (harness, len(seeds)))


if __name__ == "__main__":
    main()
