#!/usr/bin/env python3
"""A tiny HTTP server on 127.0.0.1 that stands in for Slack incoming webhooks (and sluice's
generic JSON webhook) in the black-box tests of `sluice monitor`.

    webhook_listener.py --out POSTS.jsonl [--port-file FILE] [--status 200]

It listens on an ephemeral port of 127.0.0.1, prints the port on stdout (one line, flushed) and,
with --port-file, writes it to FILE (atomically: written beside it, then renamed, so a reader
never sees a partial number). Every POST, whatever its path, is answered with --status (200 by
default, body "ok") and recorded as one JSON line in POSTS.jsonl, flushed before the answer:

    {"path": "/alert", "content_type": "application/json", "body": {"text": "..."},
     "raw": "{\"text\": \"...\"}"}

`body` is the parsed JSON (null when the body is not JSON), `raw` the body as text (UTF-8, bad
bytes replaced). Chunked request bodies are accepted. Other methods get 405 and are not recorded.
It runs until SIGTERM/SIGINT. Python 3 standard library only (Debian's python3 is enough).
"""

import argparse
import http.server
import json
import os
import signal
import sys
import threading


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="file receiving one JSON line per POST")
    parser.add_argument("--port-file", help="file receiving the port number")
    parser.add_argument("--status", type=int, default=200, help="HTTP status to answer POSTs with")
    args = parser.parse_args()

    out = open(args.out, "a", encoding="utf-8")
    write_lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _read_body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()  # the CRLF after each chunk
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, status, text):
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 (http.server's naming)
            raw = self._read_body().decode("utf-8", errors="replace")
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            record = {"path": self.path, "content_type": self.headers.get("Content-Type"),
                      "body": parsed, "raw": raw}
            with write_lock:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
            self._answer(args.status, "ok")

        def _refuse(self):
            self._answer(405, "only POST")

        do_GET = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

        def log_message(self, *_):  # keep the test's output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(port, flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
