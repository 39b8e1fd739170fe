"""Check exported notebook HTML in a real browser: headless Chromium draws every plotly figure.

pytest only sees figure dicts; readers see pages.  This module opens an HTML export (what
``python -m mdtf_lite series`` writes next to each executed notebook) in headless Chromium through
Selenium *with the network blocked*, waits for plotly to render and MathJax to typeset, screenshots every
figure (widgets' included: exports draw them from their saved state), and reports per figure how much of
it is *skeleton ink* (saturated pixels: the blue/red bones; axes, grid, text and the scene background
are grey), plus JavaScript errors, attempted network requests, remote ``<script src>`` links, maths left
as TeX source and widget outputs the export could not draw; optionally it presses each animated figure's
play button and records the frames and poses drawn (no kernel behind the page).

    python -m mdtf_lite browser runs/ci/*.html             # screenshots in runs/browser_check/
    python -m mdtf_lite browser page.html --out somewhere/
    python -m mdtf_lite browser page.html --play 3         # also play each animation 3 s: does it move?

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``;
override with ``MDTF_CHROMIUM`` / ``MDTF_CHROMEDRIVER``) and the ``selenium`` and ``pillow`` packages.
WebGL runs on Chromium's software rasteriser, so no GPU is needed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mdtf_lite.paths import runs_dir

__all__ = [
    "find_chromium",
    "ink_fraction",
    "check_html",
    "PageReport",
    "FigureReport",
    "CHROMIUM_FLAGS",
    "BLOCKED_URLS",
]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,1000",
)

#: URL patterns blocked while a page loads (the network is "off"): a page that needs any of them is broken.
BLOCKED_URLS = ("http://*", "https://*", "ws://*", "wss://*")

_MATH_JS = r"""
const mj = window.MathJax;
if (!mj || !mj.Hub) return {loaded: false, done: true, typeset: 0, raw: []};
if (!window.__mdtfMathQueued) { window.__mdtfMathQueued = true; mj.Hub.Queue(() => { window.__mdtfMathDone = true; }); }
const typeset = document.querySelectorAll('.MathJax_MathML, .MathJax_SVG, .MathJax_SVG_Display, .MathJax, mjx-container').length;
const raw = [];
document.querySelectorAll('.jp-MarkdownOutput').forEach(el => {
  const m = el.innerText.match(/\$\$[^$]+\$\$|\$[^$\s][^$]*\$/g);
  if (m) raw.push(...m.slice(0, 3));
});
return {loaded: true, done: !!window.__mdtfMathDone, typeset: typeset, raw: raw.slice(0, 10)};
"""

_ERROR_HOOK = """
window.__mdtfErrors = [];
window.addEventListener('error', e => {
  // resource load failures are plain Events (reported as network entries); script errors are ErrorEvents
  if (e instanceof ErrorEvent) window.__mdtfErrors.push(String(e.message) + ' @ ' + e.filename + ':' + e.lineno);
}, true);
window.addEventListener('unhandledrejection', e => {
  // pausing a playing animation rejects its plotly.animate promise with nothing: not a page error
  if (window.__mdtfPausing && e.reason === undefined) { e.preventDefault(); return; }
  window.__mdtfErrors.push('unhandled rejection: ' + e.reason);
});
"""

_FIGURES_JS = """
return Array.from(document.querySelectorAll('.plotly-graph-div')).map(el => {
  const r = el.getBoundingClientRect();
  const fl = el._fullLayout;
  const wants3d = !!(fl && fl._has && fl._has('gl3d'));
  const is3d = !!el.querySelector('.gl-container canvas');
  const sl = fl && fl.sliders && fl.sliders.length ? fl.sliders[0] : null;
  return {ready: !!fl && (is3d || !wants3d), is3d: is3d || wants3d, in_widget: !!el.closest('.mdtf-w-figure'),
          canvases: el.querySelectorAll('canvas').length, width: r.width, height: r.height,
          frames: (el._transitionData && el._transitionData._frames) ? el._transitionData._frames.length : 0,
          slider: sl && sl.steps[sl.active] ? String(sl.steps[sl.active].label) : null};
});
"""

#: the drawn state of figure ``arguments[0]``: the frame plotly shows and its first 3D trace's coordinates
_PLAY_STATE_JS = """
const el = document.querySelectorAll('.plotly-graph-div')[arguments[0]];
const fl = el._fullLayout, data = el._fullData || [];
const tr = data.find(t => t.type === 'scatter3d') || data[0];
const col = v => v ? Array.from(v).map(x => (x === null || Number.isNaN(x)) ? null : Math.round(x * 1e5) / 1e5) : [];
const sl = fl && fl.sliders && fl.sliders.length ? fl.sliders[0] : null;
return {frame: fl && fl._currentFrame != null ? String(fl._currentFrame) : null,
        slider: sl && sl.steps[sl.active] ? String(sl.steps[sl.active].label) : null,
        coords: tr ? JSON.stringify([col(tr.x), col(tr.y), col(tr.z)]) : ''};
