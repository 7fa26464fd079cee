"""The book's figures, widgets, animations and exercise helpers.

The only part of cnnlib that imports matplotlib or ipywidgets (the `book` extra:
`pip install -e .[book]`); the library and the command-line tools run without them.

- `palette`: one colour per role, shared by every figure, widget, animation and page;
- `pages`: the frame of the kernel-free pages (inline CSS, data and script; ids);
- `kernels`: classic filters (edges, blur, sharpen) (ch. 3);
- `geometry`: where a filter lands, for the explorers (ch. 4);
- `conv_explorer`: the stride/padding explorer as ipywidgets (ch. 4, in Jupyter);
- `conv_explorer_html`: the same explorer with no kernel, for the static book (ch. 4);
- `receptive_field`: receptive fields of stacked layers (ch. 5, 11);
- `summary`: parameter counts and model tables (ch. 6, 10);
- `viz`: images, filters and feature maps as figures (ch. 1, 3, 11);
- `volumes`: volumes of neurons, filter banks and networks drawn in 3-D (ch. 1, 3-7, 9, 10);
- `animations`: frames computed by cnnlib that play in the static book (ch. 3-5, 7);
- `network_explorer`: the trained network, running in the browser (ch. 11);
- `exercises`: what the exercises' checks share (all chapters);
- `book_runs`: how long the training chapters train (ch. 10-12).

Book: every chapter.
"""
