"""The poster of scripts/bench_push.py: POSTs notifications when told, as Thor would.

Run as `python scripts/bench_poster.py PORT` by the benchmark, in a process of its own
so that sending costs nothing to Home Assistant's process, whose CPU time is measured.
Each line of stdin is `PATH BODY`; the body is POSTed as JSON to
http://127.0.0.1:PORT/PATH over one keep-alive connection (opened again after an
error), and the answer's status is written as a line to stdout (0: no answer).
Standard library only: it starts fast.
"""

import http.client
import sys


def main(argv: list[str]) -> int:
    """Post each line of stdin; return the exit status."""
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: bench_poster.py PORT", file=sys.stderr)
        return 2
    connection = http.client.HTTPConnection("127.0.0.1", int(argv[0]), timeout=60)
    headers = {"Content-Type": "application/json"}
    for line in sys.stdin:
        path, _, body = line.rstrip("\n").partition(" ")
        try:
            connection.request("POST", path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except http.client.HTTPException, OSError:
            connection.close()
            status = 0
        sys.stdout.write(f"{status}\n")
        sys.stdout.flush()
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