"""


@dataclass
class FigureReport:
    index: int
    is3d: bool
    frames: int
    width: float
    height: float
    ink: float  # fraction of the figure's pixels that are saturated colour (skeleton bones/joints)
    screenshot: str
    in_widget: bool = False  # drawn from a widget's saved state / static copy (mdtf_lite.viz.export)
    slider: str | None = None  # the frame label plotly's slider shows on load (animated figures)
    played: list[str] = field(default_factory=list)  # frames shown while playing (check_html(play_s=...))
    poses_drawn: int = 0  # distinct coordinates of the first 3D trace seen while playing


@dataclass
class PageReport:
    html: str
    figures: list[FigureReport] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)  # network requests the page made (all blocked)
    remote_scripts: list[str] = field(default_factory=list)  # <script src="http..."> in the file itself
    math_loaded: bool = False  # MathJax ran (from the page's local assets)
    math_typeset: int = 0  # typeset formulas on the page
    math_raw: list[str] = field(default_factory=list)  # TeX left as source in rendered markdown
    widget_placeholders: int = 0  # widget outputs the export could not draw
    page_screenshot: str = ""
    seconds: float = 0.0

    played_s: float = 0.0  # seconds each animated figure was played (0: not played)

    def problems(self, min_ink: float = 0.001) -> list[str]:
        """Human-readable reasons this page is broken (empty list: it renders)."""
        out = [f"JavaScript error: {e}" for e in self.js_errors]
        out += [f"network request needed (page is not offline-safe): {u}" for u in self.failed_requests]
        out += [f"the page links a remote script: {u}" for u in self.remote_scripts]
        out += [f"maths left as TeX source: {t!r}" for t in self.math_raw]
        if self.widget_placeholders:
            out.append(f"{self.widget_placeholders} widget output(s) exported as a placeholder, not drawn")
        if not self.figures:
            out.append("no plotly figure rendered")
        for f in self.figures:
            if f.ink < min_ink:
                out.append(
                    f"figure {f.index} ({'3D' if f.is3d else '2D'}) looks blank: ink {f.ink:.4f} < {min_ink} "
                    f"(see {f.screenshot})"
                )
            if self.played_s and f.frames > 1 and (len(set(f.played)) < 2 or f.poses_drawn < 2):
                out.append(
                    f"figure {f.index} has {f.frames} frames but did not animate when played "
                    f"(frames shown {f.played}, {f.poses_drawn} distinct poses drawn)"
                )
        return out


def find_chromium() -> tuple[str, str] | None:
    """(chromium binary, chromedriver) if both exist, else None."""
    browser = os.environ.get("MDTF_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("MDTF_CHROMEDRIVER") or shutil.which("chromedriver")
    if browser and driver and Path(browser).exists() and Path(driver).exists():
        return browser, driver
    return None


def ink_fraction(png: bytes, min_saturation: int = 60) -> float:
    """Fraction of pixels whose colour is saturated (max - min channel >= ``min_saturation``).

    Plotly's axes, grid lines, labels, the scene background and the mode bar are all grey, so on a
    skeleton figure the saturated pixels are the bones and joints.  ``png``: PNG bytes of (H, W, 3|4).
    """
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    if rgb.size == 0:
        return 0.0
    sat = rgb.max(axis=-1) - rgb.min(axis=-1)
    return float((sat >= min_saturation).mean())


def _driver(browser: str, chromedriver: str, profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")  # fresh profile: no state between runs
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=opts)


def check_html(
    html: str | Path,
    out_dir: str | Path,
    *,
    timeout_s: float = 90.0,
    max_figures: int = 24,
    min_ink: float = 0.001,
    settle_s: float = 5.0,
    block_network: bool = True,
    play_s: float = 0.0,
) -> PageReport:
    """Open ``html`` in headless Chromium, wait for plotly, screenshot each figure into ``out_dir``.

    Waits until every ``.plotly-graph-div`` has been plotted (3D ones with their WebGL canvas) and each
    figure shows at least ``min_ink`` skeleton ink (giving a blank-looking figure ``settle_s`` more
    seconds), or ``timeout_s`` passes; then reports.  With ``play_s`` > 0, each animated figure's play
    button (plotly's own) is clicked and the frame shown and the first 3D trace's drawn coordinates are
    sampled for ``play_s`` seconds (``FigureReport.played``, ``poses_drawn``; the page has no kernel).
    Raises FileNotFoundError for a missing page and RuntimeError when Chromium is not installed.
    """
    html = Path(html).resolve()
    if not html.is_file():
        raise FileNotFoundError(f"no HTML page at {html}: execute and export the notebook first")
    tools = find_chromium()
    if tools is None:
        raise RuntimeError(
            "Chromium not found: apt-get install -y chromium chromium-driver "
            "(or set MDTF_CHROMIUM and MDTF_CHROMEDRIVER)"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", html.stem)
    report = PageReport(html=str(html))
    start = time.time()
    profile = tempfile.mkdtemp(prefix="mdtf-chromium-")
    driver = _driver(*tools, profile)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _ERROR_HOOK})
        if block_network:  # the reader is offline: any http(s)/ws request fails (and is reported)
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": list(BLOCKED_URLS)})
        text = html.read_text(encoding="utf-8", errors="replace")
        report.remote_scripts = re.findall(r"<script[^>]*\bsrc=[\"']?((?:https?:)?//[^\"' >]+)", text)
        report.widget_placeholders = text.count("needs a live kernel]")
        driver.get(html.as_uri())
        deadline = start + timeout_s
        figures = []
        while time.time() < deadline:
            figures = driver.execute_script(_FIGURES_JS) or []
            if figures and all(f["ready"] for f in figures):
                break
            time.sleep(0.5)
        elements = driver.find_elements("css selector", ".plotly-graph-div")[:max_figures]
        for i, (el, info) in enumerate(zip(elements, figures)):
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
            shot = out_dir / f"{stem}_fig{i:02d}.png"
            png = el.screenshot_as_png
            ink = ink_fraction(png)
            settle = min(deadline, time.time() + settle_s)
            while ink < min_ink and time.time() < settle:  # WebGL may draw a frame or two later
                time.sleep(0.5)
                png = el.screenshot_as_png
                ink = ink_fraction(png)
            shot.write_bytes(png)
            report.figures.append(
                FigureReport(
                    i,
                    bool(info["is3d"]),
                    int(info["frames"]),
                    info["width"],
                    info["height"],
                    ink,
                    str(shot),
                    bool(info.get("in_widget")),
                    info.get("slider"),
                )
            )
        if play_s > 0:
            report.played_s = float(play_s)
            for f, el in zip(report.figures, elements):
                if f.frames > 1:
                    _play(driver, el, f, play_s)
        math = driver.execute_script(_MATH_JS) or {}
        while math.get("loaded") and not math.get("done") and time.time() < deadline:
            time.sleep(0.5)
            math = driver.execute_script(_MATH_JS) or {}
        report.math_loaded, report.math_typeset = bool(math.get("loaded")), int(math.get("typeset", 0))
        report.math_raw = list(math.get("raw", []))
        driver.execute_script("window.scrollTo(0, 0)")
        page = out_dir / f"{stem}_page.png"
        driver.save_screenshot(str(page))
        report.page_screenshot = str(page)
        report.js_errors = list(driver.execute_script("return window.__mdtfErrors || []"))
        for entry in driver.get_log("browser"):
            msg = entry.get("message", "")
            if entry.get("source") == "network":
                report.failed_requests.append(msg.split(" ", 1)[0])
            elif entry.get("level") == "SEVERE" and msg not in report.js_errors:
                report.js_errors.append(msg)
        if "WebGL is not supported" in driver.find_element("tag name", "body").text:
            report.js_errors.append("plotly says: WebGL is not supported by this browser")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    report.seconds = time.time() - start
    return report


def _play(driver, element, fig: FigureReport, seconds: float, every_s: float = 0.2) -> None:
    """Click the figure's play button, sample what it draws for ``seconds``, then click pause."""
    buttons = element.find_elements("css selector", ".updatemenu-button")
    if not buttons:
        return
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    buttons[0].click()
    poses, end = set(), time.time() + seconds
    while time.time() < end:
        state = driver.execute_script(_PLAY_STATE_JS, fig.index) or {}
        if state.get("frame") is not None and (not fig.played or fig.played[-1] != state["frame"]):
            fig.played.append(state["frame"])
        poses.add(state.get("coords", ""))
        time.sleep(every_s)
    fig.poses_drawn = len(poses - {""})
    if len(buttons) > 1:
        driver.execute_script("window.__mdtfPausing = true")
        buttons[1].click()
        time.sleep(0.5)
        driver.execute_script("window.__mdtfPausing = false")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m mdtf_lite browser",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("html", nargs="+", help="exported notebook pages (.html)")
    ap.add_argument("--out", default=None, help="screenshot folder (default: runs/browser_check)")
    ap.add_argument("--min-ink", type=float, default=0.001)
    ap.add_argument(
        "--play",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also press play on every animated figure and check that it moves",
    )
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else runs_dir() / "browser_check"
    status = 0
    reports = []
    for page in args.html:
        rep = check_html(page, out, min_ink=args.min_ink, play_s=args.play)
        reports.append(asdict(rep))
        problems = rep.problems(args.min_ink)
        print(
            f"{Path(page).name}: {len(rep.figures)} figures ({sum(f.is3d for f in rep.figures)} 3D, "
            f"{sum(f.in_widget for f in rep.figures)} from widgets), {rep.math_typeset} formulas typeset, "
            f"network blocked, {rep.seconds:.1f} s -> {'OK' if not problems else 'BROKEN'}"
        )
        for f in rep.figures:
            played = f" played {len(set(f.played))} frames, {f.poses_drawn} poses" if f.played else ""
            print(
                f"   fig {f.index:2d} {'3D' if f.is3d else '2D'}{' widget' if f.in_widget else ''} "
                f"frames={f.frames:3d} ink={f.ink:.4f}{played} {f.screenshot}"
            )
        for p in problems:
            print(f"   ! {p}")
        status |= bool(problems)
    (out / "report.json").write_text(json.dumps(reports, indent=1))
    print(f"screenshots and report.json in {out}")
    return int(status)
