"""Print what each learner page weighs on the wire, measured in Chromium (see tests/browser/weight.py).

    .venv/bin/python bench/page_weight.py [--resources] [--axe]

Serves a freshly migrated and seeded SQLite database (or a fresh PostgreSQL one with DATABASE_URL) on a free
loopback port, opens each page with an empty cache, and prints the first-visit total and the HTML alone,
both compressed as sent. `--resources` lists every response; `--axe` prints every axe finding (all impacts).
Needs the Debian `chromium` package; never downloads a browser.
"""

from __future__ import annotations

import sys

# This folder holds http.py (the HTTP benchmark): take it off the import path so it cannot shadow the standard
# library's `http` (urllib, segno and others import it).
if sys.path and sys.path[0] and __file__.startswith(sys.path[0].rstrip("/") + "/"):
    sys.path.pop(0)

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from tests.browser import weight
from tests.browser.live import CHROMIUM_ARGS, chromium_path, serve
from tests.databases import fresh_database

AXE_JS = Path(__file__).resolve().parents[1] / "tests" / "browser" / "vendor" / "axe.min.js"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", action="store_true")
    parser.add_argument("--axe", action="store_true")
    args = parser.parse_args()
    path = chromium_path()
    if path is None:
        sys.exit("no Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as media, fresh_database() as url, serve(url, Path(media)) as server:
        base = server.url("haiphong", "")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            weights = weight.measure_all(browser, base)
            print(weight.table(weights))
            if args.resources:
                for w in weights:
                    print(f"\n{w.name}")
                    for res_url, kind, size, encoding in w.resources:
                        print(f"  {size:>7} B  {kind:<10} {encoding or '-':<5} {res_url.replace(base, '')}")
            if args.axe:
                state, ids = weight.learner_state(browser, base)
                for page_path, (name, signed_in) in weight.LEARNER_PAGES.items():
                    context = browser.new_context(base_url=base, storage_state=state if signed_in else None)
                    page = context.new_page()
                    page.goto(weight.concrete(page_path, ids))
                    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
                    found = page.evaluate(
                        "async () => (await axe.run()).violations.map(v => [v.impact, v.id, v.nodes.length])"
                    )
                    print(f"axe {name}: {found or 'no violation'}")
                    context.close()
            browser.close()


if __name__ == "__main__":
    main()
