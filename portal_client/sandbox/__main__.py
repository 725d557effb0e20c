"""``python -m portal_client.sandbox install`` (npm ci, for set-up scripts) or ``serve [--port N] [--no-seed]``."""

from __future__ import annotations

import argparse
import sys

from .launcher import SandboxError, install_node_modules, run_forever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal_client.sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="npm ci the sandbox's Node packages (downloads; set-up only)")
    serve = sub.add_parser("serve", help="run the FHIR sandbox in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8103, help="0 = a free port")
    serve.add_argument("--no-seed", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "install":
        try:
            install_node_modules()
        except SandboxError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    return run_forever(host=args.host, port=args.port, seed=not args.no_seed)


if __name__ == "__main__":
    sys.exit(main())
