#!/usr/bin/env python3
"""Serves ui/ at / and tests/ui-preview/ at /__preview/, with the app's CSP, so the real window
code runs in a browser against mock-tauri.js. ui/ is not changed: index.html gets one extra
<script> tag (the mock) inserted on the way out.

    python3 tests/ui-preview/serve.py [--port 8765]
    open http://127.0.0.1:8765/?state=signed_in&lang=en
"""
import argparse
import http.server
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
UI = ROOT / "ui"
CONF = ROOT / "src-tauri" / "tauri.conf.json"
MOCK_TAG = b'<script src="/__preview/mock-tauri.js"></script>\n  '


def app_csp() -> str:
    """The window's CSP from tauri.conf.json, so a violation shows up in the preview too."""
    try:
        csp = json.loads(CONF.read_text())["app"]["security"]["csp"]
    except (OSError, KeyError, ValueError):
        csp = {"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:"}
    if isinstance(csp, str):
        return csp
    # The only change: the mock (not the app) fetches its fixtures from this server.
    csp = dict(csp)
    csp["connect-src"] = (csp.get("connect-src", "") + " 'self'").strip()
    return "; ".join(f"{k} {v}" for k, v in csp.items())


CSP = app_csp()


class Handler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path.startswith("/__preview/"):
            base, rest = HERE, path[len("/__preview/"):]
        else:
            base, rest = UI, path.lstrip("/")
        target = (base / rest).resolve()
        if base not in target.parents and target != base:
            return str(base / "__nope__")
        return str(target)

    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            html = (UI / "index.html").read_bytes()
            marker = b'<script type="module"'
            if marker not in html:
                self.send_error(500, "ui/index.html has no module script to put the mock before")
                return
            html = html.replace(marker, MOCK_TAG + marker, 1)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)
            return
        super().do_GET()

    def log_message(self, fmt, *args):
        if "--verbose" in sys.argv:
            super().log_message(fmt, *args)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    Handler.extensions_map[".js"] = "text/javascript"
    Handler.extensions_map[".mjs"] = "text/javascript"
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    print(f"ui preview on http://127.0.0.1:{srv.server_address[1]}/?state=signed_in", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
