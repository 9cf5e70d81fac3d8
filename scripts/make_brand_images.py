"""Draw the brand images of the Thor integration into custom_components/thor/brand/.

Our own design, not Thor's artwork (none is available): a white hammer whose handle is a
yellow lightning bolt, on a blue rounded square; the logo adds a geometric "THOR"
wordmark. Everything is drawn from shapes (no fonts), four times larger than needed and
scaled down, so the output is the same on every machine.

Run: .venv/bin/python scripts/make_brand_images.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "thor" / "brand"
SUPERSAMPLE = 4

TOP_COLOUR = (41, 98, 255)
BOTTOM_COLOUR = (21, 38, 122)
HAMMER = (255, 255, 255, 255)
BOLT = (255, 205, 41, 255)
INK_LIGHT = (21, 38, 122, 255)
"""Wordmark on light backgrounds."""
INK_DARK = (236, 241, 255, 255)
"""Wordmark on dark backgrounds."""

type Point = tuple[float, float]


def _gradient_square(size: int) -> Image.Image:
    """Return a rounded square filled with a vertical blue gradient."""
    gradient = Image.new("RGBA", (size, size))
    draw = ImageDraw.Draw(gradient)
    for y in range(size):
        t = y / (size - 1)
        colour = tuple(
            round(top + (bottom - top) * t)
            for top, bottom in zip(TOP_COLOUR, BOTTOM_COLOUR, strict=True)
        )
        draw.line((0, y, size - 1, y), fill=(*colour, 255))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, size - 1, size - 1), radius=round(size * 0.22), fill=255
    )
    square = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    square.paste(gradient, mask=mask)
    return square


def _scaled(
    points: list[Point], size: int, dx: float = 0, dy: float = 0
) -> list[Point]:
    """Scale unit-square points to `size` pixels, then move them."""
    return [(x * size + dx, y * size + dy) for x, y in points]


def _draw_glyph(draw: ImageDraw.ImageDraw, size: int, dx: float, dy: float) -> None:
    """Draw the hammer-and-bolt glyph in a `size` square at (dx, dy)."""
    # The head: a wide block with bevelled ends.
    head = [
        (0.20, 0.22),
        (0.80, 0.22),
        (0.86, 0.28),
        (0.86, 0.42),
        (0.80, 0.48),
        (0.20, 0.48),
        (0.14, 0.42),
        (0.14, 0.28),
    ]
    draw.polygon(_scaled(head, size, dx, dy), fill=HAMMER)
    # The handle: a lightning bolt striking down from the head.
    bolt = [
        (0.53, 0.44),
        (0.64, 0.44),
        (0.56, 0.62),
        (0.66, 0.62),
        (0.42, 0.90),
        (0.49, 0.68),
        (0.39, 0.68),
        (0.46, 0.44),
    ]
    draw.polygon(_scaled(bolt, size, dx, dy), fill=BOLT)


def icon(size: int) -> Image.Image:
    """Return the square icon, `size` pixels wide."""
    big = size * SUPERSAMPLE
    image = _gradient_square(big)
    _draw_glyph(ImageDraw.Draw(image), big, 0, 0)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _draw_wordmark(
    draw: ImageDraw.ImageDraw, x: float, y: float, height: float, ink: tuple[int, ...]
) -> float:
    """Draw "THOR" from strokes with its top-left corner at (x, y); return its width."""
    stroke = height * 0.2
    width = height * 0.72
    gap = height * 0.22
    fill = tuple(ink)

    def rect(x0: float, y0: float, x1: float, y1: float) -> None:
        draw.rectangle((x0, y0, x1, y1), fill=fill)

    # T
    rect(x, y, x + width, y + stroke)
    rect(x + (width - stroke) / 2, y, x + (width + stroke) / 2, y + height)
    x += width + gap
    # H
    rect(x, y, x + stroke, y + height)
    rect(x + width - stroke, y, x + width, y + height)
    rect(x, y + (height - stroke) / 2, x + width, y + (height + stroke) / 2)
    x += width + gap
    # O: a thick ring.
    o_width = width * 1.12
    draw.rounded_rectangle(
        (x, y, x + o_width, y + height), radius=o_width / 2, fill=fill
    )
    draw.rounded_rectangle(
        (x + stroke, y + stroke, x + o_width - stroke, y + height - stroke),
        radius=(o_width - 2 * stroke) / 2,
        fill=(0, 0, 0, 0),
    )
    x += o_width + gap
    # R: stem, bowl and leg.
    bowl = height * 0.58
    rect(x, y, x + stroke, y + height)
    draw.rounded_rectangle((x, y, x + width, y + bowl), radius=bowl / 2, fill=fill)
    draw.rounded_rectangle(
        (x + stroke, y + stroke, x + width - stroke, y + bowl - stroke),
        radius=(bowl - 2 * stroke) / 2,
        fill=(0, 0, 0, 0),
    )
    # Square off the inside of the bowl where it meets the stem.
    draw.rectangle(
        (x + stroke, y + stroke, x + width / 2, y + bowl - stroke), fill=(0, 0, 0, 0)
    )
    rect(x, y, x + width / 2, y + stroke)
    rect(x, y + bowl - stroke, x + width / 2, y + bowl)
    draw.polygon(
        [
            (x + width * 0.38, y + bowl - stroke),
            (x + width * 0.38 + stroke * 1.1, y + bowl - stroke),
            (x + width, y + height),
            (x + width - stroke * 1.1, y + height),
        ],
        fill=fill,
    )
    return x + width


def logo(height: int, ink: tuple[int, ...]) -> Image.Image:
    """Return the landscape logo (icon and wordmark), `height` pixels high."""
    big = height * SUPERSAMPLE
    canvas = Image.new("RGBA", (big * 4, big), (0, 0, 0, 0))
    canvas.alpha_composite(_gradient_square(big))
    _draw_glyph(ImageDraw.Draw(canvas), big, 0, 0)
    letters = big * 0.56
    right = _draw_wordmark(
        ImageDraw.Draw(canvas), big * 1.2, (big - letters) / 2, letters, ink
    )
    canvas = canvas.crop((0, 0, round(right + big * 0.02), big))
    width = round(canvas.width / SUPERSAMPLE)
    return canvas.resize((width, height), Image.Resampling.LANCZOS)


def main() -> None:
    """Write every brand image."""
    BRAND.mkdir(parents=True, exist_ok=True)
    images = {
        "icon.png": icon(256),
        "icon@2x.png": icon(512),
        "logo.png": logo(128, INK_LIGHT),
        "logo@2x.png": logo(256, INK_LIGHT),
        "dark_logo.png": logo(128, INK_DARK),
        "dark_logo@2x.png": logo(256, INK_DARK),
    }
    for name, image in images.items():
        image.save(BRAND / name, optimize=True)
        print(f"{name}: {image.width}x{image.height}")


if __name__ == "__main__":
    main()
