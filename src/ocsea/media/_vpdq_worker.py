"""Child process for vPDQ: libav aborts the process on some corrupt video (an assertion in
libswscale on a truncated MP4), so video is never decoded in the caller's process.

Usage: python -m ocsea.media._vpdq_worker PATH SECONDS_PER_HASH → one JSON array on stdout.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    import vpdq

    path, seconds = sys.argv[1], float(sys.argv[2])
    try:
        feats = vpdq.computeHash(path, seconds_per_hash=seconds, thread_count=1)
    except Exception as exc:  # the binding raises a bare Exception for unreadable video
        print(json.dumps({"error": str(exc)}))
        return 3
    rows = [[int(f.frame_number), int(f.quality), f.hex, float(f.timestamp)] for f in feats]
    print(json.dumps({"frames": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
