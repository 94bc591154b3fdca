"""TickrMeter payloads for the integration and ops tests, in the protocol's exact shapes
(protocol reference §1.3 and samples.jsonl): requests on STOCKPRICEUPDATE,
playlist answers on the device topic, heartbeats and boots."""

import json

from harness import publish_all


def device_id(n):
    """The n-th made-up device id: 12 uppercase hex characters."""
    return "A1B2C3%06X" % n


def request(device, symbol=None):
    if symbol is None:
        return ("STOCKPRICEUPDATE", '{"type":"UPDATE","device":"%s"}' % device, 0, False)
    return ("STOCKPRICEUPDATE",
            '{"type":"UPDATE","device":"%s","symbol":"%s"}' % (device, symbol), 0, False)


def playlist_answer(device, symbol, playlist):
    """A playlist UPDATE answering the request for playlist[playlist.index(symbol)]."""
    answer = {"symbol": symbol.split("/")[0], "price": "$229.97", "p": 229.97,
              "percent": "1 day +0.85%", "perValue": 0.85, "date": "03:45PM 12 Jan 2025",
              "name": "My list", "currency": "$", "isPlaylist": True,
              "isMusicCreatorPl": False, "type": "UPDATE", "cycleInterval": "120",
              "updateInterval": "120", "symbols": ",".join(playlist),
              "symbolIndex": playlist.index(symbol), "cycleMode": "default",
              "ledBrightness": 50, "alertEnabled": False}
    return (device, json.dumps(answer, separators=(",", ":")), 0, False)


def error_answer(device):
    return (device, '{"type":"NO_CONFIG","success":false,"message":"No configuration found."}',
            0, False)


def heartbeat(device, firmware="70p", battery=87, uptime=86400, charging=0, flash="C84016"):
    # Every value a string, and the literal spaces before "xmc" and "flashID".
    return ("DEVICESTATUS_RES",
            '{"status":"online","firmware_version":"%s","device":"%s","battery":"%d",'
            '"vin":"1830","uptime":"%d","isCharging":"%d","wflct":"3","iv":"elec+HB", '
            '"xmc":"1", "flashID":"%s"}' % (firmware, device, battery, uptime, charging, flash),
            0, False)


def boot(device):
    return ("TICKRMETERBOOT", '{"type":"BOOT","device":"%s"}' % device, 0, False)


def invalid_request():
    """A request whose device id does not match device_id_pattern."""
    return ("STOCKPRICEUPDATE", '{"type":"UPDATE","device":"not-a-device"}', 0, False)


def small_fleet(client, answered="AAPL", unanswered="FAIL", devices=4):
    """One round of everything the dashboard shows: heartbeats (two firmware
    versions, one charging), a boot, answered requests for `answered`, an
    error reply, requests for `unanswered` left to time out, an invalid
    request, a duplicate answer."""
    playlist = [answered, unanswered, "BTC/USD"]
    messages = []
    for n in range(devices):
        d = device_id(n)
        messages.append(heartbeat(d, firmware="70p" if n % 2 else "65d",
                                  battery=20 + 20 * n, uptime=600 + 50000 * n,
                                  charging=1 if n == 0 else 0))
        messages.append(request(d, answered))
        messages.append(playlist_answer(d, answered, playlist))
        messages.append(request(d, unanswered))
    messages.append(boot(device_id(0)))
    messages.append(request(device_id(1)))
    messages.append(error_answer(device_id(1)))
    messages.append(playlist_answer(device_id(0), answered, playlist))  # duplicate
    messages.append(invalid_request())
    publish_all(client, messages)
