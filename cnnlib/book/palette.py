"""One palette for every figure, widget, animation and web page of the book.

A colour names a role, and a role has one colour on every page: the input is the same
blue in chapter 3's volume drawings, chapter 4's two explorers, the animations and the
network page; zero padding is the same grey wherever it is drawn. Python figures import
the constants; the kernel-free pages get them as CSS custom properties (`css_variables`,
set on each page's root element by `cnnlib.book.html.fragment`), so their CSS and
JavaScript say `var(--cnn-input)` and never a colour of their own.

The strong colours are seaborn's "deep" palette; cells with black numbers on them use
the light version of their role (`light`), which keeps the hue and the numbers readable.

Book: every chapter's figures, widgets and animations.
"""

from __future__ import annotations

# --- roles -------------------------------------------------------------------------------
INPUT = "#4C72B0"      # blue: the input volume, its pixels, the windows that read it
FILTER = "#DD8452"     # orange: filters (weights)
OUTPUT = "#55A868"     # green: output units, activations a layer produced, probabilities
BIAS = "#8172B3"       # purple: biases
GRADIENT = "#C44E52"   # red: gradients flowing back
HIGHLIGHT = "#E6550D"  # what the figure points at now: one filter position, one clicked unit
INVALID = "#B22222"    # a setting that does not fit, an error
PADDING = "#ECECEC"    # zero padding
SKIPPED = "#F6C6C0"    # an input pixel no filter position covers (stride > filter size)
POOLED = "#A7C7E7"     # a pooled volume (a light input blue: the same values, fewer)
NEUTRAL = "#D9D9D9"    # the rest of a volume
# --- ink ---------------------------------------------------------------------------------
TEXT = "#222222"       # numbers and labels
MUTED = "#555555"      # secondary text, operators between grids
FAINT = "#999999"      # numbers in padding cells, which add nothing
GRID = "#7F7F7F"       # cell borders
BLACK = "#000000"      # text on a light pixel
WHITE = "#FFFFFF"      # text on a dark pixel

# Several things of one kind (filters, windows): the roles' colours first, then the rest
# of the same "deep" palette.
SERIES = (FILTER, INPUT, OUTPUT, BIAS, GRADIENT, "#937860", "#DA8BC3", "#CCB974",
          "#64B5CD", "#8C8C8C")

# The names the web pages see, as --cnn-<name> (and --cnn-<name>-light for the tints).
ROLES = {"input": INPUT, "filter": FILTER, "output": OUTPUT, "bias": BIAS,
         "gradient": GRADIENT, "highlight": HIGHLIGHT, "invalid": INVALID,
         "padding": PADDING, "skipped": SKIPPED, "neutral": NEUTRAL, "text": TEXT,
         "muted": MUTED, "grid": GRID}


def light(color: str, amount: float = 0.8) -> str:
    """`color` ("#RRGGBB") mixed with white: amount 0 is the colour, 1 is white."""
    if not (isinstance(color, str) and len(color) == 7 and color[0] == "#"):
        raise ValueError(f"color = {color!r} must be '#RRGGBB'")
    if not 0 <= amount <= 1:
        raise ValueError(f"amount = {amount!r} must be between 0 and 1")
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


def css_variables() -> str:
    """The palette as CSS custom properties for a style attribute: "--cnn-input:#4C72B0;..."."""
    pairs = [(f"--cnn-{name}", value) for name, value in ROLES.items()]
    pairs += [(f"--cnn-{name}-light", light(value)) for name, value in ROLES.items()]
    return ";".join(f"{name}:{value}" for name, value in pairs)
