"""Look at a page the way a reader does: headless Chromium, driven over the DevTools protocol.

A tiny client, no dependency: Chromium started with `--remote-debugging-pipe` reads protocol
messages (JSON, each ended by a NUL byte) on its fd 3 and writes answers and events on its fd 4.
`Emulation.setDeviceMetricsOverride` sets the viewport (a phone's 420 px too: a headless window
will not go below 500 px, the emulated viewport does, and `mobile` makes Chromium honour the
page's viewport tag as a phone would), `Page.navigate` loads the page from a file, a script
measures it (`PAGE_CHECK`) and `Page.captureScreenshot` saves what it looks like.

    python -m tests.browser PAGE.html [WIDTH ...] --out DIR   # findings as JSON, screenshots in DIR
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
)

PAGE_CHECK = """
(async () => {
  const images = [...document.images];
  await Promise.all(images.map(i => i.decode().catch(() => null)));
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 80));
  const width = document.documentElement.clientWidth;
  const overflowing = [];
  for (const el of document.body.querySelectorAll('*')) {
    // Inside a box that scrolls on its own (a wide table, code), overflow is the box's business.
    if (el.parentElement && el.parentElement.closest('.scroll, pre')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > width + 1 || r.left < -1)) {
      overflowing.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + el.className : ''} `
        + `[${Math.round(r.left)}, ${Math.round(r.right)}]: ${(el.textContent || '').trim().slice(0, 60)}`);
    }
  }
  return {
    width,
    scroll_width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
    images: images.length,
    broken,
    overflowing: overflowing.slice(0, 20),
    viewport_tag: !!document.querySelector('meta[name=viewport]'),
    title: document.title,
  };
})()
"""


class BrowserError(RuntimeError):
    """Chromium failed, or answered a command with an error."""


def find_chromium() -> str | None:
    """Debian's `chromium` (or `$SWIMLAB_CHROMIUM`), if installed."""
    explicit = os.environ.get("SWIMLAB_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """One headless Chromium; `with Chromium() as browser: browser.check(page, 420)`."""

    def __init__(self, binary: str | None = None, timeout_s: float = 30.0) -> None:
        binary = binary or find_chromium()
        if binary is None:
            raise BrowserError("no chromium found (install Debian's `chromium`, or set SWIMLAB_CHROMIUM)")
        self.timeout_s = timeout_s
        self._profile = tempfile.mkdtemp(prefix="swimlab-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_fds() -> None:  # in the child: the protocol's fds are 3 (commands) and 4 (answers)
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self._proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            pass_fds=(3, 4, to_child_r, from_child_w),
            preexec_fn=wire_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    # The protocol ------------------------------------------------------------------------------
    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium closed the protocol pipe (exit code {self._proc.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            answer = self._receive()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)
        raise BrowserError(f"{method}: no answer in {self.timeout_s} s")

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            for k, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self._events.pop(k)
            self._events.append(self._receive())
        raise BrowserError(f"no {method} in {self.timeout_s} s")

    # What a test wants -------------------------------------------------------------------------
    def check(
        self, page: Path, width: int, height: int = 900, screenshot: Path | None = None, screens: int = 3
    ) -> dict[str, Any]:
        """Load `page` (a local file) in a `width` px viewport; return PAGE_CHECK's findings and
        (`screenshot`) save the top of the page, at most `screens` screens tall, as a PNG."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self.call("Page.enable", session=session)
            self.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 800},
                session=session,
            )
            self.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
            self.wait_event("Page.loadEventFired", session)
            found = self.call(
                "Runtime.evaluate",
                {"expression": PAGE_CHECK, "awaitPromise": True, "returnByValue": True},
                session=session,
            )
            if "exceptionDetails" in found:
                raise BrowserError(f"the page check failed: {found['exceptionDetails']}")
            result: dict[str, Any] = found["result"]["value"]
            if screenshot is not None:
                shot_height = min(int(result["height"]), screens * height)
                shot = self.call(
                    "Page.captureScreenshot",
                    {
                        "format": "png",
                        "captureBeyondViewport": True,
                        "clip": {"x": 0, "y": 0, "width": width, "height": shot_height, "scale": 1},
                    },
                    session=session,
                )
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            return result
        finally:
            self.call("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.call("Browser.close")
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Check a page in headless Chromium and screenshot it.")
    parser.add_argument("page", type=Path)
    parser.add_argument("widths", type=int, nargs="*", default=[1400, 420])
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument("--screens", type=int, default=3, help="screenshot at most this many screens")
    args = parser.parse_args()
    with Chromium() as browser:
        for width in args.widths:
            shot = args.out / f"{args.page.parent.name}-{width}.png"
            print(
                json.dumps(
                    {
                        "width": width,
                        "screenshot": str(shot),
                        **browser.check(args.page, width, args.height, shot, args.screens),
                    }
                )
            )


if __name__ == "__main__":
    main()
