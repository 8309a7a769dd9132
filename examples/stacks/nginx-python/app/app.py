"""A tiny web app: answers every GET with its host name and who the proxy says asked."""
import http.server
import signal
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        asker = self.headers.get("X-Forwarded-For", "nobody")
        body = f"hello from the app on {socket.gethostname()}, asked by {asker}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# PID 1 gets no default SIGTERM action: leave at once on `stop`/`down`.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("app listening on :8000", flush=True)
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
