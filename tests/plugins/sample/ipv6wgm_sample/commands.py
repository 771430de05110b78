"""``ipv6wgm sample-notes``: a plugin's CLI command (``register_commands``).

The handler is a coroutine function, so the CLI runs it in a started runtime (migrated
database, every plugin's state) and closes that before it exits.
"""

from __future__ import annotations

import argparse
import json

from ipv6wgm_sample.models import Note


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--owner", type=int, help="only the notes of this user id")
    parser.add_argument("--json", action="store_true", help="one JSON array instead of lines")


async def list_notes(args: argparse.Namespace) -> int:
    query = Note.all().order_by("id")
    if args.owner is not None:
        query = query.filter(owner_id=args.owner)
    rows = await query.limit(1000).values("id", "owner_id", "text")
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['id']:>6} {row['owner_id']:>6} {row['text']}")
    return 0
