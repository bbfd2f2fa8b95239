"""The tray's icons, drawn with Pillow: one per state, told apart by colour and by shape.

Free of any GUI toolkit, so the pictures can be made (and tested, and shown in the docs) on a
machine without a display.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from framework.tray.state import TrayState

SIZE = 64
COLOURS = {
    TrayState.IDLE: (37, 99, 171),  # blue
    TrayState.RUNNING: (34, 139, 84),  # green
    TrayState.EXCEPTIONS: (222, 128, 20),  # amber
    TrayState.FAILED: (196, 40, 40),  # red
}


def icon_image(state: TrayState, fraction: float | None = None, size: int = SIZE) -> Image.Image:
    """The icon for a state: a coloured disc with a white sign, told apart by shape too.

    Idle: a check mark; running: a play triangle inside a ring that fills with the progress;
    exceptions: an exclamation mark; failed: a cross.
    """
    scale = 4  # drawn large, then shrunk: smooth edges without a font
    s = size * scale
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    colour = COLOURS[state]
    white = (255, 255, 255, 255)
    pad = s // 32
    draw.ellipse((pad, pad, s - pad, s - pad), fill=(*colour, 255))
    c = s / 2
    w = s // 11
    if state is TrayState.IDLE:
        draw.line(
            [(s * 0.28, s * 0.52), (s * 0.44, s * 0.68), (s * 0.73, s * 0.35)],
            fill=white,
            width=w,
            joint="curve",
        )
    elif state is TrayState.RUNNING:
        ring = s * 0.14
        box = (ring, ring, s - ring, s - ring)
        draw.arc(box, 0, 360, fill=(255, 255, 255, 90), width=w // 2 + 2)
        if fraction:
            end = -90 + 360 * max(0.0, min(1.0, fraction))
            draw.arc(box, -90, end, fill=white, width=w // 2 + 2)
        draw.polygon(
            [(c - s * 0.1, c - s * 0.16), (c - s * 0.1, c + s * 0.16), (c + s * 0.17, c)],
            fill=white,
        )
    elif state is TrayState.EXCEPTIONS:
        draw.rounded_rectangle((c - w / 2, s * 0.2, c + w / 2, s * 0.6), radius=w // 2, fill=white)
        draw.ellipse((c - w * 0.65, s * 0.68, c + w * 0.65, s * 0.68 + w * 1.3), fill=white)
    else:
        k = s * 0.2
        draw.line([(c - k, c - k), (c + k, c + k)], fill=white, width=w)
        draw.line([(c - k, c + k), (c + k, c - k)], fill=white, width=w)
    return image.resize((size, size), Image.Resampling.LANCZOS)
