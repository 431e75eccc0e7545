"""Open a page in headless Chromium: what rendered, what was fetched, what was logged.

Also a script: `python -m tests.report.browser PAGE.html SHOT.png` saves a screenshot (this
is how docs/images/report.png is made).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from html import unescape
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Injected first in <head>: records errors, then on load checks every figure and lists
# every resource the page fetched, into a <pre> that --dump-dom prints.
CHECKER = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(
  String(e.message || (e.target && (e.target.src || e.target.outerHTML)))), true);
for (const level of ['error', 'warn']) {
  const original = console[level];
  console[level] = (...args) => { window.__errors.push(level + ': ' + args.join(' '));
                                  original.apply(console, args); };
}
window.addEventListener('load', () => {
  const figures = [...document.querySelectorAll('figure')].map(f => {
    const svg = f.querySelector('svg'), img = f.querySelector('img');
    if (svg) {
      const box = svg.getBBox(), rect = svg.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && rect.width > 50 && rect.height > 50
        && svg.querySelectorAll('path, use').length > 0;
    }
    return !!img && img.complete && img.naturalWidth > 0;
  });
  const out = document.createElement('pre');
  out.id = '__check';
  out.style.display = 'none';
  out.textContent = JSON.stringify({figures, errors: window.__errors,
    resources: performance.getEntriesByType('resource').map(r => r.name)});
  document.body.appendChild(out);
});
</script>"""


def available() -> bool:
    return Path(CHROMIUM).is_file()


def check_page(page: Path, screenshot: Path | None = None, size=(1280, 4000)) -> dict:
    """Open `page` once: {figures: [True per <figure> that rendered], errors: [...],
    resources: [every URL fetched], console: [console lines]}; optionally a screenshot."""
    html = page.read_text(encoding="utf-8")
    probe = page.with_name("__browser_check.html")  # same folder: same relative paths
    probe.write_text(html.replace("<head>", "<head>" + CHECKER, 1), encoding="utf-8")
    args = ["--enable-logging=stderr", "--v=0", "--dump-dom"]
    if screenshot is not None:
        screenshot = Path(screenshot).resolve()
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        args += [f"--screenshot={screenshot}", f"--window-size={size[0]},{size[1]}"]
        args += ["--hide-scrollbars"]
    try:
        with tempfile.TemporaryDirectory() as profile:
            r = subprocess.run(
                [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, probe.resolve().as_uri()],
                capture_output=True,
                text=True,
                timeout=120,
            )
    finally:
        probe.unlink()
    found = re.search(r'<pre id="__check"[^>]*>(.*?)</pre>', r.stdout, re.S)
    if found is None:
        raise RuntimeError(f"chromium printed no check (exit {r.returncode}): {r.stderr[-2000:]}")
    result = json.loads(unescape(found.group(1)))
    result["console"] = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    return result


if __name__ == "__main__":
    from PIL import Image  # Pillow comes with matplotlib

    page, png = Path(sys.argv[1]), Path(sys.argv[2])
    seen = check_page(page, png)
    # 256 colours: a third of the size, no visible loss on a page of flat colours
    image = Image.open(png).convert("RGB")
    image.quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(png, optimize=True)
    print(
        f"{sum(seen['figures'])}/{len(seen['figures'])} figures rendered, errors: {seen['errors']}"
    )
