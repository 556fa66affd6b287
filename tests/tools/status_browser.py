#!/usr/bin/env python3
"""Opens weir's /status page in headless Chromium and watches one server row.

usage: status_browser.py CHROMIUM STATUS_URL SERVER_KEY DOWN_URL TIMEOUT_S

Chromium is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: it reads commands on fd 3 and writes on fd 4,
NUL-terminated JSON). The script waits until the row
<tr data-server=SERVER_KEY> shows state "up", then requests DOWN_URL (which
makes the server fail its health checks), and waits, without reloading the
page, until the same row shows "down". Prints what it saw; exit 0 on
success, 1 otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request


class DevTools:
    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # Copies first, so that neither dup2 overwrites the other's
            # source; dup2 leaves 3 and 4 inheritable, while every other
            # descriptor Python opened is close-on-exec.
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + profile, "about:blank"],
            close_fds=False, preexec_fn=child_fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.next_id = 0
        self.pending = b""

    def call(self, method, params=None, session=None, timeout=10):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\0" in self.pending:
                raw, self.pending = self.pending.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError("%s: %s" % (method, reply["error"]))
                    return reply.get("result", {})
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.pending += chunk
        raise RuntimeError("%s: no answer in %ss" % (method, timeout))

    def close(self):
        try:
            self.call("Browser.close", timeout=3)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    chromium, url, key, down_url, timeout = sys.argv[1:6]
    deadline = time.monotonic() + float(timeout)
    with tempfile.TemporaryDirectory() as profile:
        tools = DevTools(chromium, profile)
        try:
            target = tools.call("Target.createTarget", {"url": url})["targetId"]
            session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            probe = ("(() => { const r = document.querySelector('tr[data-server=\"%s\"]');"
                     " return JSON.stringify({state: r ? r.querySelector('[data-field=state]').textContent : null,"
                     " loads: performance.getEntriesByType('navigation').length, href: location.href}); })()" % key)
            # A mark on the page's window: gone if the page is ever reloaded.
            loaded = "document.readyState === 'complete' && location.href === %s" % json.dumps(url)
            while not tools.call("Runtime.evaluate", {"expression": loaded, "returnByValue": True},
                                 session)["result"].get("value"):
                if time.monotonic() > deadline:
                    print("the page did not load")
                    return 1
                time.sleep(0.1)
            tools.call("Runtime.evaluate", {"expression": "window.__weirMark = 1"}, session)

            def state():
                got = tools.call("Runtime.evaluate", {"expression": probe, "returnByValue": True}, session)
                seen = json.loads(got["result"]["value"])
                marked = tools.call("Runtime.evaluate", {"expression": "window.__weirMark === 1", "returnByValue": True},
                                    session)["result"]["value"]
                return seen["state"], marked

            def wait_for(want):
                last = None
                while time.monotonic() < deadline:
                    last, marked = state()
                    if not marked:
                        raise RuntimeError("the page was reloaded")
                    if last == want:
                        return True
                    time.sleep(0.2)
                print("row %s: state %r, wanted %r" % (key, last, want))
                return False

            if not wait_for("up"):
                return 1
            print("row %s: up" % key)
            urllib.request.urlopen(down_url, timeout=5).read()
            if not wait_for("down"):
                return 1
            print("row %s: down, page not reloaded" % key)
            return 0
        finally:
            tools.close()


if __name__ == "__main__":
    sys.exit(main())
