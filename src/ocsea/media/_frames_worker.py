"""Child process that samples a video's key frames for risk scoring (libav can abort the process
on a corrupt file, so video is never decoded in the caller's process; see ``_vpdq_worker``).

Usage: python -m ocsea.media._frames_worker PATH SECONDS MAX_FRAMES MAX_SIDE OUT.npz
Writes OUT.npz (``frames``: N×H×W×3 uint8, ``times``: N seconds) and one JSON line on stdout.
Only key frames are decoded (a long video costs a few decodes a minute, not every frame); at most
one every SECONDS, and at most MAX_FRAMES, spread over the whole video when it has more.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    import av
    import numpy as np

    path, seconds, max_frames, max_side, out = (
        sys.argv[1],
        float(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]),
        sys.argv[5],
    )
    try:
        with av.open(path) as container:
            if not container.streams.video:
                print(json.dumps({"error": "no video stream"}))
                return 3
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            # times from the start of the video (a broadcast capture's clock can start anywhere)
            start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
            duration = float(container.duration / 1_000_000) if container.duration else 0.0
            if duration and max_frames and duration / max(seconds, 1e-9) > max_frames:
                seconds = duration / max_frames  # spread the frames over the whole video
            picked: list[tuple[float, np.ndarray]] = []
            next_t = 0.0
            for frame in container.decode(stream):
                t = max(0.0, float(frame.time) - start) if frame.time is not None else 0.0
                if t + 1e-6 < next_t:
                    continue
                w, h = frame.width, frame.height
                scale = min(1.0, max_side / max(w, h))
                tw, th = max(2, round(w * scale)), max(2, round(h * scale))
                rgb = frame.to_ndarray(format="rgb24", width=tw, height=th)
                turns = (getattr(frame, "rotation", 0) or 0) // 90
                if turns % 4:  # a phone's portrait video is stored on its side
                    rgb = np.ascontiguousarray(np.rot90(rgb, turns))
                picked.append((t, rgb))
                next_t = t + seconds
                if len(picked) >= max_frames:
                    break
    except Exception as exc:  # PyAV raises its own error types for unreadable media
        print(json.dumps({"error": str(exc) or type(exc).__name__}))
        return 3
    if not picked:
        print(json.dumps({"error": "no decodable key frames"}))
        return 3
    shape = max((a.shape for _, a in picked), key=lambda x: x[0] * x[1])
    frames = [a if a.shape == shape else _fit(a, shape) for _, a in picked]
    np.savez(out, frames=np.stack(frames), times=np.array([t for t, _ in picked]))
    print(json.dumps({"frames": len(frames)}))
    return 0


def _fit(a, shape):
    """A frame of another size (a stream that changes resolution) resized to the first one's."""
    import numpy as np
    from PIL import Image

    return np.asarray(Image.fromarray(a).resize((shape[1], shape[0])), dtype=np.uint8)


if __name__ == "__main__":
    sys.exit(main())
