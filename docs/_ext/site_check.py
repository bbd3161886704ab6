"""Open the built site in headless Chromium and check it as a reader would see it.

Usage (after ``make docs``)::

    python docs/_ext/site_check.py docs/_build/html --out docs/_build/site-check

For each page of :data:`PAGES` it serves the site over HTTP on localhost (the way a
reader's browser gets it: MathJax fetches its fonts and extensions), lets Chromium run
the page's scripts, then:

* saves a screenshot (``<out>/<page>.png``) and the rendered DOM (``<page>.html``);
* checks that the maths was typeset: a page whose HTML has maths must have MathJax
  containers in the rendered DOM, no MathJax error, and no raw TeX (``\\frac``,
  ``\\sum``, ``\\(`` ...) left in its visible text;
* checks that the gallery and user-guide pages have at least one figure, and that
  every figure in the rendered page was requested by the browser and
  served (HTTP 200) as a non-empty image, and that the browser asked for nothing the
  site does not have (no 404) and nothing outside it (the server is the only one it
  can reach, and any external URL in the page is reported).

Broken links between pages are checked over the whole site by ``tests/test_docs.py``
(``test_no_broken_internal_link``), without a browser. ``tests/test_docs.py`` runs this
check on its own build; ``.ci/run`` installs Debian's ``chromium`` when it is missing.
"""

import argparse
import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path

#: (name, path in the site): the index, the chapter map, an API page with maths, the
#: RL and density user guides, and three gallery pages (one per part of the notes).
PAGES = [
    ("index", "index.html"),
    ("chapter-map", "chapters.html"),
    ("api-ridge", "api/generated/stubs/mlnotes.linear_model.Ridge.html"),
    ("user-guide-rl", "user_guide/rl.html"),
    ("user-guide-density", "user_guide/density.html"),
    ("gallery-kernels-svm", "auto_examples/intro_ml/plot_kernels_svm.html"),
    ("gallery-agents-vs-sb3", "auto_examples/rl/plot_agents_vs_sb3.html"),
    ("gallery-density-samples", "auto_examples/density/plot_density_samples.html"),
]

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# TeX that MathJax would have replaced had it run.
RAW_TEX = re.compile(
    r"\\(?:frac|dfrac|sum|prod|int|mathbb|mathcal|mathrm|operatorname|sqrt|left|right"
    r"|lVert|rVert|begin\{|end\{|alpha|beta|gamma|theta|lambda|sigma|mu)(?![a-zA-Z])"
    r"|\\\(|\\\)|\\\[|\\\]"
)


def find_browser():
    """Path of a Chromium executable, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


class _Text(HTMLParser):
    """Visible text, images and MathJax markers of a rendered DOM."""

    HIDDEN = {"script", "style", "noscript", "template", "head"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.images = [], [], []
        self.math_containers = self.math_errors = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "mjx-container":
            self.math_containers += 1
        if tag == "mjx-merror" or "data-mjx-error" in attrs:
            self.math_errors += 1
        if tag == "img" and attrs.get("src") and not attrs["src"].startswith("data:"):
            self.images.append(attrs["src"])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if not self.HIDDEN & set(self.stack) and "mjx-assistive-mml" not in self.stack:
            self.text.append(data)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _serve(root):
    """Serve ``root`` on a free localhost port; returns (server, log of requests)."""
    log = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_request(self, code="-", size="-"):
            log.append((self.path.split("?")[0].split("#")[0], int(code)))

        def log_message(self, *args):
            pass

    server = _Server(("127.0.0.1", 0),
                     functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, log


def _render(browser, url, screenshot, timeout):
    """Rendered DOM of ``url`` after its scripts ran; writes the screenshot."""
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
             f"--user-data-dir={profile}", "--window-size=1280,3000",
             "--virtual-time-budget=15000", f"--screenshot={screenshot}", "--dump-dom",
             url],
            capture_output=True, text=True, timeout=timeout,
        )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"{browser} failed on {url} (exit {proc.returncode}):\n"
                           + proc.stderr[-2000:])
    return proc.stdout


def _png_ok(path):
    """A PNG that is not one flat colour (a blank or failed screenshot)."""
    data = Path(path).read_bytes() if Path(path).is_file() else b""
    if not data.startswith(b"\x89PNG"):
        return False
    try:
        import matplotlib.image as mpimg
    except ImportError:  # pragma: no cover - matplotlib is in the docs extra
        return len(data) > 10_000
    pixels = mpimg.imread(path)
    return float(pixels[..., :3].std()) > 0.01


def check_site(html_dir, out_dir, pages=PAGES, browser=None, timeout=180):
    """Check ``pages`` of the built site in ``html_dir``; returns a report dict.

    ``report["problems"]`` lists every failed check (empty when all pass);
    ``report["pages"]`` has, per page, the number of typeset formulas and figures.
    """
    html_dir, out_dir = Path(html_dir).resolve(), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("no Chromium found (Debian: apt-get install chromium)")
    server, log = _serve(html_dir)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    problems, summary = [], {}
    try:
        for name, path in pages:
            source = html_dir / path
            if not source.is_file():
                problems.append(f"{path}: not in the built site")
                continue
            start = len(log)
            shot = out_dir / f"{name}.png"
            dom = _render(browser, base + path, shot, timeout)
            (out_dir / f"{name}.html").write_text(dom, encoding="utf-8")
            parsed = _Text()
            parsed.feed(dom)
            text = " ".join(parsed.text)
            has_math = 'class="math' in source.read_text(encoding="utf-8")
            raw = sorted(set(RAW_TEX.findall(text)))
            requests = dict(log[start:])  # path -> last status
            figures = [src for src in parsed.images if "_images/" in src]
            info = {"path": path, "math": parsed.math_containers,
                    "figures": len(figures), "requests": len(requests)}
            summary[name] = info
            if has_math and parsed.math_containers == 0:
                problems.append(f"{path}: has maths but MathJax typeset none")
            if parsed.math_errors:
                problems.append(f"{path}: {parsed.math_errors} MathJax errors")
            if raw:
                problems.append(f"{path}: raw TeX in the visible text: {raw[:8]}")
            if name.startswith(("gallery", "user-guide")) and not figures:
                problems.append(f"{path}: no figure in the rendered page")
            for src in figures:
                target = (source.parent / src).resolve()
                served = "/" + target.relative_to(html_dir).as_posix()
                if requests.get(served) != 200:
                    problems.append(f"{path}: figure {src} not loaded "
                                    f"(HTTP {requests.get(served, 'never requested')})")
                elif not _png_ok(target) and target.suffix == ".png":
                    problems.append(f"{path}: figure {src} is empty or blank")
            missing = [p for p, code in requests.items() if code >= 400]
            if missing:
                problems.append(f"{path}: the browser got errors for {missing[:8]}")
            if not _png_ok(shot):
                problems.append(f"{path}: blank or missing screenshot")
    finally:
        server.shutdown()
        server.server_close()
    report = {"browser": browser, "pages": summary, "problems": problems}
    (out_dir / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", default="docs/_build/html")
    parser.add_argument("--out", default="docs/_build/site-check")
    args = parser.parse_args(argv)
    report = check_site(args.html, args.out)
    for name, info in report["pages"].items():
        print(f"{name:26s} {info['math']:4d} formulas  {info['figures']:2d} figures  "
              f"{info['path']}")
    for problem in report["problems"]:
        print("PROBLEM:", problem)
    print(f"screenshots in {args.out}")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
