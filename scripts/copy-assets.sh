#!/usr/bin/env bash
# Copy the web application's vendored styles and scripts from frontend/node_modules (installed by `npm ci` from the
# committed package-lock.json) into the package's static folder, which git ignores.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
modules="$here/frontend/node_modules"
static="$here/src/pbc/web/static/vendor"
rm -rf "$static"
mkdir -p "$static/nhsuk" "$static/vega"
cp "$modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css" "$static/nhsuk/"
cp "$modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js" "$static/nhsuk/"
cp -r "$modules/nhsuk-frontend/dist/nhsuk/assets" "$static/nhsuk/assets"
cp "$modules/vega/build/vega.min.js" "$modules/vega-lite/build/vega-lite.min.js" \
   "$modules/vega-embed/build/vega-embed.min.js" "$static/vega/"
