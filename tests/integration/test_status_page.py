"""The status page at / in a real browser: a broker with the plugin, a
scripted conversation with one clearly slow symbol, then headless Chromium
driven through WebDriver (chromedriver, python3-selenium) loads /, reads the
slowest table and the fleet section, turns auto-refresh off, submits the
device lookup form, and saves a screenshot.

Skips (exit 77) only when chromium is not installed; scripts/install-deps
installs it."""

import json
import os
import shutil
import sys
import tempfile
import time
import unittest

from harness import Broker, close, publish_all, wait_until

CHROMIUM = shutil.which("chromium") or ""
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

D1, D2, D3 = "B00000000001", "B00000000002", "B00000000003"
SLOW, FAST, OTHER = "SLOWCO", "FASTCO", "AAPL"


def request(device, symbol):
    return ("STOCKPRICEUPDATE", json.dumps({"type": "UPDATE", "device": device,
                                            "symbol": symbol}), 1, False)


def answer(device, symbol, symbol_type=None):
    body = {"symbol": symbol, "price": "$1", "p": 1.0, "isPlaylist": True, "type": "UPDATE",
            "symbols": symbol, "symbolIndex": 0, "updateInterval": "120"}
    if symbol_type is not None:
        body["symbolType"] = symbol_type
    return (device, json.dumps(body), 1, False)


def heartbeat(device, firmware):
    return ("DEVICESTATUS_RES", json.dumps({
        "status": "online", "firmware_version": firmware, "device": device, "battery": "87",
        "vin": "1830", "uptime": "86400", "isCharging": "0", "wflct": "3", "iv": "elec+HB",
        "xmc": "1", "flashID": "C84016"}), 1, False)


def boot(device):
    return ("TICKRMETERBOOT", '{"type":"BOOT","device":"%s"}' % device, 1, False)


