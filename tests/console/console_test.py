#!/usr/bin/env python3
"""The web console in a real browser (Debian's chromium and chromedriver, python3-selenium)
against a real `obsforge serve` running the demo stack (real Prometheus and Alertmanager).

usage: console_test.py OBSFORGE_BINARY SOURCE_DIR SCREENSHOT_DIR

Every wait polls the page or the API until what the test expects is there; the bounds only
limit how long a failing test takes. Exit code 77 (ctest's skip) when something it needs is
missing.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover
    print("python3-selenium is not installed: skipped")
    sys.exit(77)

BINARY, SOURCE, SHOTS = (sys.argv[1:4] + [None, None, None])[:3]
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

# Upper bounds for things to happen; a passing test goes on as soon as they do.
COME_UP = 120
CHANGE = 60

TOKENS = {
    "viewer": "console-viewer-token-0123456789",
    "admin": "console-admin-token-0123456789",
}


def demo_spec():
    """stacks/demo.yaml with health checked every 250 ms, so that a frozen Prometheus shows."""
    with open(os.path.join(SOURCE, "stacks", "demo.yaml"), encoding="utf-8") as f:
        spec = f.read()
    health = spec.index("  health:\n")
    environments = spec.index("  environments:\n")
    spec = (spec[:health] + "  health:\n    interval: 250ms\n    timeout: 1s\n"
            "    failure_threshold: 2\n    canaries: false\n" + spec[environments:])
    return spec.replace("scrape_interval: 15s", "scrape_interval: 1s")


def find_process(binary, directory):
    """The pid of the process running `binary` whose command line mentions `directory`."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0].decode()) == binary and \
                directory.encode() in b" ".join(argv):
            return int(name)
    return 0


