#!/usr/bin/env bash
# Copy the JavaScript that the rendered book needs into a local folder, so that the HTML
# works offline: no page may load a script from a CDN.
#
#   MathJax 3 (math)                     -> _vendor/mathjax/tex-mml-chtml.js (+ its lazy parts)
#   require.js + ipywidgets html-manager -> _vendor/widgets/{require,embed-amd}.js (+ fonts)
#
# The packages come from the npm registry with `npm pack` (npm's own cache makes repeats
# cheap). _config.yml points Sphinx at these files (html_static_path, mathjax_path,
# nb_ipywidgets_js). The folder is not called `_static`: Sphinx would add every .js in a
# folder of that name to every page.
#
# Idempotent: when the stamp file names the same versions and the key files exist, it
# does nothing. Usage: tools/vendor_js.sh [DEST]   (default: _vendor beside this script's repo)
set -euo pipefail

MATHJAX_VERSION=3.2.2
REQUIREJS_VERSION=2.3.8
HTML_MANAGER_VERSION=1.0.15

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/_vendor}"
stamp="$dest/.versions"
want="mathjax@$MATHJAX_VERSION requirejs@$REQUIREJS_VERSION @jupyter-widgets/html-manager@$HTML_MANAGER_VERSION"
key_files=(
    "$dest/mathjax/tex-mml-chtml.js"
    "$dest/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"
    "$dest/widgets/require.js"
    "$dest/widgets/embed-amd.js"
)

all_present() {
    local f
    for f in "${key_files[@]}"; do [[ -s "$f" ]] || return 1; done
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && all_present; then
    echo "vendor_js: $dest is up to date ($want)"
    exit 0
fi

command -v npm >/dev/null || { echo "vendor_js: npm is needed (apt-get install npm)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "vendor_js: fetching $want"
(
    cd "$work"
    npm pack --silent "mathjax@$MATHJAX_VERSION" "requirejs@$REQUIREJS_VERSION" \
        "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION" >/dev/null
    for pkg in mathjax requirejs html-manager; do
        mkdir "$pkg"
        tar -xzf ./*"$pkg"-*.tgz -C "$pkg" --strip-components=1
    done
)

# Build the new tree beside the old one, then swap, so an interrupted run leaves no
# half-filled folder behind that the stamp check could mistake for a good one.
new="$work/out"
mkdir -p "$new/mathjax/input" "$new/mathjax/output" "$new/widgets"

# MathJax: the combined TeX+MathML/CHTML component, plus what it loads on demand
# (TeX extensions via autoload, CHTML fonts, the context menu). Not copied: the speech
# engine (sre, ~4 MB), SVG output and the other combined builds.
mj="$work/mathjax/es5"
cp "$mj/tex-mml-chtml.js" "$new/mathjax/"
cp -r "$mj/input/tex" "$mj/input/mml" "$new/mathjax/input/"
cp -r "$mj/output/chtml" "$new/mathjax/output/"
cp -r "$mj/ui" "$mj/a11y" "$new/mathjax/"
cp "$work/mathjax/LICENSE" "$new/mathjax/LICENSE"

# Widgets: require.js (AMD loader) and the html-manager bundle that draws saved widget
# state. The bundle finds its icon fonts relative to its own URL, so they sit beside it.
cp "$work/requirejs/require.js" "$new/widgets/require.js"
hm="$work/html-manager/dist"
cp "$hm/embed-amd.js" "$new/widgets/"
cp "$hm"/*.woff2 "$hm"/*.woff "$hm"/*.ttf "$new/widgets/"

echo "$want" >"$new/.versions"

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$new" "$dest"

for f in "${key_files[@]}"; do
    [[ -s "$f" ]] || { echo "vendor_js: missing $f after copy" >&2; exit 1; }
done
echo "vendor_js: wrote $dest ($(du -sh "$dest" | cut -f1))"