@unittest.skipUnless(CHROMIUM, "chromium is not installed")
class StatusPageBrowserTest(unittest.TestCase):

    def setUp(self):
        # Kept after the test (printed below) so the screenshot can be looked at.
        self.out_dir = tempfile.mkdtemp(prefix="tkmprom-status-page-")
        self.driver = None

    def tearDown(self):
        if self.driver is not None:
            self.driver.quit()
        shutil.rmtree(os.path.join(self.out_dir, "chromium-profile"), ignore_errors=True)

    def start_browser(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--no-first-run",
                     "--disable-component-update", "--disable-sync",
                     "--user-data-dir=" + os.path.join(self.out_dir, "chromium-profile"),
                     "--window-size=1280,1000"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(CHROMEDRIVER, log_path=os.path.join(self.out_dir, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        return self.driver

    def test_status_page_in_a_browser(self):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        options = {"ranking_min_requests": "1", "request_timeout": "2",
                   "quantile_window": "300"}
        with Broker(options=options) as b:
            dev = b.client("devices")
            backend = b.client("mqttjs_backend1")
            publish_all(dev, [heartbeat(D1, "70p"), heartbeat(D2, "2.4.1"), boot(D2),
                              request(D1, SLOW), request(D2, FAST), request(D2, OTHER),
                              request(D3, SLOW)])
            # FASTCO's answers name its quote backend (stock): its second
            # request counts under it, the first ones under unknown.
            publish_all(backend, [answer(D2, FAST, 1), answer(D2, OTHER)])
            publish_all(dev, [request(D2, FAST)])
            publish_all(backend, [answer(D2, FAST, 1)])
            time.sleep(1.5)  # SLOWCO's backend is slow ...
            publish_all(backend, [answer(D1, SLOW)])
            # ... and D3's request for it is never answered (times out after 2 s).
            close(dev)
            close(backend)

            def ranked():
                status, _, body = b.http("/api/v1/symbols/slowest")
                rows = json.loads(body) if status == 200 else []
                ready = rows and rows[0]["symbol"] == SLOW and rows[0]["timeout_rate"] > 0
                return rows if ready else None

            rows = wait_until(ranked, what="the slow symbol ranked first with its timeout")
            self.assertGreaterEqual(rows[0]["avg_latency_seconds"], 1.4)

            base = "http://127.0.0.1:%d" % b.http_port
            driver = self.start_browser()
            wait = WebDriverWait(driver, 15)

            # Auto-refresh is on by default; the link turns it off.
            driver.get(base + "/")
            self.assertEqual(driver.title, "tkmprom status")
            refresh = driver.find_elements(By.CSS_SELECTOR, 'meta[http-equiv="refresh"]')
            self.assertEqual(len(refresh), 1)
            self.assertEqual(refresh[0].get_attribute("content"), "10")
            driver.find_element(By.ID, "refresh-toggle").click()
            wait.until(ec.url_contains("refresh=0"))
            self.assertEqual(driver.find_elements(By.CSS_SELECTOR, 'meta[http-equiv="refresh"]'),
                             [])

            # The slow symbol first in the slowest table.
            first = driver.find_element(By.CSS_SELECTOR, "#slowest-table tr:nth-child(2)")
            cells = [td.text for td in first.find_elements(By.TAG_NAME, "td")]
            self.assertEqual(cells[1], SLOW, cells)
            self.assertEqual(cells[2], "unknown", cells)  # no answer named its backend
            self.assertTrue(cells[3].endswith(" s"), cells)  # average, in seconds
            self.assertEqual(cells[5], "50.0 %", cells)  # one of two resolved timed out
            self.assertEqual(cells[6], "2", cells)
            symbols = [td.text for td in driver.find_elements(
                By.CSS_SELECTOR, "#slowest-table td.sym")]
            self.assertEqual(sorted(symbols), sorted([SLOW, FAST, OTHER]))
            # The firmware in the fleet section; the boot of the last hour.
            firmware = driver.find_element(By.ID, "firmware-table").text
            self.assertIn("70p", firmware)
            self.assertIn("2.4.1", firmware)
            self.assertEqual(driver.find_element(By.CSS_SELECTOR, "#fleet-online .v").text, "3")
            self.assertEqual(driver.find_element(By.CSS_SELECTOR, "#fleet-boots-hour .v").text,
                             "1")
            # The backends: FASTCO's second request under stock, the rest
            # under unknown (SLOWCO's timeout among them).
            stock = [td.text for td in driver.find_elements(
                By.CSS_SELECTOR, "#backend-stock td")]
            self.assertEqual(stock[:3], ["stock", "1", "100.0 %"], stock)
            self.assertEqual(stock[5:], ["0", "0"], stock)
            unknown = [td.text for td in driver.find_elements(
                By.CSS_SELECTOR, "#backend-unknown td")]
            self.assertEqual(unknown[1], "4", unknown)
            self.assertEqual(unknown[2], "75.0 %", unknown)  # three answered, one timed out
            self.assertEqual(unknown[5], "1", unknown)
            self.assertIn("estimates from the latency histogram",
                          driver.find_element(By.ID, "backends").text)
            # The recent timeout, the histogram, the health section.
            timeouts = driver.find_element(By.ID, "timeouts-table").text
            self.assertIn(D3, timeouts)
            self.assertIn(SLOW, timeouts)
            charts = driver.find_elements(By.CSS_SELECTOR, "#latency svg")
            self.assertGreaterEqual(len(charts), 1)
            self.assertGreater(charts[0].size["width"], 100)
            self.assertIn("stock_request", driver.find_element(By.ID, "messages-table").text)
            # The stylesheet applied: the CSP's hash matches the <style> element.
            collapse = driver.execute_script(
                "return getComputedStyle(document.querySelector('table')).borderCollapse")
            self.assertEqual(collapse, "collapse")

            # The device lookup form.
            box = driver.find_element(By.ID, "device-id")
            box.clear()
            box.send_keys(D1)
            driver.find_element(By.ID, "lookup-submit").click()
            wait.until(ec.presence_of_element_located((By.ID, "device-result")))
            self.assertIn("device=" + D1, driver.current_url)
            self.assertIn("refresh=0", driver.current_url)  # kept off by the hidden field
            self.assertEqual(driver.find_element(By.ID, "device-firmware").text, "70p")
            self.assertEqual(driver.find_element(By.ID, "device-battery").text, "87 %")
            self.assertEqual(driver.find_element(By.ID, "device-requests").text, "1")
            self.assertEqual(driver.find_element(By.ID, "device-responses").text, "1")
            self.assertIn("online", driver.find_element(By.CSS_SELECTOR,
                                                        "#device-result h2").text)

            # The screenshot: the whole page, with the device shown.
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1280, min(int(height) + 40, 6000))
            shot = os.path.join(self.out_dir, "status_page.png")
            self.assertTrue(driver.save_screenshot(shot))
            self.assertGreater(os.path.getsize(shot), 10000)
            print("\nstatus page screenshot: %s" % shot, flush=True)

            # An unknown id: a clear message in the page.
            box = driver.find_element(By.ID, "device-id")
            box.clear()
            box.send_keys("FFFFFFFFFFFF")
            driver.find_element(By.ID, "lookup-submit").click()
            message = wait.until(ec.presence_of_element_located((By.ID, "device-not-found")))
            self.assertIn("Device not found", message.text)
            self.assertIn("FFFFFFFFFFFF", message.text)

            # No CSP violation (or any other error) reported by the page.
            errors = [e["message"] for e in driver.get_log("browser")
                      if e.get("level") == "SEVERE" and "404" not in e["message"]]
            self.assertEqual(errors, [])


if __name__ == "__main__":
    if not CHROMIUM:
        print("SKIP: chromium is not installed (scripts/install-deps installs it)")
        sys.exit(77)
    unittest.main(verbosity=2)