class Server:
    """`obsforge serve` with tokens, on a free port, in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="obs-console-")
        tokens = os.path.join(self.dir, "tokens.yaml")
        with open(tokens, "w", encoding="utf-8") as f:
            for role, token in TOKENS.items():
                digest = hashlib.sha256(token.encode()).hexdigest()
                f.write(f"- {{name: {role}-user, role: {role}, token_sha256: {digest}}}\n")
        self.lines = []
        self.seen = threading.Condition()
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir",
             os.path.join(self.dir, "var"), "--content-dir", SOURCE, "--tokens-file", tokens],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_line(r"obsforge: (http://\S+)", COME_UP)
        if line is None:
            raise RuntimeError("obsforge serve did not come up:\n" + self.output())
        self.base = re.search(r"obsforge: (http://\S+)", line).group(1)

    def _read(self):
        for line in self.proc.stdout:
            with self.seen:
                self.lines.append(line.rstrip("\n"))
                self.seen.notify_all()
        with self.seen:
            self.seen.notify_all()

    def wait_line(self, pattern, limit):
        deadline = time.monotonic() + limit
        with self.seen:
            while True:
                for line in self.lines:
                    if re.search(pattern, line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.seen.wait(left)

    def output(self):
        with self.seen:
            return "\n".join(self.lines[-80:])

    def call(self, method, path, role="admin", body=None, content_type="application/json"):
        data = None
        headers = {"Authorization": "Bearer " + TOKENS[role]}
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def wait_operation(self, op_id):
        deadline = time.monotonic() + COME_UP
        while time.monotonic() < deadline:
            status, op = self.call("GET", "/api/v1/operations/" + op_id, "viewer")
            if status == 200 and op["state"] not in ("queued", "running"):
                return op
            with self.seen:  # wake on any log line, or in 200 ms at the latest
                self.seen.wait(0.2)
        raise AssertionError(f"operation {op_id} did not finish:\n{self.output()}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class ConsoleTest(unittest.TestCase):
    server = None
    browser = None
    create_op = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        status, body = cls.server.call("POST", "/api/v1/stacks", "admin", demo_spec(),
                                       "application/yaml")
        assert status == 202, body
        cls.create_op = body["operations"][0]["id"]
        op = cls.server.wait_operation(cls.create_op)
        assert op["state"] == "succeeded", json.dumps(op, indent=2) + cls.server.output()
        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--disable-gpu"):
            options.add_argument(arg)
        options.binary_location = CHROMIUM
        cls.browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)

    @classmethod
    def tearDownClass(cls):
        if cls.browser is not None:
            cls.browser.quit()
        if cls.server is not None:
            cls.server.stop()

    # ---- helpers ----------------------------------------------------------------------------
    def open(self, path, role):
        """Opens `path` signed in as `role` (the token typed into the console's form)."""
        b = self.browser
        b.get(self.server.base + path)
        b.execute_script("sessionStorage.clear()")
        b.get(self.server.base + path)
        self.wait(lambda: b.find_element(By.ID, "token").is_displayed(), CHANGE, "token form")
        b.find_element(By.ID, "token").send_keys(TOKENS[role])
        self.click(lambda: b.find_element(By.CSS_SELECTOR, "#login button"), "sign in")
        self.wait(lambda: f"({role})" in b.find_element(By.ID, "who").text, CHANGE, "signed in")

    def wait(self, condition, limit, what):
        def check(_):
            try:
                return condition()
            except Exception:  # an element not there yet, or replaced while read
                return False
        try:
            return WebDriverWait(self.browser, limit, poll_frequency=0.1).until(check)
        except Exception as e:
            if SHOTS:
                os.makedirs(SHOTS, exist_ok=True)
                self.browser.save_screenshot(
                    os.path.join(SHOTS, "failed-" + re.sub(r"\W+", "-", what) + ".png"))
            raise AssertionError(f"{what}: not within {limit} s\n{self.server.output()}") from e

    def click(self, find, what):
        """Clicks what `find` returns; found again if the page redrew it meanwhile."""
        self.wait(lambda: find().click() or True, CHANGE, what)

    def shot(self, name):
        # Whatever a page shows, it shows as text: no value rendered as "[object ...]".
        self.assertNotIn("[object", self.browser.find_element(By.TAG_NAME, "body").text)
        if SHOTS:
            os.makedirs(SHOTS, exist_ok=True)
            self.browser.save_screenshot(os.path.join(SHOTS, name + ".png"))

    def tile(self, stack, env):
        return self.browser.find_element(
            By.CSS_SELECTOR, f'#tiles .tile[data-stack="{stack}"][data-env="{env}"]')

    # ---- scenarios ----------------------------------------------------------------------------
    def test_1_frozen_prometheus_turns_its_tile_red_without_a_reload_and_green_again(self):
        b = self.browser
        self.open("/", "viewer")
        self.wait(lambda: "t-s-ok" in self.tile("demo", "dev").get_attribute("class"), COME_UP,
                  "demo/dev tile green")
        self.wait(lambda: "live" == b.find_element(By.ID, "live").text, CHANGE, "live updates")
        self.shot("overview")
        # A marker that a reload would lose: the tile must change under it.
        b.execute_script("window.obsMarker = 'same page'")
        prometheus = find_process("prometheus", self.server.dir)
        self.assertNotEqual(prometheus, 0, "no Prometheus of the demo stack runs")
        os.kill(prometheus, signal.SIGSTOP)
        try:
            self.wait(lambda: "t-s-bad" in self.tile("demo", "dev").get_attribute("class"),
                      CHANGE, "demo/dev tile red after SIGSTOP")
            self.wait(lambda: "prometheus/" in self.tile("demo", "dev").text, CHANGE,
                      "the failing checks on the tile")
            self.shot("overview-frozen")
        finally:
            os.kill(prometheus, signal.SIGCONT)
        self.wait(lambda: "t-s-ok" in self.tile("demo", "dev").get_attribute("class"), CHANGE,
                  "demo/dev tile green after SIGCONT")
        self.assertEqual(b.execute_script("return window.obsMarker"), "same page")

    def test_2_environment_page_shows_checks_timeline_and_urls(self):
        b = self.browser
        self.open("/stacks/demo/environments/dev", "viewer")
        self.wait(lambda: b.find_element(By.CSS_SELECTOR, "svg.timeline rect"), CHANGE, "timeline")
        # Pages redraw as events arrive: everything is read inside a wait, found afresh.
        self.wait(lambda: len(b.find_elements(By.XPATH, "//table//td[text()='ready *']")) == 2,
                  CHANGE, "the ready checks of prometheus and alertmanager")
        self.wait(lambda: any(a.get_attribute("href").startswith("http://127.0.0.1:")
                              for a in b.find_elements(By.CSS_SELECTOR, "td a")),
                  CHANGE, "links to the components")
        # A viewer gets no apply button.
        self.assertEqual(b.find_elements(By.ID, "apply"), [])
        self.shot("environment")

    def test_3_operation_page_shows_the_create_steps(self):
        b = self.browser
        _, op = self.server.call("GET", "/api/v1/operations/" + self.create_op, "viewer")
        self.open("/operations/" + self.create_op, "viewer")
        rows = self.wait(lambda: [r.text for r in b.find_elements(
            By.CSS_SELECTOR, "main table tbody tr")] or None, CHANGE, "steps")
        self.assertEqual(len(rows), len(op["steps"]), rows)
        for row, step in zip(rows, op["steps"]):
            self.assertTrue(row.startswith(step["name"] + " " + step["state"]), (row, step))
        self.assertIn("create of demo", b.find_element(By.ID, "main").text)
        self.shot("operation")

    def test_4_admin_rolls_back_through_the_console_and_a_viewer_has_no_button(self):
        b = self.browser
        spec = demo_spec().replace("retention: {metrics: 1d}", "retention: {metrics: 2d}")
        status, body = self.server.call("PUT", "/api/v1/stacks/demo", "admin", spec,
                                        "application/yaml")
        self.assertEqual(status, 202, body)
        self.assertEqual(self.server.wait_operation(body["operations"][0]["id"])["state"],
                         "succeeded")
        _, stack = self.server.call("GET", "/api/v1/stacks/demo", "viewer")
        self.assertEqual(stack["environments"]["dev"]["applied_revision"], 2)

        self.open("/stacks/demo/revisions", "viewer")
        self.wait(lambda: b.find_element(By.CSS_SELECTOR, 'tr[data-revision="1"]'), CHANGE,
                  "revisions for the viewer")
        self.assertEqual(b.find_elements(By.CSS_SELECTOR, "button.rollback"), [])

        self.open("/stacks/demo/revisions", "admin")
        rollback = (By.CSS_SELECTOR, 'button.rollback[data-env="dev"][data-revision="1"]')
        self.wait(lambda: b.find_element(*rollback), CHANGE, "rollback button for the admin")
        # The diff of the two revisions names the changed retention.
        self.click(lambda: b.find_element(
            By.XPATH, "//tr[@data-revision='2']//button[text()='diff from here']"), "first diff")
        self.click(lambda: b.find_element(
            By.XPATH, "//tr[@data-revision='1']//button[starts-with(text(), 'diff 2')]"),
            "second diff")
        self.wait(lambda: "2d" in b.find_element(By.ID, "rev-diff").text, CHANGE, "spec diff")
        self.shot("revisions")
        self.click(lambda: b.find_element(*rollback), "rollback")
        self.wait(lambda: "/operations/" in b.current_url, CHANGE, "operation page")
        state = self.wait(lambda: b.find_element(By.CSS_SELECTOR, "main p .badge").text
                          in ("succeeded", "failed", "rolled_back") and
                          b.find_element(By.CSS_SELECTOR, "main p .badge").text, COME_UP,
                          "rollback finished")
        self.assertEqual(state, "succeeded", b.find_element(By.ID, "main").text)
        self.assertIn("rollback of demo", b.find_element(By.ID, "main").text)
        _, stack = self.server.call("GET", "/api/v1/stacks/demo", "viewer")
        self.assertEqual(stack["environments"]["dev"]["applied_revision"], 1)

    def test_5_stack_and_gitops_pages_load(self):
        b = self.browser
        self.open("/stacks/demo", "viewer")
        self.wait(lambda: b.find_element(By.LINK_TEXT, "dev").get_attribute("href").endswith(
            "/stacks/demo/environments/dev"), CHANGE, "stack page")
        self.assertIn("purpose=demo", b.find_element(By.ID, "view").text)
        self.shot("stack")
        self.open("/gitops", "viewer")
        self.wait(lambda: "No GitOps source" in b.find_element(By.ID, "view").text, CHANGE,
                  "gitops page")
        self.shot("gitops")

    def test_6_a_page_with_100_stacks_loads(self):
        b = self.browser
        spec = demo_spec()
        for i in range(100):
            named = spec.replace("name: demo", f"name: load-{i:03}", 1)
            status, body = self.server.call("POST", "/api/v1/stacks?environments=", "admin",
                                            named, "application/yaml")
            self.assertEqual(status, 202, body)
        self.open("/?q=load-", "viewer")
        self.wait(lambda: len(b.find_elements(By.CSS_SELECTOR, "#tiles .tile")) == 101, CHANGE,
                  "101 tiles")
        self.wait(lambda: b.find_element(By.ID, "counts").text == "100 of 101 environments"
                  and len(b.find_elements(By.CSS_SELECTOR, "#tiles .tile:not(.hidden)")) == 100,
                  CHANGE, "the filter shows the 100 load- stacks")
        self.shot("overview-100")
        # The page, its script and style and the tiles stay under 150 KB together.
        weight = b.execute_script(
            "return performance.getEntriesByType('resource').concat("
            "performance.getEntriesByType('navigation'))"
            ".filter(e => !e.name.includes('/api/v1/events'))"
            ".reduce((n, e) => n + e.transferSize, 0)")
        self.assertLess(weight, 150 * 1024)
        # A narrow window still shows every tile, one per row.
        b.set_window_size(420, 900)
        self.wait(lambda: b.find_element(By.CSS_SELECTOR, "#tiles .tile").size["width"] < 420,
                  CHANGE, "narrow layout")
        self.shot("overview-narrow")
        b.set_window_size(1280, 900)


if __name__ == "__main__":
    if not BINARY or not SOURCE:
        print(__doc__)
        sys.exit(2)
    missing = [name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER),
                                       ("prometheus", shutil.which("prometheus")))
               if not path]
    if missing:
        print("missing " + ", ".join(missing) + ": skipped")
        sys.exit(77)
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
